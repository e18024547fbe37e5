// What parsing a JSON document would allocate, counted from its bytes before JSON.parse sees
// them. A byte limit alone does not bound memory: JSON.parse allocates per value (an empty
// object costs ~64-120 bytes of heap for 3 bytes of input), so 4 MiB of `[{},{},…]` parses into
// 1.4 million objects (~85 MiB of heap), 21 times its size, while a real AdmissionReview or
// Notary document is mostly strings and parses into little more than its own size. One linear
// pass, no allocation, no validation: JSON.parse still decides whether the text is JSON; this
// only refuses before it runs. Used for AdmissionReview bodies as they arrive (server/body.ts)
// and for trust metadata (trust/encoding.ts).
//
// Counted outside strings, exactly for valid JSON: every value JSON.parse builds, object keys
// included — one per `{` or `[`, one per string (at its opening quote), and one per number,
// true, false or null (at its first byte, when that byte follows `[`, `,`, `:` or starts the
// document; elsewhere it continues one, as in `12` or `1e-5`). Depth is the deepest nesting of
// arrays and objects. For invalid JSON the count is exact up to the first error, which is as far
// as JSON.parse gets before it throws.

export interface JsonShapeLimits {
  /** Values, object keys included (see above). */
  readonly maxValues: number;
  /** Nesting of arrays and objects. */
  readonly maxDepth: number;
}

export type JsonShapeProblem = { readonly ok: false; readonly reason: 'too-many-values' | 'too-deep'; readonly message: string };
export type JsonShape = { readonly ok: true; readonly values: number } | JsonShapeProblem;

const QUOTE_BYTE = 0x22;
const BACKSLASH_BYTE = 0x5c;
// What each byte outside strings means to the count, a table as this runs over megabytes; most
// (whitespace, the rest of a number or literal) mean nothing and cost one table read.
const PLAIN = 0;
const QUOTE = 1;
/** `,` or `:`: a value follows. */
const SEPARATOR = 2;
const OPEN_ARRAY = 3;
const OPEN_OBJECT = 4;
const CLOSE = 5;
/** The first byte of a number, true, false or null. */
const SCALAR = 6;
const CLASS = new Uint8Array(256);
CLASS[QUOTE_BYTE] = QUOTE;
CLASS[0x2c] = SEPARATOR; // ,
CLASS[0x3a] = SEPARATOR; // :
CLASS[0x5b] = OPEN_ARRAY; // [
CLASS[0x7b] = OPEN_OBJECT; // {
CLASS[0x5d] = CLOSE; // ]
CLASS[0x7d] = CLOSE; // }
for (const c of '-0123456789tfn') CLASS[c.charCodeAt(0)] = SCALAR;

/**
 * Counts a document fed in pieces (a request body as it arrives), so a body past the limits is
 * refused at the first piece that crosses them, without buffering the rest; a whole document is
 * one piece (checkJsonShape). UTF-8 never uses bytes below 0x80 inside a multi-byte character, so
 * reading bytes is enough: raw UTF-8 is never mistaken for structure.
 */
export class JsonShapeCounter {
  private inString = false;
  /** The last piece ended with a backslash in a string: this piece's first byte is escaped. */
  private escaped = false;
  /** The next number, true, false or null starts a value (after `[`, `,`, `:`, or at the start). */
  private expectValue = true;
  private depth = 0;
  private count = 0;

  constructor(private readonly limits: JsonShapeLimits) {}

  /** The values counted so far. */
  get values(): number {
    return this.count;
  }

  /** Undefined while within the limits; once a problem is returned, stop feeding. */
  feed(bytes: Uint8Array): JsonShapeProblem | undefined {
    // Locals, not fields, in the loop: V8 keeps them in registers.
    let inString = this.inString;
    let expectValue = this.expectValue;
    let depth = this.depth;
    let count = this.count;
    const { maxValues, maxDepth } = this.limits;
    let problem: JsonShapeProblem | undefined;
    const n = bytes.length;
    let i = this.escaped ? 1 : 0;
    /** This piece ends with an escaping backslash in a string. */
    let escaped = false;
    if (inString) {
      i = closingQuote(bytes, i, n);
      if (i < n) inString = false;
      else escaped = i > n;
      i++;
    }
    for (; i < n; i++) {
      const k = CLASS[bytes[i]!]!;
      if (k === PLAIN) continue;
      if (k === SEPARATOR) {
        expectValue = true;
        continue;
      }
      if (k === CLOSE) {
        depth--;
        expectValue = false;
        continue;
      }
      if (k === SCALAR) {
        if (!expectValue) continue; // within a number or literal
        expectValue = false;
      } else if (k === OPEN_ARRAY || k === OPEN_OBJECT) {
        // After `{` comes a key, a string, counted at its quote.
        expectValue = k === OPEN_ARRAY;
        if (++depth > maxDepth) {
          problem = { ok: false, reason: 'too-deep', message: `JSON nested deeper than ${maxDepth} levels` };
          break;
        }
      }
      if (++count > maxValues) {
        problem = { ok: false, reason: 'too-many-values', message: `JSON holds more than ${maxValues} values` };
        break;
      }
      if (k === QUOTE) {
        expectValue = false;
        i = closingQuote(bytes, i + 1, n);
        if (i >= n) {
          inString = true;
          escaped = i > n;
          break;
        }
      }
    }
    this.escaped = escaped;
    this.inString = inString;
    this.expectValue = expectValue;
    this.depth = depth;
    this.count = count;
    return problem;
  }
}

/**
 * The index of the quote that closes a string, scanning from `i` inside it: n when the piece ends
 * inside the string, n + 1 when it ends with a backslash that escapes the next piece's first byte.
 * A tight loop of its own: most of a real document's bytes are in strings.
 */
function closingQuote(bytes: Uint8Array, i: number, n: number): number {
  for (; i < n; i++) {
    const c = bytes[i]!;
    if (c === QUOTE_BYTE) return i;
    if (c === BACKSLASH_BYTE) i++; // the escaped byte, which may be a quote, means nothing
  }
  return i;
}

/** The shape of a whole document: its value count, or why parsing it should be refused. */
export function checkJsonShape(bytes: Uint8Array, limits: JsonShapeLimits): JsonShape {
  const counter = new JsonShapeCounter(limits);
  return counter.feed(bytes) ?? { ok: true, values: counter.values };
}
