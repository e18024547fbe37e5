// What parsing a JSON document would allocate, counted from its bytes before JSON.parse sees
// them. A byte limit alone does not bound memory: 4 MiB of `[{},{},…]` parses into 1.4 million
// objects (~85 MiB of heap), 21 times its size, while a real AdmissionReview is mostly strings and
// parses into little more than its own size. One linear pass, no allocation, no validation:
// JSON.parse still decides whether the text is JSON; this only refuses before it runs.
//
// Counted outside strings: one per `{` or `[` (a container) and one per `,` (each element or
// member after the first). That is an upper estimate of the values a document holds (scalars
// alone in a container are not separated by anything else) and within one of it for containers
// with content; depth is the deepest nesting of containers.

export interface JsonShapeLimits {
  /** Containers plus commas (see above). */
  readonly maxValues: number;
  readonly maxDepth: number;
}

export type JsonShapeProblem = { readonly ok: false; readonly reason: 'too-many-values' | 'too-deep'; readonly message: string };
export type JsonShape = { readonly ok: true; readonly values: number } | JsonShapeProblem;

// What each byte means to the count; most bytes mean nothing, and cost one table read.
const PLAIN = 0;
const QUOTE = 1;
const BACKSLASH = 2;
const COMMA = 3;
const OPEN = 4;
const CLOSE = 5;
const CLASS = new Uint8Array(256);
CLASS[0x22] = QUOTE;
CLASS[0x5c] = BACKSLASH;
CLASS[0x2c] = COMMA;
CLASS[0x7b] = OPEN; // {
CLASS[0x5b] = OPEN; // [
CLASS[0x7d] = CLOSE; // }
CLASS[0x5d] = CLOSE; // ]

/**
 * Counts a document fed in pieces (a request body as it arrives), so a body past the limits is
 * refused at the first piece that crosses them, without buffering the rest. UTF-8 never uses
 * bytes below 0x80 inside a multi-byte character, so reading bytes is enough.
 */
export class JsonShapeCounter {
  private inString = false;
  private escaped = false;
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
    let escaped = this.escaped;
    let depth = this.depth;
    let count = this.count;
    const { maxValues, maxDepth } = this.limits;
    let problem: JsonShapeProblem | undefined;
    const n = bytes.length;
    // A backslash that ended the last piece escapes this piece's first byte.
    let i = escaped ? 1 : 0;
    for (; i < n; i++) {
      const k = CLASS[bytes[i]!]!;
      if (k === PLAIN) continue;
      if (inString) {
        if (k === BACKSLASH) i++; // the escaped byte, which may be a quote, means nothing
        else if (k === QUOTE) inString = false;
      } else if (k === QUOTE) {
        inString = true;
      } else if (k === COMMA) {
        if (++count > maxValues) {
          problem = tooManyValues(maxValues);
          break;
        }
      } else if (k === OPEN) {
        if (++count > maxValues) {
          problem = tooManyValues(maxValues);
          break;
        }
        if (++depth > maxDepth) {
          problem = { ok: false, reason: 'too-deep', message: `JSON nested deeper than ${maxDepth} levels` };
          break;
        }
      } else if (k === CLOSE) {
        depth--;
      }
    }
    // Past the end only when the piece ended with an escaping backslash.
    escaped = i > n;
    this.inString = inString;
    this.escaped = escaped;
    this.depth = depth;
    this.count = count;
    return problem;
  }
}

function tooManyValues(maxValues: number): JsonShapeProblem {
  return { ok: false, reason: 'too-many-values', message: `JSON holds more than ${maxValues} values` };
}

/** The shape of a whole document: its value count, or why parsing it should be refused. */
export function checkJsonShape(bytes: Uint8Array, limits: JsonShapeLimits): JsonShape {
  const counter = new JsonShapeCounter(limits);
  return counter.feed(bytes) ?? { ok: true, values: counter.values };
}
