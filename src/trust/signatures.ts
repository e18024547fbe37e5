import { constants, verify } from 'node:crypto';
import type { PublicKey } from './keys.js';

/** Signature methods of Notary v1 and the key types each accepts (tuf/signed/verifiers.go). */
const METHOD_KEYTYPES: Readonly<Record<string, readonly string[]>> = {
  ecdsa: ['ecdsa', 'ecdsa-x509'],
  rsapss: ['rsa', 'rsa-x509'],
  rsapkcs1v15: ['rsa', 'rsa-x509'],
  eddsa: ['ed25519'],
};

export function isKnownMethod(method: string): boolean {
  return Object.hasOwn(METHOD_KEYTYPES, method);
}

/** True when `signature` by `key` over `message` is valid under `method`. Never throws. */
export function verifySignature(key: PublicKey, method: string, message: Buffer, signature: Buffer): boolean {
  if (!METHOD_KEYTYPES[method]?.includes(key.keytype)) return false;
  try {
    switch (method) {
      case 'ecdsa':
        // Notary: SHA-256 whatever the curve, raw r‖s (IEEE P1363) rather than DER.
        return verify('sha256', message, { key: key.key, dsaEncoding: 'ieee-p1363' }, signature);
      case 'rsapss':
        return verify('sha256', message, { key: key.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature);
      case 'rsapkcs1v15':
        return verify('sha256', message, { key: key.key, padding: constants.RSA_PKCS1_PADDING }, signature);
      case 'eddsa':
        return verify(null, message, key.key, signature);
      default:
        return false;
    }
  } catch {
    return false;
  }
}
