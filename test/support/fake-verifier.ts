// A scripted ImageVerifier for unit tests of the decision logic only. Integration tests use the
// real one against Debian's notary-server.
import type { ImageVerifier } from '../../src/admission/index.js';
import { formatNormalized, formatPinned, type ImageReference } from '../../src/reference/index.js';
import { TrustError, type VerifiedImage } from '../../src/trust/index.js';

export class ScriptedVerifier implements ImageVerifier {
  readonly calls: string[] = [];
  /** Normalised name:tag → digest signed, or an error code. */
  constructor(private readonly script: Record<string, string>, private readonly delayMs = 0) {}

  async verify(ref: ImageReference): Promise<VerifiedImage> {
    this.calls.push(ref.written);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const key = `${ref.name}:${ref.tag ?? 'latest'}`;
    const answer = this.script[key];
    if (answer === undefined) throw new TrustError('TAG_NOT_SIGNED', `tag "${ref.tag ?? 'latest'}" of ${ref.name} is not signed`);
    if (!answer.startsWith('sha256:')) throw new TrustError(answer as never, `scripted ${answer} for ${formatNormalized(ref)}`);
    if (ref.digest !== undefined && ref.digest !== answer) throw new TrustError('DIGEST_NOT_SIGNED', `tag is signed for ${answer}, not ${ref.digest}`);
    return {
      image: ref.name, reference: formatPinned(ref, answer), digest: answer, tag: ref.tag ?? 'latest', signedTags: [ref.tag ?? 'latest'],
      signedBy: ['targets'], rootKeyId: 'r'.repeat(64), trustOnFirstUse: true, trustServer: 'https://notary.test', unchecked: false, expires: Date.now() + 3_600_000,
    };
  }
}
