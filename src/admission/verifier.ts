// Verification as the webhook uses it: each authority's spec goes to its kind's verifier
// (src/trust/kind.ts), through one verification cache (verification-cache.ts) keyed by what
// decides the answer: kind, the kind's key of the spec, endpoint, image and credentials.
import { formatNormalized, type ImageReference } from '../reference/index.js';
import { credentialsFingerprint, type Credentials } from '../registry/index.js';
import { NotaryVerifier, TrustClient, TrustError, type AuthoritySpec, type KindVerifier, type NotarySpec, type TrustKind, type Verified } from '../trust/index.js';
import { VerificationCache, type CacheObserver, type CacheOptions } from './verification-cache.js';

export type { CacheObserver, CacheOptions } from './verification-cache.js';

/**
 * A compiled authority spec of any kind, dispatched on its `kind`. NotarySpec is named so that a
 * Notary spec written out (`{...spec, signers}`) is checked field by field.
 */
export type AnySpec = NotarySpec | AuthoritySpec;

export interface ImageVerifier {
  /**
   * Resolves to the verified image or rejects with a TrustError. A verification that must fetch
   * waits for `namespace`'s turn (src/admission/fair-share.ts); `signal` aborts when the review
   * stops waiting (its deadline), which stops the fetches nobody else waits for.
   */
  verify(ref: ImageReference, spec: AnySpec, credentials: Credentials | undefined, namespace?: string, signal?: AbortSignal): Promise<Verified>;
  /**
   * The answer `verify` would give now, if it is already known (cached and fresh); else
   * undefined. Never starts a verification.
   */
  peek(ref: ImageReference, spec: AnySpec, credentials: Credentials | undefined): Verified | TrustError | undefined;
}

/** Any kind's verifier, called with specs of its kind only (dispatch on spec.kind). */
type AnyKindVerifier = KindVerifier<AuthoritySpec>;

export class CachingVerifier implements ImageVerifier {
  private readonly kinds = new Map<TrustKind, AnyKindVerifier>();
  private readonly cache: VerificationCache;

  /**
   * @param kinds the verifier of each kind of trust served; a TrustClient alone stands for
   *   Notary only (with `options.servers`), as before there were kinds.
   */
  constructor(
    kinds: TrustClient | readonly KindVerifier<never>[],
    private readonly options: CacheOptions,
    observer: CacheObserver,
  ) {
    const list = kinds instanceof TrustClient ? [new NotaryVerifier(kinds, options.servers)] : kinds;
    for (const verifier of list as readonly AnyKindVerifier[]) {
      if (this.kinds.has(verifier.kind)) throw new Error(`two verifiers for trust kind ${verifier.kind}`);
      this.kinds.set(verifier.kind, verifier);
    }
    this.cache = new VerificationCache(options, observer);
  }

  /** Repositories being verified and waiting for their namespace's turn (metrics). */
  verifications(): { running: number; waiting: number } {
    return this.cache.verifications();
  }

  peek(ref: ImageReference, spec: AnySpec, credentials: Credentials | undefined): Verified | TrustError | undefined {
    const verifier = this.kinds.get(spec.kind);
    if (verifier === undefined) return unsupported(spec.kind);
    return this.cache.peek(cacheKey(verifier, verifier.endpoint(ref, spec), ref, spec, credentials));
  }

  async verify(ref: ImageReference, spec: AnySpec, credentials: Credentials | undefined, namespace = '', signal?: AbortSignal): Promise<Verified> {
    const verifier = this.kinds.get(spec.kind);
    if (verifier === undefined) throw unsupported(spec.kind);
    const endpoint = verifier.endpoint(ref, spec);
    const timeoutMs = this.options.timeoutMs;
    return this.cache.get(
      {
        key: cacheKey(verifier, endpoint, ref, spec, credentials),
        namespace,
        // One slot per repository: its tags share one load (the trust client's, the registry's).
        group: `${spec.kind} ${endpoint} ${ref.name} ${credentialsFingerprint(credentials)} ${verifier.specKey(spec)}`,
        what: `verification of ${ref.written}`,
        kind: spec.kind,
        load: (stop) => verifier.verify(ref, spec, { credentials, signal: stop, timeoutMs }),
      },
      signal,
    );
  }
}

function unsupported(kind: TrustKind): TrustError {
  return new TrustError('INVALID_OPTION', `this trustgate has no verifier for trust kind "${kind}"`);
}

/** Everything that decides a verification's answer; refusals such as AUTH_FAILED depend on who asked. */
function cacheKey(verifier: AnyKindVerifier, endpoint: string, ref: ImageReference, spec: AuthoritySpec, credentials: Credentials | undefined): string {
  return `${spec.kind} ${endpoint} ${formatNormalized(ref)} ${credentialsFingerprint(credentials)} ${verifier.specKey(spec)}`;
}
