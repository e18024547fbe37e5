// RSA public keys of any size and exponent, as a hostile trust server can list them: DER
// SubjectPublicKeyInfo built by hand (openssl and node refuse to generate such keys). No private
// key exists: signatures under these keys are junk that only has to be checked.
import { randomBytes } from 'node:crypto';

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
