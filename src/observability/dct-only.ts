// Repositories admitted lately whose latest verification rested on Notary v1 (Docker Content
// Trust) alone: the images that would break the day the Notary authority is dropped (the
// migration of docs/migration.md watches this reach zero). Repository names are chosen by
// whoever creates pods, so the set is bounded in entries and in time.
import { LRUCache } from 'lru-cache';
import type { TrustKind } from '../trust/index.js';

export interface DctOnlyBounds {
  /** Repositories remembered; the least recently admitted leave first. */
  readonly maxEntries: number;
  /** A repository not admitted again for this long leaves the set (ms). */
  readonly windowMs: number;
}

export const DEFAULT_DCT_ONLY_BOUNDS: DctOnlyBounds = Object.freeze({ maxEntries: 10_000, windowMs: 3_600_000 });

export class DctOnlyImages {
  private readonly repositories: LRUCache<string, true>;

  constructor(bounds: DctOnlyBounds = DEFAULT_DCT_ONLY_BOUNDS, now: () => number = () => performance.now()) {
    this.repositories = new LRUCache<string, true>({ max: bounds.maxEntries, ttl: bounds.windowMs, ttlAutopurge: false, ttlResolution: 0, perf: { now } });
  }

  /** One admitted image: Notary alone puts its repository in the set, any other kind takes it out. */
  record(repository: string, kinds: readonly TrustKind[]): void {
    if (kinds.length === 0) return;
    if (kinds.length === 1 && kinds[0] === 'notary') this.repositories.set(repository, true);
    else if (this.repositories.has(repository)) this.repositories.delete(repository);
  }

  /** Repositories in the set now (the gauge, read when scraped). */
  count(): number {
    this.repositories.purgeStale();
    return this.repositories.size;
  }

  /** The repositories, most recent first, at most `limit` (tests, a debug endpoint). */
  list(limit = 100): string[] {
    this.repositories.purgeStale();
    return [...this.repositories.keys()].slice(0, limit);
  }
}
