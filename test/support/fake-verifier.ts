// Scripted verifiers for unit tests of the decision logic and of the seam only. Integration
// tests use the real ones against Debian's notary-server (and, for cosign, the real registry).
import type { ImageVerifier } from '../../src/admission/index.js';
import { formatNormalized, formatPinned, type ImageReference } from '../../src/reference/index.js';
import { TrustError, TrustKind, type AuthoritySpec, type Evidence, type KindVerifier, type Verified, type VerifyContext } from '../../src/trust/index.js';

/** A far expiry: 2100-01-01. */
export const FAR = 4_102_444_800_000;

/**
 * Answers like a cached verifier of one kind: `script` maps normalised name:tag to the digest
 * signed (`unchecked:sha256:…` for one admitted without trust being established), or to an
 * error code. Verified answers carry that kind's evidence.
 */
export class ScriptedVerifier implements ImageVerifier {
  readonly calls: string[] = [];
  /** References verified before: `peek` answers for these, as a cache would. */
  private readonly known = new Set<string>();
  /** Normalised name:tag → digest signed, or an error code. */
  constructor(
    private readonly script: Record<string, string>,
    private readonly delayMs = 0,
    private readonly kind: TrustKind = TrustKind.NOTARY,
  ) {}

  async verify(ref: ImageReference, _spec?: AuthoritySpec, _credentials?: unknown, _namespace?: string, signal?: AbortSignal): Promise<Verified> {
    this.calls.push(ref.written);
    if (this.delayMs > 0) await delay(this.delayMs, signal);
    this.known.add(ref.written);
    const answer = this.answer(ref);
    if (answer instanceof TrustError) throw answer;
    return answer;
  }

  peek(ref: ImageReference): Verified | TrustError | undefined {
    return this.known.has(ref.written) ? this.answer(ref) : undefined;
  }

  private answer(ref: ImageReference): Verified | TrustError {
    const key = `${ref.name}:${ref.tag ?? 'latest'}`;
    const answer = this.script[key];
    if (answer === undefined) return new TrustError('TAG_NOT_SIGNED', `tag "${ref.tag ?? 'latest'}" of ${ref.name} is not signed`);
    // `unchecked:sha256:…`: admitted without establishing trust (allowUnsignedDigests, Notation's audit or skip).
    if (answer.startsWith('unchecked:sha256:')) return { ...verifiedAs(this.kind, ref, answer.slice('unchecked:'.length)), unchecked: true };
    if (!answer.startsWith('sha256:')) return new TrustError(answer as never, `scripted ${answer} for ${formatNormalized(ref)}`);
    if (ref.digest !== undefined && ref.digest !== answer) return new TrustError('DIGEST_NOT_SIGNED', `tag is signed for ${answer}, not ${ref.digest}`);
    return verifiedAs(this.kind, ref, answer);
  }
}

/** A verified answer of `kind` for `ref` at `digest`, with evidence of that kind's shape. */
export function verifiedAs(kind: TrustKind, ref: ImageReference, digest: string, expires = FAR): Verified {
  return { kind, image: ref.name, reference: formatPinned(ref, digest), digest, tag: ref.tag ?? 'latest', unchecked: false, expires, evidence: evidenceOf(kind, ref) };
}

function evidenceOf(kind: TrustKind, ref: ImageReference): Evidence {
  switch (kind) {
    case TrustKind.NOTARY:
      return { kind, trustServer: 'https://notary.test', rootKeyId: 'r'.repeat(64), trustOnFirstUse: true, signedTags: [ref.tag ?? 'latest'], signedBy: ['targets'] };
    case TrustKind.COSIGN:
      return { kind, registry: ref.registry, signatures: [{ format: 'bundle', manifestDigest: `sha256:${'5'.repeat(64)}`, keyId: 'k'.repeat(64) }] };
    case TrustKind.NOTATION:
      return {
        kind,
        registry: ref.registry,
        trustPolicy: 'test',
        level: 'strict',
        signatures: [{ envelope: 'jws', manifestDigest: `sha256:${'6'.repeat(64)}`, signingScheme: 'notary.x509', signer: 'CN=test,O=Test,ST=WA,C=US', certificate: 'c'.repeat(64), signedAt: undefined, expiry: undefined }],
        logged: [],
      };
  }
}

/**
 * An ImageVerifier of several kinds: each authority's spec goes to the script of its kind, as the
 * CachingVerifier dispatches to each kind's verifier. A kind without a script is refused the way
 * the real one refuses a kind it has no verifier for.
 */
export class KindsVerifier implements ImageVerifier {
  readonly byKind: Partial<Record<TrustKind, ScriptedVerifier>> = {};

  constructor(scripts: Partial<Record<TrustKind, Record<string, string>>>, delays: Partial<Record<TrustKind, number>> = {}) {
    for (const [kind, script] of Object.entries(scripts) as [TrustKind, Record<string, string>][]) this.byKind[kind] = new ScriptedVerifier(script, delays[kind] ?? 0, kind);
  }

  verify(ref: ImageReference, spec: AuthoritySpec, credentials?: unknown, namespace?: string, signal?: AbortSignal): Promise<Verified> {
    const v = this.byKind[spec.kind];
    return v ? v.verify(ref, spec, credentials, namespace, signal) : Promise.reject(new TrustError('INVALID_OPTION', `no verifier for trust kind "${spec.kind}"`));
  }

  peek(ref: ImageReference, spec: AuthoritySpec): Verified | TrustError | undefined {
    const v = this.byKind[spec.kind];
    return v ? v.peek(ref) : new TrustError('INVALID_OPTION', `no verifier for trust kind "${spec.kind}"`);
  }
}

/** The spec of the fake second kind: `key` stands for everything of a spec that decides the answer. */
export interface FakeSpec extends AuthoritySpec {
  readonly kind: TrustKind;
  readonly key: string;
}

export const fakeSpec = (key = 'k1', kind: TrustKind = TrustKind.COSIGN): FakeSpec => ({ kind, key });

/** One scripted answer: a digest (verified, expiring at `expires`), or a refusal code. */
export type FakeAnswer = string | { readonly digest: string; readonly expires: number };

/**
 * A second kind of trust for tests of the seam (the verification cache, the dispatch): it
 * answers from a script, counts its verifications, and honours the abort signal the way a real
 * verifier must (its pending "fetch" stops, and it rejects with TIMEOUT).
 */
export class FakeKindVerifier implements KindVerifier<FakeSpec> {
  /** Verifications started, by normalised reference. */
  readonly started: string[] = [];
  /** Verifications stopped by their signal. */
  aborted = 0;
  readonly contexts: VerifyContext[] = [];

  constructor(
    readonly script: Record<string, FakeAnswer>,
    private readonly delayMs = 0,
    /** The kind it answers as (its specs are still FakeSpecs). */
    readonly kind: TrustKind = TrustKind.COSIGN,
  ) {}

  specKey(spec: FakeSpec): string {
    return spec.key;
  }

  endpoint(ref: ImageReference): string {
    return `https://${ref.registry}`;
  }

  async verify(ref: ImageReference, _spec: FakeSpec, ctx: VerifyContext): Promise<Verified> {
    this.started.push(formatNormalized(ref));
    this.contexts.push(ctx);
    if (this.delayMs > 0) {
      try {
        await delay(this.delayMs, ctx.signal);
      } catch (error) {
        this.aborted++;
        throw error;
      }
    }
    const answer = this.script[`${ref.name}:${ref.tag ?? 'latest'}`];
    if (answer === undefined) throw new TrustError('NO_SIGNATURES', `no signatures for ${formatNormalized(ref)}`);
    if (typeof answer === 'string' && !answer.startsWith('sha256:')) throw new TrustError(answer as never, `scripted ${answer} for ${formatNormalized(ref)}`);
    const { digest, expires } = typeof answer === 'string' ? { digest: answer, expires: FAR } : answer;
    return verifiedAs(this.kind, ref, digest, expires);
  }
}

/** Waits `ms`, or rejects with TIMEOUT as soon as `signal` aborts. */
function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const stop = () => {
      clearTimeout(timer);
      reject(new TrustError('TIMEOUT', 'aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    if (signal?.aborted) stop();
    else signal?.addEventListener('abort', stop, { once: true });
  });
}
