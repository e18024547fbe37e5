// Public keys a cosign authority trusts, and how a signature by each is checked.
//
// cosign signs with sigstore's LoadDefaultSignerVerifier (pkg/cosign/keys.go LoadPrivateKey):
// ECDSA over the curve's hash (P-256 SHA-256, P-384 SHA-384, P-521 SHA-512), signature ASN.1
// DER; RSA PKCS#1 v1.5 with SHA-256; Ed25519 keys sign images as Ed25519ph, blobs as pure
// Ed25519. `cosign verify --key` checks ECDSA with `--signature-digest-algorithm`, SHA-256 by
// default (cmd/cosign/cli/verify/verify.go), and Ed25519 as pure Ed25519 only — so v3.1.3
// refuses the Ed25519ph image signatures its own `sign` makes. trustgate gives cosign's verdict
// there too (docs/adr/0010-cosign-verification.md): pure Ed25519 only.
import { createHash, createPublicKey, verify as cryptoVerify, X509Certificate, type KeyObject } from 'node:crypto';

export const MIN_RSA_BITS = 2048;
/** A verification costs about the cube of the modulus; Go's crypto/tls stops at 8192 too. */
export const MAX_RSA_BITS = 8192;
/** Largest PEM text of one key (an 8192-bit RSA SPKI is some 1,500 characters). */
export const MAX_KEY_PEM_LENGTH = 4096;

export type SignatureHash = string | null;

/** A key of a cosign authority, parsed once when the policy is compiled. */
export interface CosignKey {
  readonly key: KeyObject;
  /** Hex SHA-256 of the SPKI DER: the evidence's keyId, stable across PEM spellings. */
  readonly id: string;
  /** The SPKI DER, to compare with a key in a transparency-log entry. */
  readonly spki: Buffer;
  /** Digests the signature may be over (null: none, pure Ed25519). */
  readonly hashes: readonly SignatureHash[];
  /** `ecdsa-p256`, `rsa-3072`, `ed25519`: for messages. */
  readonly description: string;
}

/** Reads one PEM public key (`-----BEGIN PUBLIC KEY-----`, SPKI). Returns the key or a reason. */
export function parseCosignKey(pem: string): CosignKey | string {
  if (pem.length > MAX_KEY_PEM_LENGTH) return `longer than ${MAX_KEY_PEM_LENGTH} characters`;
  const blocks = pem.match(/-----BEGIN [A-Z ]+-----/g) ?? [];
  if (blocks.length !== 1 || blocks[0] !== '-----BEGIN PUBLIC KEY-----') return 'must be exactly one PEM "PUBLIC KEY" block (cosign.pub)';
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    return 'is not a readable PEM public key';
  }
  const spki = key.export({ format: 'der', type: 'spki' });
  const id = createHash('sha256').update(spki).digest('hex');
  const details = key.asymmetricKeyDetails;
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = details?.namedCurve;
      const hash = curve === 'prime256v1' ? 'sha256' : curve === 'secp384r1' ? 'sha384' : curve === 'secp521r1' ? 'sha512' : undefined;
      if (!hash) return `ECDSA curve ${String(curve)} is not P-256, P-384 or P-521`;
      // cosign signs with the curve's hash; `cosign verify` checks SHA-256 unless told otherwise,
      // so a publisher may also have signed a P-384/P-521 key's payload over SHA-256.
      const hashes = hash === 'sha256' ? ['sha256'] : [hash, 'sha256'];
      return { key, id, spki, hashes, description: `ecdsa-${curve === 'prime256v1' ? 'p256' : curve === 'secp384r1' ? 'p384' : 'p521'}` };
    }
    case 'rsa': {
      const bits = details?.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS) return `RSA key shorter than ${MIN_RSA_BITS} bits`;
      if (bits > MAX_RSA_BITS) return `RSA key of ${bits} bits, longer than ${MAX_RSA_BITS}`;
      const e = details?.publicExponent ?? 0n;
      // Go's crypto/rsa (checkPub) refuses other exponents; a huge one makes each check costly.
      if (e < 3n || e > 2n ** 31n - 1n || e % 2n === 0n) return 'RSA public exponent is not an odd number from 3 to 2^31-1';
      return { key, id, spki, hashes: ['sha256'], description: `rsa-${bits}` };
    }
    case 'ed25519':
      return { key, id, spki, hashes: [null], description: 'ed25519' };
    default:
      return `key type ${String(key.asymmetricKeyType)} is not ECDSA, RSA or Ed25519`;
  }
}

/** What is left of one image's checks: public-key operations and pattern steps (limits.ts). */
export interface KeyBudget {
  /** Public-key operations (MAX_KEY_OPERATIONS). */
  remaining: number;
  /** Identity-pattern steps, states × characters (MAX_MATCH_STEPS). */
  matchSteps: number;
}

/**
 * The policy key whose signature of `data` `signature` is, checking keys in order and charging
 * each operation to `budget`; `exhausted` when the budget ran out before a key verified.
 */
export function findSigningKey(keys: readonly CosignKey[], data: Uint8Array, signature: Uint8Array, budget: KeyBudget): CosignKey | 'exhausted' | undefined {
  for (const key of keys) {
    if (budget.remaining < key.hashes.length) return 'exhausted';
    budget.remaining -= key.hashes.length;
    if (verifyWithKey(key, data, signature)) return key;
  }
  return undefined;
}

/** Whether `signature` is `key`'s signature of `data` (RSA: PKCS#1 v1.5; ECDSA: DER). */
export function verifyWithKey(key: CosignKey, data: Uint8Array, signature: Uint8Array): boolean {
  return verifyWithKeyObject(key.key, key.hashes, data, signature);
}

export function verifyWithKeyObject(key: KeyObject, hashes: readonly SignatureHash[], data: Uint8Array, signature: Uint8Array): boolean {
  for (const hash of hashes) {
    try {
      if (cryptoVerify(hash, data, key, signature)) return true;
    } catch {
      // A malformed signature (bad DER) is simply not a valid one.
    }
  }
  return false;
}

/** The hashes a key found in a certificate (Fulcio: ECDSA P-256/P-384, RSA, Ed25519) signs over. */
export function hashesFor(key: KeyObject): readonly SignatureHash[] {
  if (key.asymmetricKeyType === 'ed25519') return [null];
  if (key.asymmetricKeyType === 'rsa') return ['sha256'];
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve === 'secp384r1') return ['sha384', 'sha256'];
  if (curve === 'secp521r1') return ['sha512', 'sha256'];
  return ['sha256'];
}

/**
 * The DER a transparency-log entry records as its verifier, from the PEM it holds: a
 * certificate's DER, or a public key's SPKI; undefined when it is neither. Compared with the
 * policy key's SPKI or the signature's certificate (check-legacy.ts, check-bundle.ts).
 */
export function verifierDer(pem: string | undefined): Buffer | undefined {
  if (!pem) return undefined;
  try {
    if (pem.includes('-----BEGIN CERTIFICATE-----')) return new X509Certificate(pem).raw;
    return createPublicKey(pem).export({ format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}
