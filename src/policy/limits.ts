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
 * What one namespace's ImagePolicy objects may hold together (docs/policy.md "Budget"). Objects
 * past it, oldest first kept, are refused; a refused policy denies the images it covers.
 */
export const NAMESPACE_BUDGET = {
  policies: 16,
  /** Pinned keys over all of the namespace's accepted policies: rootKeys and signers[].keys of `trust` and of every authority (each kind counts its own, src/policy/authorities.ts). */
  keys: 1024,
} as const;
