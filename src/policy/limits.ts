// Bounds on what one policy may hold, and on what one namespace's ImagePolicy objects may hold
// together. The CRD schema (scripts/generate-crds.ts) carries the per-object bounds so the API
// server itself refuses larger objects; parsePolicy checks them again for files and for CRDs
// installed by an older chart. A pin is a PEM certificate or key of a few KiB at most.
export const POLICY_LIMITS = {
  images: 256,
  /** Authorities of one verify policy: a Notary and a cosign one during a migration, a few keys or identities. */
  authorities: 8,
  /** An authority's name. */
  authorityNameLength: 63,
  imageLength: 512,
  rootKeys: 16,
  signers: 8,
  keysPerSigner: 8,
  keyLength: 4096,
  caBundleLength: 65_536,
} as const;

/**
 * What one namespace's ImagePolicy objects may hold together (docs/policy.md "Budget"), counted
 * as they cost once compiled (src/policy/budget.ts). Objects past it, oldest first kept, are
 * refused; a refused policy denies the images it covers.
 */
export const NAMESPACE_BUDGET = {
  policies: 16,
  /** Pinned keys over all of the namespace's accepted policies: rootKeys and signers[].keys of `trust` and of every authority, cosign keys, identities and trusted roots (each kind counts its own, src/policy/authorities.ts). */
  keys: 1024,
  /**
   * Identity-pattern program states (cosign COSIGN_SPEC_LIMITS.patternStates each at most), some
   * 60 bytes each once compiled: 65,536 hold ~4 MiB, and some 500 real patterns.
   */
  patternStates: 65_536,
  /**
   * Characters of distinct trusted roots (one shared by several authorities counts once): a
   * root compiles to up to ~25 times its text, so 128 KiB holds ~3 MiB; a private Sigstore's
   * root is some 5-10 KiB.
   */
  trustedRootBytes: 131_072,
} as const;

/**
 * The same for the cluster's own ClusterImagePolicy objects together (written by the cluster's
 * administrators, not tenants): larger, but still below the pod's memory limit.
 */
export const CLUSTER_BUDGET = {
  policies: 1024,
  keys: 16_384,
  patternStates: 524_288,
  trustedRootBytes: 1_048_576,
} as const;

export type Budget = { readonly [K in keyof typeof NAMESPACE_BUDGET]: number };
