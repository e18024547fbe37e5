// Checks every role passes, whatever its kind (TUF spec 5.3-5.6; notary tuf/signed/verify.go).
import { sha256, sha512 } from './encoding.js';
import { TrustError } from './errors.js';
import type { Keyring } from './keyring.js';
import { short } from './keyring.js';
import type { PublicKey } from './keys.js';
import type { FileMeta, RoleKeys, Signed } from './metadata.js';
import { verifySignature } from './signatures.js';

/**
 * The keys whose signatures verify, counted once per public key (an ecdsa key and its x509
 * certificate are one key). Fails unless at least `threshold` distinct keys signed.
 *
 * Each key ID is tried once: its first signature counts or fails, and later signatures under
 * the same ID are not checked (TUF counts unique keys, spec 5.4.2). Otherwise a server could
 * list one key and repeat junk signatures under it, each a full public-key operation.
 */
export function checkThreshold(doc: Signed<unknown>, role: RoleKeys, keyring: Keyring, roleName = doc.role): PublicKey[] {
  const valid = new Map<string, PublicKey>();
  const allowed = new Set(role.keyids);
  const tried = new Set<string>();
  let unsupported: TrustError | undefined;
  for (const signature of doc.signatures) {
    if (!allowed.has(signature.keyid) || tried.has(signature.keyid)) continue;
    tried.add(signature.keyid);
    let key: PublicKey | undefined;
    try {
      key = keyring.get(signature.keyid);
    } catch (error) {
      if (error instanceof TrustError) unsupported ??= error;
      continue;
    }
    if (key && verifySignature(key, signature.method, doc.canonical, signature.sig)) valid.set(key.id, key);
  }
  const distinct = distinctKeys(valid);
  if (distinct.length < role.threshold) {
    if (unsupported) throw new TrustError('UNSUPPORTED_KEY', `${roleName}: ${unsupported.message}`, { role: roleName, cause: unsupported });
    throw new TrustError(
      'THRESHOLD_NOT_MET',
      `${roleName} metadata has ${distinct.length} valid signature(s) from distinct ${roleName} keys; ${role.threshold} required`,
      { role: roleName },
    );
  }
  return distinct;
}

/** One entry per public key: a key and its x509 certificate have different IDs but one key. */
function distinctKeys(valid: Map<string, PublicKey>): PublicKey[] {
  if (valid.size < 2) return [...valid.values()];
  const byCanonical = new Map<string, PublicKey>();
  for (const key of valid.values()) if (!byCanonical.has(key.canonicalId)) byCanonical.set(key.canonicalId, key);
  return [...byCanonical.values()];
}

export function checkExpiry(role: string, expires: number, now: number): void {
  if (expires <= now) {
    throw new TrustError('EXPIRED', `${role} metadata expired at ${new Date(expires).toISOString()}`, { role });
  }
}

/** Versions may not go backwards from one this process has already trusted. */
export function checkVersion(role: string, version: number, known: number | undefined): void {
  if (known !== undefined && version < known) {
    throw new TrustError('ROLLBACK', `${role} metadata version ${version} is older than version ${known} already trusted`, { role });
  }
}

/** Length and every hash the parent declared must match the bytes received. */
export function checkFileMeta(role: string, bytes: Buffer, meta: FileMeta, parent: string): void {
  const mismatch = (what: string): never => {
    throw new TrustError('HASH_MISMATCH', `${role} metadata does not match the ${what} that ${parent} declares`, { role });
  };
  if (bytes.length !== meta.length) mismatch(`length (${meta.length} bytes, got ${bytes.length})`);
  if (!sha256(bytes).equals(meta.sha256)) mismatch('sha256 hash');
  if (meta.sha512 && !sha512(bytes).equals(meta.sha512)) mismatch('sha512 hash');
}

export { short };
