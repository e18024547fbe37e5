// A scripted ImageVerifier for unit tests of the decision logic only. Integration tests use the
// real one against Debian's notary-server.
import type { ImageVerifier } from '../../src/admission/index.js';
import { formatNormalized, formatPinned, type ImageReference } from '../../src/reference/index.js';
import { TrustError, type VerifiedImage } from '../../src/trust/index.js';

export class ScriptedVerifier implements ImageVerifier {
  readonly calls: string[] = [];
  /** References verified before: `peek` answers for these, as a cache would. */
  private readonly known = new Set<string>();
  /** Normalised name:tag → digest signed, or an error code. */
  constructor(private readonly script: Record<string, string>, private readonly delayMs = 0) {}

  async verify(ref: ImageReference): Promise<VerifiedImage> {
    this.calls.push(ref.written);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    this.known.add(ref.written);
    const answer = this.answer(ref);
    if (answer instanceof TrustError) throw answer;
    return answer;
  }

  peek(ref: ImageReference): VerifiedImage | TrustError | undefined {
    return this.known.has(ref.written) ? this.answer(ref) : undefined;
  }

  private answer(ref: ImageReference): VerifiedImage | TrustError {
    const key = `${ref.name}:${ref.tag ?? 'latest'}`;
    const answer = this.script[key];
    if (answer === undefined) return new TrustError('TAG_NOT_SIGNED', `tag "${ref.tag ?? 'latest'}" of ${ref.name} is not signed`);
    if (!answer.startsWith('sha256:')) return new TrustError(answer as never, `scripted ${answer} for ${formatNormalized(ref)}`);
    if (ref.digest !== undefined && ref.digest !== answer) return new TrustError('DIGEST_NOT_SIGNED', `tag is signed for ${answer}, not ${ref.digest}`);
    return {
      image: ref.name, reference: formatPinned(ref, answer), digest: answer, tag: ref.tag ?? 'latest', signedTags: [ref.tag ?? 'latest'],
      signedBy: ['targets'], rootKeyId: 'r'.repeat(64), trustOnFirstUse: true, trustServer: 'https://notary.test', unchecked: false, expires: 4_102_444_800_000,
    };
  }
}
