// RSA public keys of any size and exponent, as a hostile trust server can list them: DER
// SubjectPublicKeyInfo built by hand (openssl and node refuse to generate such keys). No private
// key exists for `rsaSpki` keys: signatures under them are junk that only has to be checked.
import { createPrivateKey, createPublicKey, generatePrimeSync, randomBytes, type KeyObject } from 'node:crypto';

/** A random odd modulus of `bytes` bytes (its top bit set) with exponent `e`. */
export function rsaSpki(bytes: number, e: Buffer | bigint): Buffer {
  const n = randomBytes(bytes);
  n[0]! |= 0x80;
  n[bytes - 1]! |= 1;
  const exponent = typeof e === 'bigint' ? bigintBytes(e) : e;
  const int = (b: Buffer) => der(0x02, Buffer.concat([Buffer.from([0]), b]));
  const rsaKey = der(0x30, Buffer.concat([int(n), int(exponent)]));
  const algorithm = Buffer.from('300d06092a864886f70d0101010500', 'hex'); // rsaEncryption, NULL
  return der(0x30, Buffer.concat([algorithm, der(0x03, Buffer.concat([Buffer.from([0]), rsaKey]))]));
}

/** An exponent one bit shorter than a modulus of `bytes` bytes: each verification a full-size exponentiation. */
export function fullSizeExponent(bytes: number): Buffer {
  const e = randomBytes(bytes);
  e[0]! &= 0x3f;
  e[bytes - 1]! |= 1;
  return e;
}

/** The key object as metadata lists it. */
export function rsaKeyJson(spki: Buffer): { keytype: 'rsa'; keyval: { private: null; public: string } } {
  return { keytype: 'rsa', keyval: { private: null, public: spki.toString('base64') } };
}

function bigintBytes(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Buffer.from(hex, 'hex');
}

function der(tag: number, body: Buffer): Buffer {
  const len = body.length;
  if (len > 0xffff) throw new Error('DER body too long for this helper');
  const head = len < 0x80 ? Buffer.from([tag, len]) : len < 0x100 ? Buffer.from([tag, 0x81, len]) : Buffer.from([tag, 0x82, len >> 8, len & 0xff]);
  return Buffer.concat([head, body]);
}

/**
 * A real RSA key pair (two primes of `bits / 2`) with the public exponent `e`, which openssl
 * will not generate: to sign validly under an exponent that the notary client and trustgate
 * refuse, so that only the key, not a bad signature, can be the reason.
 */
export function rsaKeyPairWithExponent(bits: number, e: bigint): { spki: Buffer; privateKey: KeyObject } {
  for (;;) {
    const p = generatePrimeSync(bits / 2, { bigint: true });
    const q = generatePrimeSync(bits / 2, { bigint: true });
    const phi = (p - 1n) * (q - 1n);
    const d = inverse(e, phi);
    if (p === q || d === undefined) continue;
    const b64 = (v: bigint) => bigintBytes(v).toString('base64url');
    const jwk = { kty: 'RSA', n: b64(p * q), e: b64(e), d: b64(d), p: b64(p), q: b64(q), dp: b64(d % (p - 1n)), dq: b64(d % (q - 1n)), qi: b64(inverse(q, p)!) };
    const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
    return { spki: createPublicKey(privateKey).export({ format: 'der', type: 'spki' }), privateKey };
  }
}

/** a^-1 mod m, or undefined when they share a factor. */
function inverse(a: bigint, m: bigint): bigint | undefined {
  let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
  while (r1 !== 0n) {
    const k = r0 / r1;
    [r0, r1, s0, s1] = [r1, r0 - k * r1, s1, s0 - k * s1];
  }
  return r0 === 1n ? ((s0 % m) + m) % m : undefined;
}
