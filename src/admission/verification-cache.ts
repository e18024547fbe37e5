// The verification cache: answers of every kind of trust (src/trust/kind.ts), kept by what
// decides them, for as long as their evidence holds, and concurrent identical lookups sharing
// one round of fetches (a scale-up of 500 pods of one image fetches once). It knows nothing of
// any kind: src/admission/verifier.ts builds each lookup's key and load from the kind's verifier.
import { LRUCache } from 'lru-cache';
import { isCacheableRefusal } from '../shared/denial-codes.js';
import { SharedWork } from '../shared/shared-work.js';
import { TrustError, type TrustKind, type Verified } from '../trust/index.js';
import { DEFAULT_FAIR_SHARE, FairShare, type FairShareBounds } from './fair-share.js';

export interface CacheOptions {
  readonly maxEntries: number;
  /** Approximate bytes of cached results. */
  readonly maxBytes: number;
  /** No answer is kept longer, whatever its evidence's expiry. */
  readonly maxTtlMs: number;
  /** Cacheable refusals are kept this long, so a broken image does not hammer its server. */
  readonly negativeTtlMs: number;
  /** One verification, waiting for a turn and every fetch included. */
  readonly timeoutMs: number;
  /** Notary trust servers by registry host (config `trust.servers`), for a CachingVerifier made from a TrustClient. */
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
  /** A verification ran: VERIFIED or the refusal's code, and the kind that ran it. */
  verified(code: string, kind?: TrustKind): void;
}

/** One verification the cache may answer, or must run. */
export interface Lookup {
  /** Everything that decides the answer: kind, spec key, endpoint, normalised reference, credentials. */
  readonly key: string;
  /** Whose review asks: identical lookups are shared within a namespace only, and it waits for its turn. */
  readonly namespace: string;
  /** The fair-share slot: one per endpoint and repository (its tags share one load). */
  readonly group: string;
  /** For messages: `verification of registry.example.com/app:1.0`. */
  readonly what: string;
  readonly kind: TrustKind;
  /** Runs the verification; the signal aborts when nobody waits for it any more. */
  load(signal: AbortSignal): Promise<Verified>;
}

type Outcome = { readonly ok: Verified } | { readonly error: TrustError };

export class VerificationCache {
  private readonly cache: LRUCache<string, Outcome>;
  /** Lookups running or waiting for a turn; each leaves when it settles, and each has a deadline. */
  private readonly inflight = new Map<string, SharedWork<Outcome>>();
  private readonly fair: FairShare;

  constructor(
    private readonly options: CacheOptions,
    private readonly observer: CacheObserver,
  ) {
    this.fair = new FairShare(options.fairShare ?? DEFAULT_FAIR_SHARE, options.now);
    this.cache = new LRUCache<string, Outcome>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      // The key counts too (UTF-16, 2 bytes a character): it is held as long as the answer.
      sizeCalculation: (outcome, key) => key.length * 2 + ('ok' in outcome ? sizeOf(outcome.ok) : 300 + outcome.error.message.length * 2),
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

  /** Lookups in flight (tests, metrics). */
  get pending(): number {
    return this.inflight.size;
  }

  get size(): number {
    return this.cache.size;
  }

  /** The answer held for `key` if it is fresh; else undefined. Never starts a verification. */
  peek(key: string): Verified | TrustError | undefined {
    const outcome = this.cache.get(key);
    if (outcome === undefined) return undefined;
    this.observer.hit();
    return 'error' in outcome ? outcome.error : outcome.ok;
  }

  /**
   * The cached answer, or the lookup's, run when its namespace has a turn (fair-share.ts) and
   * shared with identical lookups of the same namespace. Rejects with a TrustError; with TIMEOUT
   * at once when `signal` aborts (the lookup goes on while another review still waits for it).
   */
  async get(lookup: Lookup, signal?: AbortSignal): Promise<Verified> {
    let outcome = this.cache.get(lookup.key);
    if (outcome) {
      this.observer.hit();
    } else {
      this.observer.miss();
      // Shared within a namespace only: a lookup waiting in a flooding namespace's queue must
      // not hold up another namespace's review of the same image.
      const shared = `${lookup.namespace}\n${lookup.key}`;
      let work = this.inflight.get(shared);
      // One whose reviews all gave up is winding down with TIMEOUT: start afresh rather than join it.
      if (!work || work.aborted) {
        const started = new SharedWork((stop) => this.loadInTurn(lookup, stop));
        work = started;
        this.inflight.set(shared, started);
        void started.promise.finally(() => {
          if (this.inflight.get(shared) === started) this.inflight.delete(shared);
        });
      }
      outcome = await work.join(signal, () => new TrustError('TIMEOUT', `${lookup.what} did not finish before the review's deadline`));
    }
    if ('error' in outcome) throw outcome.error;
    return outcome.ok;
  }

  private async loadInTurn(lookup: Lookup, stop: AbortSignal): Promise<Outcome> {
    try {
      // Waiting counts against the same deadline as fetching: a review gives up after it.
      const expiresAt = this.options.now() + this.options.timeoutMs;
      return await this.fair.run(lookup.namespace, lookup.group, expiresAt, lookup.what, () => this.load(lookup, stop));
    } catch (error) {
      // No turn came (TIMEOUT, never cached): this namespace's own backlog, not the image's answer.
      const outcome = { error: asTrustError(error) };
      this.observer.verified(outcome.error.code, lookup.kind);
      return outcome;
    }
  }

  private async load(lookup: Lookup, stop: AbortSignal): Promise<Outcome> {
    let outcome: Outcome;
    if (stop.aborted) {
      // Everyone stopped waiting while it queued: no fetch for nobody.
      outcome = { error: new TrustError('TIMEOUT', `${lookup.what} did not start before the review's deadline`) };
    } else {
      try {
        outcome = { ok: await lookup.load(stop) };
      } catch (error) {
        outcome = { error: asTrustError(error) };
      }
    }
    this.observer.verified('ok' in outcome ? 'VERIFIED' : outcome.error.code, lookup.kind);
    const ttl = 'ok' in outcome
      ? Math.min(this.options.maxTtlMs, outcome.ok.expires - this.options.now())
      : isCacheableRefusal(outcome.error.code) ? this.options.negativeTtlMs : 0;
    if (ttl > 0) this.cache.set(lookup.key, outcome, { ttl });
    this.observer.size(this.cache.size);
    return outcome;
  }
}

function asTrustError(error: unknown): TrustError {
  return error instanceof TrustError ? error : new TrustError('SERVER_ERROR', `unexpected failure: ${String(error)}`, { cause: error });
}

/** Approximate bytes of an answer: its strings, and its evidence's signatures (cosign may list several). */
function sizeOf(v: Verified): number {
  const signatures = 'signatures' in v.evidence ? v.evidence.signatures.length : 0;
  return 600 + v.reference.length * 2 + signatures * 400;
}
