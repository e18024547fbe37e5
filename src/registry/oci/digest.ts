// Content digests (image-spec descriptor.md, "Digests"). sha256 is what registries compute and
// what trustgate pins pods to (src/reference/parse.ts accepts no other algorithm, as docker
// does), so a tag always resolves to a sha256 digest. sha512 is registered too and costs nothing
// more to check, so content named by a sha512 digest is verified as well. Any other algorithm is
// refused: content that cannot be verified is never handed on.
import { createHash } from 'node:crypto';
import { TrustError } from '../../shared/trust-error.js';

/** The digest grammar of image-spec descriptor.md (any algorithm, verifiable or not). */
const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
/** The algorithms this client verifies, with their registered encodings. */
const VERIFIABLE = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
const SHA256 = /^sha256:[a-f0-9]{64}$/;

/** Matches the digest grammar (an algorithm this client may not verify). */
export function isDigestSyntax(text: string): boolean {
  return text.length <= 256 && DIGEST_GRAMMAR.test(text);
}

/** A sha256 or sha512 digest in its registered form (lowercase hex of the right length). */
export function isVerifiableDigest(text: string): boolean {
  return VERIFIABLE.test(text);
}

export function isSha256Digest(text: string): boolean {
  return SHA256.test(text);
}

/** The sha256 digest of `bytes`, the form a tag resolves to. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** True when `bytes` are the content `digest` names (sha256 or sha512; see isVerifiableDigest). */
export function matchesDigest(bytes: Uint8Array, digest: string): boolean {
  if (!isVerifiableDigest(digest)) return false;
  const colon = digest.indexOf(':');
  return createHash(digest.slice(0, colon)).update(bytes).digest('hex') === digest.slice(colon + 1);
}

/** Throws HASH_MISMATCH unless `bytes` are the content `digest` names. */
export function checkDigest(bytes: Uint8Array, digest: string, what: string): void {
  if (!matchesDigest(bytes, digest)) {
    throw new TrustError('HASH_MISMATCH', `${what}: the bytes served do not have digest ${digest} (they are ${sha256Digest(bytes)})`);
  }
}

/**
 * The referrers tag of a digest (distribution-spec "Referrers Tag Schema"): the algorithm
 * truncated to 32 characters, `-`, the encoded part truncated to 64, every character a tag may
 * not hold replaced with `-`. `sha256:ab…` → `sha256-ab…`.
 */
export function referrersTag(digest: string): string {
  const colon = digest.indexOf(':');
  const tag = `${digest.slice(0, colon).slice(0, 32)}-${digest.slice(colon + 1).slice(0, 64)}`;
  return tag.replace(/[^a-zA-Z0-9_.-]/g, '-');
}
