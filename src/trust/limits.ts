/**
 * Bounds on everything a trust server sends. The reference client caps the timestamp at 1 MiB
 * (notary.MaxTimestampSize) and reads other roles no further than their parent declares;
 * tuf-js's defaultConfig bounds root size, rotations and delegations the same way.
 */
export interface TrustLimits {
  /** Bytes of timestamp.json. */
  readonly timestampBytes: number;
  /** Bytes of root.json and of each `<n>.root.json`: nothing declares their length. */
  readonly rootBytes: number;
  /** Bytes of any role whose parent declares a larger length (a server can lie about it). */
  readonly roleBytes: number;
  /** Root versions walked in one update. */
  readonly maxRootRotations: number;
  /** Delegated roles fetched in one update. */
  readonly maxDelegations: number;
  /** Levels below `targets`: `targets/a/b` is depth 2. */
  readonly maxDelegationDepth: number;
  /** Nesting of JSON arrays and objects in any document. */
  readonly maxJsonDepth: number;
  /** Entries in any one keys, targets or meta map, or roles list. */
  readonly maxEntries: number;
  /**
   * JSON values (keys included) in any document, counted before it is parsed: parsing
   * allocates per value, not per byte. A tag costs 8 values (10 with a sha512 hash).
   */
  readonly maxJsonValues: number;
  /** Signatures on any one document; notary-server writes one per signing key. */
  readonly maxSignatures: number;
}

export const DEFAULT_LIMITS: TrustLimits = Object.freeze({
  timestampBytes: 1024 * 1024,
  rootBytes: 512 * 1024,
  // tuf-js and python-tuf default targets to 5 MB; 5 MiB holds some 55,000 tags. Parsing and
  // checking a document takes several copies of it at once (a 16 MiB limit let one image with
  // two such roles peak at 283 MiB, over the chart's 256 Mi).
  roleBytes: 5 * 1024 * 1024,
  maxRootRotations: 32,
  maxDelegations: 64,
  maxDelegationDepth: 4,
  maxJsonDepth: 32,
  maxEntries: 100_000,
  // 62,500 tags (50,000 with sha512 hashes too), more than roleBytes holds. The costliest
  // 500,000 values to parse (objects with distinct keys) take some 60 MB of heap; in tags, 25 MB.
  maxJsonValues: 500_000,
  maxSignatures: 64,
});
