// Verification as the webhook uses it: cached, and with concurrent identical lookups sharing one
// round of trust fetches (a scale-up of 500 pods of one image fetches once).
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { formatNormalized, type ImageReference } from '../reference/index.js';
import { credentialsFingerprint, defaultTrustServer, type Credentials } from '../registry/index.js';
import { TrustError, verifyImage, type TrustClient, type VerifiedImage } from '../trust/index.js';
import type { TrustSpec } from '../policy/index.js';
import { DEFAULT_FAIR_SHARE, FairShare, type FairShareBounds } from './fair-share.js';

export interface ImageVerifier {
  /**
   * Resolves to the verified image or rejects with a TrustError. A verification that must fetch
   * waits for `namespace`'s turn (src/admission/fair-share.ts).
   */
  verify(ref: ImageReference, trust: TrustSpec, credentials: Credentials | undefined, namespace?: string): Promise<VerifiedImage>;
  /**
   * The answer `verify` would give now, if it is already known (cached and fresh); else
   * undefined. Never starts a verification.
   */
  peek(ref: ImageReference, trust: TrustSpec, credentials: Credentials | undefined): VerifiedImage | TrustError | undefined;
}

export interface CacheOptions {
  readonly maxEntries: number;
  /** Approximate bytes of cached results. */
  readonly maxBytes: number;
  /** No answer is kept longer, whatever the metadata's expiry. */
  readonly maxTtlMs: number;
  /** Refusals are kept this long, so a broken image does not hammer the trust server. */
  readonly negativeTtlMs: number;
  /** One verification, every fetch included. */
  readonly timeoutMs: number;
  /** Trust servers by registry host, overriding docker's default choice. */
  readonly servers: Readonly<Record<string, string>>;
  readonly now: () => number;
  /** Verifications fetching at once, per namespace and in all (DEFAULT_FAIR_SHARE). */
  readonly fairShare?: FairShareBounds;
}

export interface CacheObserver {
  hit(): void;
  miss(): void;
  evicted(): void;
  size(entries: number): void;
  verified(code: string): void;
}

type Outcome = { readonly ok: VerifiedImage } | { readonly error: TrustError };

/**
 * Refusals a publisher cures by publishing: caching them would refuse a freshly signed tag for
 * the negative TTL. They are not cached (concurrent identical lookups still share one fetch).
 */
const NOT_SIGNED_YET: ReadonlySet<string> = new Set(['NO_TRUST_DATA', 'TAG_NOT_SIGNED', 'DIGEST_NOT_SIGNED', 'SIGNER_MISSING']);

/**
 * A TIMEOUT says as much about this process's load as about the trust server (another
 * namespace's flood can starve a lookup of a healthy server), so it is never cached: the next
 * review tries again. Concurrent identical lookups still share one attempt.
 */
const NOT_CACHED: ReadonlySet<string> = new Set([...NOT_SIGNED_YET, 'TIMEOUT']);

export class CachingVerifier implements ImageVerifier {
  private readonly cache: LRUCache<string, Outcome>;
  private readonly inflight = new Map<string, Promise<Outcome>>();
  private readonly fair: FairShare;

  constructor(
    private readonly client: TrustClient,
    private readonly options: CacheOptions,
    private readonly observer: CacheObserver,
  ) {
    this.fair = new FairShare(options.fairShare ?? DEFAULT_FAIR_SHARE, options.now);
    this.cache = new LRUCache<string, Outcome>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      sizeCalculation: (outcome) => ('ok' in outcome ? 600 + outcome.ok.reference.length * 2 : 300 + outcome.error.message.length * 2),
      ttlAutopurge: false,
      // Read the (injected) clock on every check: the default caches it for 1 ms.
      ttlResolution: 0,
      perf: { now: options.now },
      dispose: (_value, _key, reason) => {
        if (reason === 'evict') observer.evicted();
      },
    });
  }

  /** Repositories being verified and waiting for their namespace's turn (metrics). */
  verifications(): { running: number; waiting: number } {
    const { running, waiting } = this.fair.sizes();
    return { running, waiting };
  }

  peek(ref: ImageReference, trust: TrustSpec, credentials: Credentials | undefined): VerifiedImage | TrustError | undefined {
    const outcome = this.cache.get(cacheKey(this.serverFor(ref, trust), ref, trust, credentials));
    if (outcome === undefined) return undefined;
    this.observer.hit();
    return 'error' in outcome ? outcome.error : outcome.ok;
  }

  async verify(ref: ImageReference, trust: TrustSpec, credentials: Credentials | undefined, namespace = ''): Promise<VerifiedImage> {
    const server = this.serverFor(ref, trust);
    const key = cacheKey(server, ref, trust, credentials);
    let outcome = this.cache.get(key);
    if (outcome) {
      this.observer.hit();
    } else {
      this.observer.miss();
      // Shared within a namespace only: a lookup waiting in a flooding namespace's queue must
      // not hold up another namespace's review of the same image.
      const shared = `${namespace}\n${key}`;
      let pending = this.inflight.get(shared);
      if (!pending) {
        pending = this.loadInTurn(namespace, key, server, ref, trust, credentials).finally(() => this.inflight.delete(shared));
        this.inflight.set(shared, pending);
      }
      outcome = await pending;
    }
    if ('error' in outcome) throw outcome.error;
    return outcome.ok;
  }

  private serverFor(ref: ImageReference, trust: TrustSpec): string {
    return trust.server ?? this.options.servers[ref.registry] ?? defaultTrustServer(ref.registry);
  }

  private async loadInTurn(namespace: string, key: string, server: string, ref: ImageReference, trust: TrustSpec, credentials: Credentials | undefined): Promise<Outcome> {
    try {
      // Waiting counts against the same deadline as fetching: a review gives up after it.
      const expiresAt = this.options.now() + this.options.timeoutMs;
      // One slot per repository: its tags share one load in the trust client.
      const repository = `${server} ${ref.name} ${credentialsFingerprint(credentials)} ${trustKey(trust)}`;
      return await this.fair.run(namespace, repository, expiresAt, `verification of ${ref.written}`, () => this.load(key, server, ref, trust, credentials));
    } catch (error) {
      // No turn came (TIMEOUT, never cached): this namespace's own backlog, not the image's answer.
      const outcome = { error: error instanceof TrustError ? error : new TrustError('SERVER_ERROR', `unexpected failure: ${String(error)}`, { cause: error }) };
      this.observer.verified(outcome.error.code);
      return outcome;
    }
  }

  private async load(key: string, server: string, ref: ImageReference, trust: TrustSpec, credentials: Credentials | undefined): Promise<Outcome> {
    let outcome: Outcome;
    try {
      outcome = {
        ok: await verifyImage(this.client, ref, {
          server,
          pins: trust.pins,
          signers: trust.signers,
          allowUnsignedDigests: trust.allowUnsignedDigests,
          caBundle: trust.caBundle,
          credentials,
          timeoutMs: this.options.timeoutMs,
        }),
      };
    } catch (error) {
      outcome = { error: error instanceof TrustError ? error : new TrustError('SERVER_ERROR', `unexpected failure: ${String(error)}`, { cause: error }) };
    }
    this.observer.verified('ok' in outcome ? 'VERIFIED' : outcome.error.code);
    const ttl = 'ok' in outcome
      ? Math.min(this.options.maxTtlMs, outcome.ok.expires - this.options.now())
      : NOT_CACHED.has(outcome.error.code) ? 0 : this.options.negativeTtlMs;
    if (ttl > 0) this.cache.set(key, outcome, { ttl });
    this.observer.size(this.cache.size);
    return outcome;
  }
}

/** The policy-dependent part of the key, computed once per compiled policy (it hashes PEM). */
const trustKeys = new WeakMap<TrustSpec, string>();

function trustKey(trust: TrustSpec): string {
  let key = trustKeys.get(trust);
  if (key === undefined) {
    key = JSON.stringify([
      hash(trust.caBundle),
      [...trust.pins.keyIds].sort(),
      trust.pins.cas.map((c) => c.fingerprint256).sort(),
      trust.signers.map((s) => [s.role, [...(s.keys?.keyIds ?? [])].sort(), (s.keys?.cas ?? []).map((c) => c.fingerprint256).sort()]),
      trust.allowUnsignedDigests,
    ]);
    trustKeys.set(trust, key);
  }
  return key;
}

function hash(text: string | undefined): string {
  return text === undefined ? '' : createHash('sha256').update(text).digest('hex').slice(0, 32);
}

/** Everything that decides a verification's answer. */
function cacheKey(server: string, ref: ImageReference, trust: TrustSpec, credentials: Credentials | undefined): string {
  // Refusals such as AUTH_FAILED depend on who asked.
  return `${server} ${formatNormalized(ref)} ${credentialsFingerprint(credentials)} ${trustKey(trust)}`;
}
