// Verification as the webhook uses it: each authority's spec goes to its kind's verifier
// (src/trust/kind.ts), through one verification cache (verification-cache.ts) keyed by what
// decides the answer: kind, the kind's key of the spec, endpoint, image and credentials.
import { createHash } from 'node:crypto';
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
  /** Per compiled spec: its kind's verifier and cache-key part (entries go with their policy). */
  private readonly specs = new WeakMap<AuthoritySpec, SpecKind>();
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

  /**
   * The spec's verifier and key part, once per compiled spec: a review of the cached steady state
   * pays one WeakMap lookup for both (the spec lives as long as its policy).
   */
  private kindOf(spec: AuthoritySpec): SpecKind | undefined {
    let kind = this.specs.get(spec);
    if (kind === undefined) {
      const verifier = this.kinds.get(spec.kind);
      if (verifier === undefined) return undefined;
      // A fixed-size digest, not the spec key itself: a kind's key may be long (a cosign spec
      // key names every identity as written, ~230 KB for a tenant's), and it is part of every
      // cache, in-flight and fair-share key of the spec; the digest is computed once per spec.
      const digest = createHash('sha256').update(verifier.specKey(spec)).digest('base64url');
      kind = { verifier, key: `${spec.kind} ${digest}` };
      this.specs.set(spec, kind);
    }
    return kind;
  }

  /** Repositories being verified and waiting for their namespace's turn (metrics). */
  verifications(): { running: number; waiting: number } {
    return this.cache.verifications();
  }

  peek(ref: ImageReference, spec: AnySpec, credentials: Credentials | undefined): Verified | TrustError | undefined {
    const kind = this.kindOf(spec);
    if (kind === undefined) return unsupported(spec.kind);
    return this.cache.peek(cacheKey(kind, kind.verifier.endpoint(ref, spec), ref, credentials));
  }

  async verify(ref: ImageReference, spec: AnySpec, credentials: Credentials | undefined, namespace = '', signal?: AbortSignal): Promise<Verified> {
    const kind = this.kindOf(spec);
    if (kind === undefined) throw unsupported(spec.kind);
    const { verifier } = kind;
    const endpoint = verifier.endpoint(ref, spec);
    const timeoutMs = this.options.timeoutMs;
    return this.cache.get(
      {
        key: cacheKey(kind, endpoint, ref, credentials),
        namespace,
        // One slot per repository: its tags share one load (the trust client's, the registry's).
        group: `${endpoint} ${ref.name} ${credentialsFingerprint(credentials)} ${kind.key}`,
        what: `verification of ${ref.written}`,
        kind: spec.kind,
        load: (stop) => verifier.verify(ref, spec, { credentials, signal: stop, timeoutMs }),
      },
      signal,
    );
  }
}

/**
 * A compiled spec's verifier, and its part of the cache key: its kind, then the SHA-256 of the
 * kind's key of it (fixed size whatever the spec).
 */
interface SpecKind {
  readonly verifier: AnyKindVerifier;
  readonly key: string;
}

function unsupported(kind: TrustKind): TrustError {
  return new TrustError('INVALID_OPTION', `this trustgate has no verifier for trust kind "${kind}"`);
}

/**
 * Everything that decides a verification's answer: the kind and its key of the spec, the
 * endpoint, the image, and the credentials (refusals such as AUTH_FAILED depend on who asked).
 */
function cacheKey(kind: SpecKind, endpoint: string, ref: ImageReference, credentials: Credentials | undefined): string {
  return `${endpoint} ${formatNormalized(ref)} ${credentialsFingerprint(credentials)} ${kind.key}`;
}
