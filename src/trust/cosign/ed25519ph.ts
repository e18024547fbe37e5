// Ed25519ph signature verification (RFC 8032 section 5.1, phflag = 1, empty context).
//
// cosign signs images with Ed25519 keys as Ed25519ph (pkg/cosign/keys.go GetDefaultLoadOptions:
// "the only available option for hashedrekord entries"), and node:crypto verifies only pure
// Ed25519 and Ed25519ctx. This is the verification equation on BigInts, as RFC 8032's reference
// code and Go's crypto/ed25519 (cofactorless: the encoding of [S]B - [k]A must equal R) do. It
// verifies public data only, so constant time does not matter here.
import { createHash } from 'node:crypto';

const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const D = mod(-121665n * inverse(121666n));
const SQRT_M1 = power(2n, (P - 1n) / 4n);
/** dom2(1, "") of RFC 8032: the prefix of every Ed25519ph hash. */
const DOM2_PH = Buffer.concat([Buffer.from('SigEd25519 no Ed25519 collisions', 'ascii'), Buffer.from([1, 0])]);

type Point = readonly [bigint, bigint, bigint, bigint]; // extended coordinates X, Y, Z, T

function mod(a: bigint): bigint {
  const r = a % P;
  return r >= 0n ? r : r + P;
}

function power(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = mod(result * b);
    b = mod(b * b);
    e >>= 1n;
  }
  return result;
}

function inverse(a: bigint): bigint {
  return power(a, P - 2n);
}

function add([x1, y1, z1, t1]: Point, [x2, y2, z2, t2]: Point): Point {
  const a = mod((y1 - x1) * (y2 - x2));
  const b = mod((y1 + x1) * (y2 + x2));
  const c = mod(2n * D * t1 * t2);
  const d = mod(2n * z1 * z2);
  const e = b - a;
  const f = d - c;
  const g = d + c;
  const h = b + a;
  return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)];
}

function multiply(point: Point, scalar: bigint): Point {
  let result: Point = [0n, 1n, 1n, 0n];
  let addend = point;
  let s = scalar;
  while (s > 0n) {
    if (s & 1n) result = add(result, addend);
    addend = add(addend, addend);
    s >>= 1n;
  }
  return result;
}

function littleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

function encode([x, y, z]: Point): Buffer {
  const zi = inverse(z);
  const ax = mod(x * zi);
  let ay = mod(y * zi);
  const out = Buffer.alloc(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(ay & 0xffn);
    ay >>= 8n;
  }
  out[31]! |= Number(ax & 1n) << 7;
  return out;
}

function decode(bytes: Uint8Array): Point | undefined {
  if (bytes.length !== 32) return undefined;
  const n = littleEndian(bytes);
  const sign = n >> 255n;
  const y = n & ((1n << 255n) - 1n);
  if (y >= P) return undefined;
  const u = mod(y * y - 1n);
  const v = mod(D * y * y + 1n);
  let x = mod(u * power(v, 3n) * power(u * power(v, 7n), (P - 5n) / 8n));
  const vx2 = mod(v * x * x);
  if (vx2 === mod(-u)) x = mod(x * SQRT_M1);
  else if (vx2 !== u) return undefined;
  if (x === 0n && sign === 1n) return undefined;
  if ((x & 1n) !== sign) x = P - x;
  return [x, y, 1n, mod(x * y)];
}

const BASE = decode(Buffer.from('5866666666666666666666666666666666666666666666666666666666666666', 'hex'))!;

/** Whether `signature` is an Ed25519ph signature of `message` by the 32-byte public key `publicKey`. */
export function verifyEd25519ph(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  const a = decode(publicKey);
  if (!a) return false;
  const r = signature.subarray(0, 32);
  const s = littleEndian(signature.subarray(32));
  if (s >= L) return false;
  const prehash = createHash('sha512').update(message).digest();
  const k = littleEndian(createHash('sha512').update(DOM2_PH).update(r).update(publicKey).update(prehash).digest()) % L;
  const negA: Point = [mod(-a[0]), a[1], a[2], mod(-a[3])];
  const check = add(multiply(BASE, s), multiply(negA, k));
  return encode(check).equals(Buffer.from(r));
}
