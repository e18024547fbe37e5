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
  /** Verifications refused because the round's budget was spent. */
  refused = 0;
  /** The namespace being audited: what it may still start, and has started. */
  private share = Infinity;
  private started = 0;

  constructor(
    private readonly inner: ImageVerifier,
    private readonly rate: TokenBucket,
    /**
     * Distinct verifications one round may start. Past it, the others are refused for this round
     * (an `error` result): at the rate limit, a tenant's pods naming thousands of distinct images
     * would otherwise make one round last for hours.
     */
    private readonly maxEntries: number,
  ) {}

  /**
   * A namespace's turn starts (round.ts audits one at a time): it may start a fair share of what
   * is left of the round's budget, so a tenant's namespace of thousands of distinct images
   * cannot spend it all and leave the namespaces after it unverified.
   */
  startNamespace(namespacesLeft: number): void {
    this.share = Math.ceil((this.maxEntries - this.memo.size) / Math.max(1, namespacesLeft));
    this.started = 0;
  }

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
    if (this.memo.size >= this.maxEntries || this.started >= this.share) {
      this.refused++;
      return Promise.reject(new TrustError('TIMEOUT', `not verified this round: the audit verifies at most ${this.maxEntries} distinct images per round, each namespace a fair share`));
    }
    // No review's signal: the pods sharing this verification must not lose it when one gives up;
    // the cache's own timeout (deadlineSeconds) bounds it.
    this.started++;
    const promise = this.rate.take().then(() => {
      this.lookups++;
      return this.inner.verify(ref, spec, credentials, AUDIT_FAIR_SHARE_KEY);
    });
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
