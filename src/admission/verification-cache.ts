// The verification cache: answers of every kind of trust (src/trust/kind.ts), kept by what
// decides them, for as long as their evidence holds, and concurrent identical lookups sharing
// one round of fetches (a scale-up of 500 pods of one image fetches once). It knows nothing of
// any kind: src/admission/verifier.ts builds each lookup's key and load from the kind's verifier.
import { LRUCache } from 'lru-cache';
import { isCacheableRefusal } from '../shared/denial-codes.js';
import { SharedWork } from '../shared/shared-work.js';
import { TrustError, TrustKind, type StaleAnswer, type Verified } from '../trust/index.js';
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
  /**
   * How long past its refresh time an answer without freshness metadata of its own (cosign,
   * Notation, Notary's unchecked digests) may stand in while its server is down (config
   * `cache.staleForSeconds`; 0: never). Notary answers stand in until their metadata expires.
   * Default STALE_FOR_MS.
   */
  readonly staleForMs?: number;
}

/** Five minutes: long enough to ride out a registry's restart, short enough that a revoked key soon matters. */
export const STALE_FOR_MS = 300_000;

/**
 * The refusals that say the server could not be asked, not what it answered: a registry or
 * trust server down, slow, or answering 5xx (src/trust/fetcher.ts, src/registry/oci/status.ts,
 * src/registry/http.ts). Only these may be bridged by the last verified answer; a refusal of
 * signatures or metadata (tampered, expired, wrong key, missing) never is.
 */
const OUTAGES: ReadonlySet<string> = new Set(['TIMEOUT', 'UNREACHABLE', 'SERVER_ERROR']);



export interface CacheObserver {
  hit(): void;
  miss(): void;
  evicted(): void;
  size(entries: number): void;
  /** A verification ran: VERIFIED or the refusal's code, and the kind that ran it. */
  verified(code: string, kind?: TrustKind): void;
  /** A stale answer stood in for one its server could not give (an outage). */
  stale?(kind: TrustKind): void;
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

/**
 * A verified answer held: fresh until `freshUntil` (maxTtl, its evidence's expiry), then kept
 * (the LRU's TTL) until `staleUntil` only to stand in while refreshing it fails for an outage.
 */
interface Answer {
  readonly ok: Verified;
  readonly freshUntil: number;
  readonly staleUntil: number;
  /** The answer as given in an outage (made once, at the first), and until when it is given without asking again. */
  stale: (Verified & { readonly stale: StaleAnswer }) | undefined;
  retryAt: number;
}

/** What the cache holds for a key. */
type Held = Answer | { readonly error: TrustError };
/** What a verification gave. */
type Outcome = { readonly ok: Verified } | { readonly error: TrustError };

/** Failures that were not TrustErrors (a bug, not an outage): reported as SERVER_ERROR, never bridged. */
const unexpected = new WeakSet<TrustError>();

export class VerificationCache {
  private readonly cache: LRUCache<string, Held>;
  /** Lookups running or waiting for a turn; each leaves when it settles, and each has a deadline. */
  private readonly inflight = new Map<string, SharedWork<Outcome>>();
  private readonly fair: FairShare;

  constructor(
    private readonly options: CacheOptions,
    private readonly observer: CacheObserver,
  ) {
    this.fair = new FairShare(options.fairShare ?? DEFAULT_FAIR_SHARE, options.now);
    this.cache = new LRUCache<string, Held>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      // The key counts too (UTF-16, 2 bytes a character): it is held as long as the answer.
      // An answer counts its stale copy too (made in an outage: a small object sharing the rest).
      sizeCalculation: (outcome, key) => key.length * 2 + ('ok' in outcome ? sizeOf(outcome.ok) + 200 : 300 + outcome.error.message.length * 2),
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

  /** The answer held for `key` if it is fresh (or bridging an outage); else undefined. Never starts a verification. */
  peek(key: string): Verified | TrustError | undefined {
    const held = this.held(key);
    if (held !== undefined) this.observer.hit();
    return held;
  }

  /**
   * The answer to give without a verification: a refusal, a fresh answer, or the stale one while
   * its outage is still being waited out (until `retryAt`). A stale answer past its refresh time
   * is undefined here: it is refreshed, and stands in only if that fails for an outage.
   */
  private held(key: string): Verified | TrustError | undefined {
    const outcome = this.cache.get(key);
    if (outcome === undefined) return undefined;
    if ('error' in outcome) return outcome.error;
    const now = this.options.now();
    if (now < outcome.freshUntil) return outcome.ok;
    if (outcome.stale !== undefined && now < outcome.retryAt) {
      this.observer.stale?.(outcome.ok.kind);
      return outcome.stale;
    }
    return undefined;
  }

  /** The verified answer held for `key` that may bridge `error`: an outage, within its evidence's life. */
  private bridgeable(key: string, error: TrustError): Answer | undefined {
    if (!OUTAGES.has(error.code) || unexpected.has(error)) return undefined;
    const outcome = this.cache.peek(key);
    if (outcome === undefined || 'error' in outcome || this.options.now() >= outcome.staleUntil) return undefined;
    return outcome;
  }

  /**
   * The stale answer for `key` when `error` is an outage and the answer's evidence still holds;
   * else undefined. The next `negativeTtlMs` reviews get it without asking the server again.
   */
  private bridge(key: string, error: TrustError): Verified | undefined {
    const outcome = this.bridgeable(key, error);
    if (outcome === undefined) return undefined;
    const now = this.options.now();
    outcome.stale ??= { ...outcome.ok, expires: outcome.staleUntil, stale: { code: error.code, until: outcome.staleUntil } };
    outcome.retryAt = Math.min(outcome.staleUntil, now + this.options.negativeTtlMs);
    this.observer.stale?.(outcome.ok.kind);
    return outcome.stale;
  }

  /**
   * The cached answer, or the lookup's, run when its namespace has a turn (fair-share.ts) and
   * shared with identical lookups of the same namespace. Rejects with a TrustError; with TIMEOUT
   * at once when `signal` aborts (the lookup goes on while another review still waits for it).
   */
  async get(lookup: Lookup, signal?: AbortSignal): Promise<Verified> {
    const held = this.held(lookup.key);
    if (held !== undefined) {
      this.observer.hit();
      if (held instanceof TrustError) throw held;
      return held;
    }
    this.observer.miss();
    let outcome: Outcome;
    {
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
      try {
        outcome = await work.join(signal, () => new TrustError('TIMEOUT', `${lookup.what} did not finish before the review's deadline`));
      } catch (error) {
        // The review's deadline passed while the server hung: an outage like any other.
        outcome = { error: asTrustError(error) };
      }
    }
    if ('ok' in outcome) return outcome.ok;
    const stale = this.bridge(lookup.key, outcome.error);
    if (stale === undefined) throw outcome.error;
    return stale;
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
    if ('ok' in outcome) this.keep(lookup.key, outcome.ok);
    // An outage leaves a verified answer held in place to bridge it (its retryAt keeps the
    // server from being hammered, as the negative TTL would).
    else if (this.bridgeable(lookup.key, outcome.error)) { /* kept */ }
    else if (isCacheableRefusal(outcome.error.code) && this.options.negativeTtlMs > 0) this.cache.set(lookup.key, outcome, { ttl: this.options.negativeTtlMs });
    // Anything but an outage replaces what was held: a refusal of signatures is never masked
    // by the answer it refutes (a tampered repository after an outage is refused at once).
    else if (!OUTAGES.has(outcome.error.code) || unexpected.has(outcome.error)) this.cache.delete(lookup.key);
    this.observer.size(this.cache.size);
    return outcome;
  }

  /**
   * Holds a verified answer: fresh for maxTtl at most, and until its evidence expires; kept
   * after that, as an entry like any other (maxEntries, maxBytes), only to bridge outages:
   * a Notary answer until its metadata expires (the TUF freshness rule: an expired role is
   * never trusted, TUF specification 5.3.10, 5.4.4, 5.5.6, 5.6.5), an answer without freshness metadata
   * (cosign, Notation, unchecked digests) staleForMs more, and never past its own expiry.
   */
  private keep(key: string, ok: Verified): void {
    const now = this.options.now();
    const freshUntil = now + Math.min(this.options.maxTtlMs, ok.expires - now);
    if (freshUntil <= now) {
      this.cache.delete(key);
      return;
    }
    const staleFor = this.options.staleForMs ?? STALE_FOR_MS;
    const staleUntil = ok.kind === TrustKind.NOTARY && !ok.unchecked && Number.isFinite(ok.expires) ? ok.expires : Math.min(ok.expires, freshUntil + staleFor);
    const answer: Answer = { ok, freshUntil, staleUntil, stale: undefined, retryAt: 0 };
    this.cache.set(key, answer, { ttl: staleUntil - now });
  }
}

function asTrustError(error: unknown): TrustError {
  if (error instanceof TrustError) return error;
  const wrapped = new TrustError('SERVER_ERROR', `unexpected failure: ${String(error)}`, { cause: error });
  unexpected.add(wrapped);
  return wrapped;
}

/** Approximate bytes of an answer: its strings, and its evidence's signatures (cosign may list several). */
function sizeOf(v: Verified): number {
  const signatures = 'signatures' in v.evidence ? v.evidence.signatures.length : 0;
  return 600 + v.reference.length * 2 + signatures * 400;
}
