/**
 * Bounds on what a registry can make the client read. Manifests and blobs are bounded by the
 * caller (each kind knows what it fetches: notation-go reads manifests up to 4 MiB and blobs up
 * to 32 MiB); the rest is here. tuf-js's defaultConfig is the model: every download, every
 * list, every loop has a number.
 */
export interface RegistryLimits {
  /** Bytes of one referrers page, and of a referrers tag-schema index (notation-go's manifest limit). */
  readonly referrersBytes: number;
  /** Bytes of a manifest fetched only to learn a tag's digest, when HEAD names none. */
  readonly resolveBytes: number;
  /** Pages of one referrers list (`Link: <…>; rel="next"`): an endless chain ends here. */
  readonly referrersPages: number;
  /** Descriptors read from all pages of one list, before filtering by artifactType. */
  readonly referrersListed: number;
  /** Redirects followed by one request (blob downloads redirect to storage). */
  readonly redirects: number;
  /** Nesting of JSON arrays and objects in a manifest or index (a real one nests 4 deep). */
  readonly maxJsonDepth: number;
  /**
   * JSON values (keys included) in a manifest or index, counted before parsing, which allocates
   * per value (src/shared/json-shape.ts). A descriptor costs 7 values, 2 more per annotation.
   */
  readonly maxJsonValues: number;
}

export const DEFAULT_REGISTRY_LIMITS: RegistryLimits = Object.freeze({
  referrersBytes: 4 * 1024 * 1024,
  resolveBytes: 4 * 1024 * 1024,
  referrersPages: 16,
  referrersListed: 10_000,
  redirects: 3,
  maxJsonDepth: 32,
  maxJsonValues: 200_000,
});

import { type MetadataBudgetBounds } from '../../shared/metadata-budget.js';

/** What one OciRegistryClient remembers; registry hosts are attacker-chosen, so all bounded. */
export interface RegistryClientBounds {
  /** Keep-alive agents, one per origin and CA bundle; the least recently used retire. */
  readonly agents: number;
  /** The last authentication challenge of each registry, so a token goes with the first request. */
  readonly challenges: number;
  /** Registry tokens (src/registry/auth.ts). */
  readonly tokens: number;
  /**
   * Bytes of manifests, indexes, referrers pages and blobs that calls in flight may read and
   * check at once (src/shared/metadata-budget.ts, ADR 0008). What a caller keeps afterwards is its own.
   */
  readonly budget: MetadataBudgetBounds;
}

export interface RegistryClientSizes {
  readonly agents: number;
  readonly challenges: number;
  readonly tokens: number;
  /** Budget bytes held by calls in flight. */
  readonly bytesHeld: number;
  /** Documents waiting for budget. */
  readonly bytesWaiting: number;
}

export const DEFAULT_REGISTRY_CLIENT_BOUNDS: RegistryClientBounds = Object.freeze({
  agents: 256,
  challenges: 1_000,
  tokens: 2_000,
  // Checking a referrers page at its limit (4 MiB, 200,000 JSON values) takes its bytes, a string
  // and up to some 25 MB of parsed values: 16 MiB of large documents is 4 of them at once, beside
  // 8 MiB kept for small ones (128 documents of 64 KiB; real ones are a few KB). `trustgate serve`
  // can hand the client the Notary client's budget instead, so both kinds share one.
  budget: Object.freeze({ bytes: 24 << 20, reservedForSmall: 8 << 20, smallDocumentBytes: 64 << 10 }),
});
