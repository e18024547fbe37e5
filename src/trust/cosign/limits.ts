// Bounds on what a registry may make trustgate fetch and check for one image's cosign signatures.
// cosign itself reads up to 1,000 signature layers (pkg/oci/remote/signatures.go, maxLayers) and
// attachments of up to 128 MiB (COSIGN_MAX_ATTACHMENT_SIZE): a CLI can afford that, an admission
// webhook sharing its event loop and deadline with every other review cannot.

/**
 * Signatures examined per image and per format (layers of the `.sig` manifest; bundle
 * referrers). A real image carries a handful (one per signer and re-sign); each costs a
 * verification (under 1 ms keyed) and, for bundles, two fetches. More is refused (TOO_LARGE),
 * never cut: a cut could drop the one signature that verifies.
 */
export const MAX_SIGNATURES = 32;

/**
 * Bytes of a signature manifest. 32 legacy layers with certificate, chain and Rekor bundle
 * annotations (some 8 KiB each) take 256 KiB; 1 MiB leaves room, and stays below the 4 MiB the
 * distribution spec lets registries refuse beyond.
 */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

/**
 * Bytes of a simple-signing payload. cosign writes some 250 bytes, plus `-a key=value`
 * annotations; 64 KiB holds hundreds of them.
 */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

/**
 * Bytes of a Sigstore bundle. A keyless one with a Fulcio chain, an inclusion proof and a
 * checkpoint is some 10 KiB; its DSSE statement names one subject.
 */
export const MAX_BUNDLE_BYTES = 256 * 1024;

/** Shape of any JSON read from the registry (manifests, payloads, bundles, log entry bodies). */
export const JSON_SHAPE = { maxValues: 50_000, maxDepth: 32 } as const;

/** Signature fetches in flight at once for one image. */
export const FETCH_CONCURRENCY = 4;

/** Characters of the denial message listing every signature examined. */
export const MAX_MESSAGE_LENGTH = 1200;

/**
 * Public-key operations (one signature checked against one key, once per hash tried) spent on
 * one image's keyed signatures, as the Notary side caps a document at 64 (docs/security.md).
 * One signer's key over a handful of signatures needs a few; 16 policy keys against 64 junk
 * signatures would need 1,024. Once spent, the remaining signatures are refused (TOO_LARGE),
 * never taken as verified.
 */
export const MAX_KEY_OPERATIONS = 128;

/**
 * What one full keyless check (chain, SCT, log SET or proof, signature: some 14 ms) is charged
 * against MAX_KEY_OPERATIONS: 16 such checks per image at most, after the cheap refusals.
 */
export const KEYLESS_CHECK_COST = 8;

/**
 * Identity-pattern steps (program states × characters, worst case, charged before each match)
 * spent on one image's signatures: some 50 ms at worst (~25 ns a step). One match of the
 * costliest pattern over the longest identity is 2^19; a real one (60 states, a 100-character
 * SAN) some 6,000. Once
 * spent, the remaining signatures are refused (TOO_LARGE), never taken as verified.
 */
export const MAX_MATCH_STEPS = 2 ** 21;
