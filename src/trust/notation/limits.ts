// Bounds on what a registry may make trustgate fetch and check for one image's Notation
// signatures. notation-go's own (registry/repository.go): a signature manifest of at most 4 MiB
// (maxManifestSizeLimit), an envelope blob of at most 32 MiB (maxBlobSizeLimit); the signatures
// examined per artifact are the caller's VerifyOptions.MaxSignatureAttempts (notation.go), which
// the notation CLI sets with `--max-signatures`, default 100 (cmd/notation/verify.go).

/**
 * Signatures examined per image: the notation CLI's default `--max-signatures` (100). A real
 * image carries a handful (one per signer and re-sign). More referrers than this are refused
 * (TOO_LARGE) by the registry client, never cut: a cut could drop the one that verifies.
 */
export const MAX_SIGNATURES = 100;

/**
 * Bytes of a signature manifest. notation-go reads up to 4 MiB (maxManifestSizeLimit); a real
 * Notation signature manifest (one config, one layer, a subject, two annotations) is under
 * 1 KiB, and 100 manifests of 4 MiB cost ~5 s of JSON parsing and 400 MiB read per image.
 * 64 KiB is sixty times a real one (ADR 0011).
 */
export const MAX_MANIFEST_BYTES = 64 * 1024;

/**
 * Bytes of signature manifests and envelopes one image's verification may read in all: a real
 * image's signatures are a few of ~13 KiB each (100 of them: 1.3 MiB). Past it, the signatures
 * left are refused (TOO_LARGE) unfetched.
 */
export const MAX_SIGNATURE_BYTES_PER_IMAGE = 4 * 1024 * 1024;

/**
 * Bytes of certificates (not already parsed: see CERTIFICATE_CACHE_ENTRIES) and timestamp tokens
 * one image's signatures may have parsed. A real chain is 3 certificates of ~1.5 KiB and a token
 * ~5 KiB; an attacker's DER of tiny ASN.1 items costs ~0.2 ms per KiB, so this bounds parsing at
 * ~60 ms per image. Past it, the signatures left are refused (TOO_LARGE).
 */
export const MAX_PARSE_BYTES_PER_IMAGE = 256 * 1024;

/** Bytes of an RFC 3161 timestamp token (a real one, with its TSA chain, is 2–7 KiB). */
export const MAX_TIMESTAMP_TOKEN_BYTES = 64 * 1024;

/** Parsed certificates kept by DER digest (certificates.ts), each at most 16 KiB twice over. */
export const CERTIFICATE_CACHE_ENTRIES = 256;

/**
 * Bytes of a signature envelope. notation-go reads up to 32 MiB (maxBlobSizeLimit). The
 * registry client holds a fetch's bytes from the shared budget only while it reads them; after,
 * a verification keeps up to FETCH_CONCURRENCY + 1 envelopes until each is checked, so the
 * bound is what every review in flight may hold outside the budget. A real envelope (a
 * three-certificate chain, a payload of one descriptor, a timestamp token with its TSA chain)
 * is 4–12 KiB; 256 KiB, as cosign's bundles, is twenty times that (ADR 0011).
 */
export const MAX_ENVELOPE_BYTES = 256 * 1024;

/** Bytes of the image manifest fetched to learn its media type and size for the payload check. */
export const MAX_IMAGE_MANIFEST_BYTES = 4 * 1024 * 1024;

/** Certificates in an envelope's chain: real chains are 2–4 (leaf, intermediates, root). */
export const MAX_CHAIN_LENGTH = 10;

/** Bytes of one certificate of a chain (a 8192-bit RSA certificate is under 2 KiB). */
export const MAX_CERTIFICATE_BYTES = 16 * 1024;

/** CBOR of a COSE envelope: nesting and items (COSE_Sign1 needs depth 3 and a few dozen items). */
export const CBOR_SHAPE = { maxDepth: 8, maxItems: 4096 } as const;

/** Shape of any JSON read from the registry (manifests, JWS envelopes, payloads). */
export const JSON_SHAPE = { maxValues: 50_000, maxDepth: 32 } as const;

/** Signature fetches in flight at once for one image. */
export const FETCH_CONCURRENCY = 4;

/**
 * Public-key operations on one image's signatures: the envelope's signature and each chain
 * link (certificate signatures). A 3-certificate chain costs 4; 100 signatures with chains of
 * 10 would cost 1,100 (some 0.5 s of RSA-4096). Once spent, the rest are refused (TOO_LARGE).
 */
export const MAX_KEY_OPERATIONS = 256;

/** Characters of the denial message listing every signature examined. */
export const MAX_MESSAGE_LENGTH = 1200;

/** Milliseconds of checks before the event loop gets a turn. */
export const YIELD_AFTER_MS = 10;
