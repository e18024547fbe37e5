// The verifier an audit round decides with: the webhook's own CachingVerifier (same cache, same
// answers), asked once per image per round. Every pod of a round that names an image shares the
// one verification of it, whatever the cache's TTL, and each verification the round starts waits
// for a token of the trust-lookup rate limit first, so a round's load on trust servers is bounded
// by its distinct images and by the rate, never by its pod count.
import type { AnySpec, ImageVerifier } from '../admission/index.js';
import { formatNormalized, type ImageReference } from '../reference/index.js';
import { credentialsFingerprint, type Credentials } from '../registry/index.js';
import { TrustError, type Verified } from '../trust/index.js';
import type { TokenBucket } from './rate.js';

/**
 * The fair-share key the audit's verifications wait under (src/admission/fair-share.ts): one
 * that no namespace can have (a space is not in DNS-1123), so the whole audit gets one
 * namespace's share of the trust servers, and admission's namespaces keep theirs.
 */
export const AUDIT_FAIR_SHARE_KEY = ' audit';

type Settled = { readonly ok: Verified } | { readonly error: TrustError };

export class RoundVerifier implements ImageVerifier {
  private readonly memo = new Map<string, { promise: Promise<Verified>; settled: Settled | undefined }>();
  private readonly specIds = new WeakMap<AnySpec, number>();
  private nextSpec = 0;
  /** Verifications this round started (each one lookup of the shared cache). */
  lookups = 0;

  constructor(
    private readonly inner: ImageVerifier,
    private readonly rate: TokenBucket,
    /** Distinct verifications a round keeps; past it, each ask goes to the cache (still bounded by the rate). */
    private readonly maxEntries: number,
  ) {}

  private key(ref: ImageReference, spec: AnySpec, credentials: Credentials | undefined): string {
    let id = this.specIds.get(spec);
    if (id === undefined) {
      id = this.nextSpec++;
      this.specIds.set(spec, id);
    }
    return `${id} ${formatNormalized(ref)} ${credentialsFingerprint(credentials)}`;
  }

  peek(ref: ImageReference, spec: AnySpec, credentials: Credentials | undefined): Verified | TrustError | undefined {
    const held = this.memo.get(this.key(ref, spec, credentials))?.settled;
    if (held) return 'ok' in held ? held.ok : held.error;
    // Not asked this round yet: asked through verify(), so the round counts it once.
    return undefined;
  }

  verify(ref: ImageReference, spec: AnySpec, credentials: Credentials | undefined): Promise<Verified> {
    const key = this.key(ref, spec, credentials);
    const held = this.memo.get(key);
    if (held) return held.promise;
    // No review's signal: the pods sharing this verification must not lose it when one gives up;
    // the cache's own timeout (deadlineSeconds) bounds it.
    const promise = this.rate.take().then(() => {
      this.lookups++;
      return this.inner.verify(ref, spec, credentials, AUDIT_FAIR_SHARE_KEY);
    });
    if (this.memo.size >= this.maxEntries) return promise;
    const entry: { promise: Promise<Verified>; settled: Settled | undefined } = { promise, settled: undefined };
    this.memo.set(key, entry);
    promise.then(
      (ok) => (entry.settled = { ok }),
      (error: unknown) => (entry.settled = { error: error instanceof TrustError ? error : new TrustError('SERVER_ERROR', String(error)) }),
    );
    return promise;
  }

  /** Distinct verifications held this round. */
  get size(): number {
    return this.memo.size;
  }
}
