import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { canonicalBytes, sha256 } from './encoding.js';
import { TrustError } from './errors.js';

/** Key types of Notary v1 (tuf/data/types.go). */
export const KeyType = {
  ECDSA: 'ecdsa',
  ECDSA_X509: 'ecdsa-x509',
  RSA: 'rsa',
  RSA_X509: 'rsa-x509',
  ED25519: 'ed25519',
} as const;
export type KeyType = (typeof KeyType)[keyof typeof KeyType];

/** A key as it appears in metadata: its type and the decoded bytes of `keyval.public`. */
export interface RawKey {
  readonly keytype: string;
  readonly publicBytes: Buffer;
}

/** A usable public key with both of its IDs. */
export interface PublicKey {
  /** ID of the key object as written (the cert ID for x509 keys). */
  readonly id: string;
  /** ID of the bare public key: what `notary key list` and docker's signer listing show. */
  readonly canonicalId: string;
  readonly keytype: KeyType;
  readonly key: KeyObject;
  readonly certificate: X509Certificate | undefined;
}

/**
 * Parsed keys by key ID. The ID is the hash of the key's type and bytes, so an entry can only
 * ever be that key; parsing (x509 above all) costs more than the signature checks themselves.
 */
const parsedKeys = new LRUCache<string, PublicKey>({ max: 2048 });

/** Forgets parsed keys (benchmarks measure a first-ever verification with it). */
export function clearParsedKeys(): void {
  parsedKeys.clear();
}

/** Notary's minimum RSA size (notary.MinRSABitSize). */
const MIN_RSA_BITS = 2048;
/**
 * Largest RSA modulus verified. A verification costs about the cube of the size, and the
 * trust server of a made-up registry is the pod author's: Go's crypto/tls stops at 8192 bits
 * for the same reason (defaultMaxRSAKeySize, CVE-2023-29409); Notary's keys are 2048 or 4096.
 */
const MAX_RSA_BITS = 8192;
/**
 * Public exponents accepted: odd, at least 3, at most 2^31 - 1, as Go's crypto/rsa (checkPub)
 * requires of every key the reference client reads. A large exponent makes each verification a
 * full-size modular exponentiation (a 3071-bit one costs 500 times e = 65537).
 */
const MIN_RSA_EXPONENT = 3n;
const MAX_RSA_EXPONENT = 2n ** 31n - 1n;

/** Key ID = hex sha256 of the canonical JSON of the key object, `private` as null. */
export function keyId(keytype: string, publicBytes: Buffer): string {
  const object = { keytype, keyval: { private: null, public: publicBytes.toString('base64') } };
  return sha256(canonicalBytes(object, 'key')).toString('hex');
}

/** Turns a metadata key into a usable one; every failure is UNSUPPORTED_KEY naming the key. */
export function parsePublicKey(raw: RawKey, where: string, id = keyId(raw.keytype, raw.publicBytes)): PublicKey {
  const cached = parsedKeys.get(id);
  if (cached) return cached;
  const key = parseUncached(raw, where, id);
  parsedKeys.set(id, key);
  return key;
}

function parseUncached(raw: RawKey, where: string, id: string): PublicKey {
  const fail = (why: string, cause?: unknown): never => {
    throw new TrustError('UNSUPPORTED_KEY', `${where}: ${why}`, { cause });
  };
  try {
    switch (raw.keytype) {
      case KeyType.ED25519: {
        if (raw.publicBytes.length !== 32) return fail('ed25519 key is not 32 bytes');
        const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.publicBytes.toString('base64url') }, format: 'jwk' });
        return { id, canonicalId: id, keytype: KeyType.ED25519, key, certificate: undefined };
      }
      case KeyType.ECDSA:
      case KeyType.RSA: {
        const key = createPublicKey({ key: raw.publicBytes, format: 'der', type: 'spki' });
        checkAlgorithm(key, raw.keytype === KeyType.ECDSA ? 'ec' : 'rsa', fail);
        return { id, canonicalId: id, keytype: raw.keytype, key, certificate: undefined };
      }
      case KeyType.ECDSA_X509:
      case KeyType.RSA_X509: {
        const certificate = new X509Certificate(raw.publicBytes);
        const key = certificate.publicKey;
        const bare = raw.keytype === KeyType.ECDSA_X509 ? KeyType.ECDSA : KeyType.RSA;
        checkAlgorithm(key, bare === KeyType.ECDSA ? 'ec' : 'rsa', fail);
        return withLazyCanonicalId({ id, keytype: raw.keytype, key, certificate }, bare);
      }
      default:
        return fail(`key type "${raw.keytype.slice(0, 40)}" is not one Notary uses`);
    }
  } catch (cause) {
    if (cause instanceof TrustError) throw cause;
    return fail(`${raw.keytype} key cannot be read`, cause);
  }
}

/** The canonical ID of a certificate key needs an SPKI export: only pay for it when asked. */
function withLazyCanonicalId(base: Omit<PublicKey, 'canonicalId'>, bare: KeyType): PublicKey {
  let canonicalId: string | undefined;
  return Object.freeze({
    ...base,
    get canonicalId(): string {
      canonicalId ??= keyId(bare, base.key.export({ format: 'der', type: 'spki' }));
      return canonicalId;
    },
  });
}

function checkAlgorithm(key: KeyObject, expected: 'ec' | 'rsa', fail: (why: string) => never): void {
  if (key.asymmetricKeyType !== expected) fail(`key claims ${expected} but holds ${String(key.asymmetricKeyType)}`);
  if (expected === 'rsa') checkRsaSize(key, fail);
  if (expected === 'ec' && !['prime256v1', 'secp384r1', 'secp521r1'].includes(key.asymmetricKeyDetails?.namedCurve ?? '')) {
    fail(`ECDSA curve ${String(key.asymmetricKeyDetails?.namedCurve)} is not one Notary accepts`);
  }
}

function checkRsaSize(key: KeyObject, fail: (why: string) => never): void {
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) fail(`RSA key shorter than ${MIN_RSA_BITS} bits`);
  if (bits > MAX_RSA_BITS) fail(`RSA key of ${bits} bits, longer than the ${MAX_RSA_BITS} verified`);
  const e = key.asymmetricKeyDetails?.publicExponent ?? 0n;
  if (e < MIN_RSA_EXPONENT || e > MAX_RSA_EXPONENT || e % 2n === 0n) {
    fail(`RSA public exponent is not an odd number from 3 to 2^31-1 (Go's crypto/rsa refuses it)`);
  }
}
