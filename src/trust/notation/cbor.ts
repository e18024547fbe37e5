// A strict, bounded reader of the CBOR (RFC 8949) a COSE_Sign1 envelope (RFC 9052) needs, and
// nothing else. Every byte of an envelope comes from whoever pushed the signature: a general
// CBOR library would accept indefinite lengths, big numbers, floats, arbitrary tags and
// nesting, each a way to spend memory or time or to read one envelope two ways. This reader
// takes definite lengths only, integers within 2^53, byte and text strings, arrays, maps with
// integer or text keys (each key once), false/true/null, and the two tags Notation writes:
// 18 (COSE_Sign1, outermost only) and 1 (epoch time, for signing time and expiry). Every
// length is checked against the bytes left before anything is allocated; depth and item count
// are bounded (ADR 0011).
import { CBOR_SHAPE } from './limits.js';

export type CborValue = number | string | Buffer | boolean | null | readonly CborValue[] | CborMap | CborTagged;
export type CborMap = ReadonlyMap<number | string, CborValue>;
export interface CborTagged {
  readonly tag: number;
  readonly value: CborValue;
}

export class CborError extends Error {
  override readonly name = 'CborError';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads exactly one CBOR item filling `bytes`; `tags` are the tags allowed anywhere. */
export function readCbor(bytes: Uint8Array, tags: readonly number[] = [1]): CborValue {
  const r = new Reader(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), tags);
  const value = r.item(0);
  if (r.at !== r.buf.length) throw new CborError(`${r.buf.length - r.at} bytes after the CBOR item`);
  return value;
}

export function isCborMap(v: CborValue | undefined): v is CborMap {
  return v instanceof Map;
}

export function isTagged(v: CborValue | undefined): v is CborTagged {
  return typeof v === 'object' && v !== null && !(v instanceof Map) && !Buffer.isBuffer(v) && !Array.isArray(v);
}

class Reader {
  at = 0;
  private items = 0;

  constructor(
    readonly buf: Buffer,
    private readonly tags: readonly number[],
  ) {}

  item(depth: number): CborValue {
    if (depth > CBOR_SHAPE.maxDepth) throw new CborError(`nested deeper than ${CBOR_SHAPE.maxDepth}`);
    if (++this.items > CBOR_SHAPE.maxItems) throw new CborError(`more than ${CBOR_SHAPE.maxItems} items`);
    const initial = this.byte();
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (major === 7) return simple(info);
    const arg = this.argument(info);
    switch (major) {
      case 0:
        return arg;
      case 1:
        return -1 - arg;
      case 2:
        return Buffer.from(this.take(arg));
      case 3:
        try {
          return utf8.decode(this.take(arg));
        } catch {
          throw new CborError('a text string that is not UTF-8');
        }
      case 4:
        return this.array(arg, depth);
      case 5:
        return this.map(arg, depth);
      default: {
        // major 6: a tag
        if (!this.tags.includes(arg)) throw new CborError(`tag ${arg} is not one COSE_Sign1 uses here`);
        return { tag: arg, value: this.item(depth + 1) };
      }
    }
  }

  private array(n: number, depth: number): CborValue[] {
    // Each item takes at least one byte: a count beyond the bytes left is a lie, refused before any allocation.
    if (n > this.buf.length - this.at) throw new CborError(`an array of ${n} items in ${this.buf.length - this.at} bytes`);
    const out: CborValue[] = [];
    for (let i = 0; i < n; i++) out.push(this.item(depth + 1));
    return out;
  }

  private map(n: number, depth: number): CborMap {
    if (n * 2 > this.buf.length - this.at) throw new CborError(`a map of ${n} entries in ${this.buf.length - this.at} bytes`);
    const out = new Map<number | string, CborValue>();
    for (let i = 0; i < n; i++) {
      const key = this.item(depth + 1);
      if (typeof key !== 'number' && typeof key !== 'string') throw new CborError('a map key that is neither an integer nor a text string');
      if (out.has(key)) throw new CborError(`map key ${JSON.stringify(key)} appears twice`);
      out.set(key, this.item(depth + 1));
    }
    return out;
  }

  private argument(info: number): number {
    if (info < 24) return info;
    if (info === 24) return this.byte();
    if (info === 25) return this.take(2).readUInt16BE(0);
    if (info === 26) return this.take(4).readUInt32BE(0);
    if (info === 27) {
      const big = this.take(8).readBigUInt64BE(0);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new CborError('a length or integer beyond 2^53');
      return Number(big);
    }
    // 28-30 reserved, 31 indefinite length: neither is in a COSE envelope notation writes.
    throw new CborError(info === 31 ? 'an indefinite length' : `reserved additional information ${info}`);
  }

  private byte(): number {
    if (this.at >= this.buf.length) throw new CborError('the CBOR ends early');
    return this.buf[this.at++]!;
  }

  private take(n: number): Buffer {
    if (n > this.buf.length - this.at) throw new CborError(`${n} bytes claimed, ${this.buf.length - this.at} left`);
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
}

function simple(info: number): CborValue {
  if (info === 20) return false;
  if (info === 21) return true;
  if (info === 22) return null;
  throw new CborError(info >= 25 && info <= 27 ? 'a floating-point number' : `simple value ${info}`);
}

/** CBOR head of a major type and length (RFC 8949 3.1), shortest form. */
function head(major: number, n: number): Buffer {
  const m = major << 5;
  if (n < 24) return Buffer.from([m | n]);
  if (n < 0x100) return Buffer.from([m | 24, n]);
  if (n < 0x10000) return Buffer.from([m | 25, n >> 8, n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = m | 26;
  b.writeUInt32BE(n, 1);
  return b;
}

/**
 * The Sig_structure a COSE_Sign1 signature covers (RFC 9052 4.4):
 * ["Signature1", body_protected, external_aad (empty), payload].
 */
export function sigStructure(protectedBytes: Buffer, payload: Buffer): Buffer {
  const context = Buffer.from('Signature1', 'utf8');
  return Buffer.concat([head(4, 4), head(3, context.length), context, head(2, protectedBytes.length), protectedBytes, head(2, 0), head(2, payload.length), payload]);
}
