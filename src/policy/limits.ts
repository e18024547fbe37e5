// Bounds on what one policy may hold, and on what one namespace's ImagePolicy objects may hold
// together. The CRD schema (scripts/generate-crds.ts) carries the per-object bounds so the API
// server itself refuses larger objects; parsePolicy checks them again for files and for CRDs
// installed by an older chart. A pin is a PEM certificate or key of a few KiB at most.
export const POLICY_LIMITS = {
  images: 256,
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
  /** rootKeys and signers[].keys entries over all of the namespace's accepted policies. */
  keys: 1024,
} as const;
