// A linear pass over JSON bytes that bounds what JSON.parse would build, before it builds it.
// JSON.parse allocates per value (an empty object costs ~120 bytes of heap for 3 bytes of
// input), so a byte limit alone does not bound memory: 5 MiB of `[{},{},…]` is 1.7 million
// objects (200 MB of heap). The pass only needs to be exact for valid JSON; invalid JSON is refused by JSON.parse.

export interface JsonScanBounds {
  /** Nesting of arrays and objects. */
  readonly maxDepth: number;
  /** Values, object keys included. */
  readonly maxValues: number;
}

/** The first bound exceeded, and the byte offset where it was. */
export interface JsonScanProblem {
  readonly exceeded: 'depth' | 'values';
  readonly offset: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** What a byte outside strings means for the count; a table, as this runs over megabytes. */
const Kind = { OTHER: 0, QUOTE: 1, OPEN: 2, CLOSE: 3, SCALAR: 4, SPACE: 5 } as const;
const KINDS = new Uint8Array(256);
KINDS[QUOTE] = Kind.QUOTE;
for (const c of '{[') KINDS[c.charCodeAt(0)] = Kind.OPEN;
for (const c of '}]') KINDS[c.charCodeAt(0)] = Kind.CLOSE;
// The first byte of a number, true, false or null.
for (const c of '-0123456789tfn') KINDS[c.charCodeAt(0)] = Kind.SCALAR;
for (const c of ' \t\n\r') KINDS[c.charCodeAt(0)] = Kind.SPACE;
/** Bytes after which a scalar byte starts a new value (elsewhere it continues one: `12`, `1e-5`). */
const BEFORE_VALUE = new Uint8Array(256);
for (const c of '[,:') BEFORE_VALUE[c.charCodeAt(0)] = 1;

/**
 * Counts values and nesting outside strings, stopping at the first bound exceeded. Multi-byte
 * UTF-8 sequences are all >= 0x80, so they are never mistaken for structure.
 */
export function scanJson(bytes: Uint8Array, bounds: JsonScanBounds): JsonScanProblem | undefined {
  let depth = 0;
  let values = 0;
  let atStart = true;
  /** The last byte outside strings and whitespace. */
  let previous = 0;
  for (let i = 0; i < bytes.length; i++) {
    const kind = KINDS[bytes[i]!];
    if (kind === Kind.SPACE) continue;
    if (kind === Kind.QUOTE) {
      i = endOfString(bytes, i);
      values++;
    } else if (kind === Kind.OPEN) {
      values++;
      if (++depth > bounds.maxDepth) return { exceeded: 'depth', offset: i };
    } else if (kind === Kind.CLOSE) {
      depth--;
    } else if (kind === Kind.SCALAR && (atStart || BEFORE_VALUE[previous] === 1)) {
      values++;
    }
    if (values > bounds.maxValues) return { exceeded: 'values', offset: i };
    previous = bytes[i]!;
    atStart = false;
  }
  return undefined;
}

/** Index of the quote closing the string opened at `start` (or the last byte, unterminated). */
function endOfString(bytes: Uint8Array, start: number): number {
  for (let i = start + 1; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === BACKSLASH) i++; // the escaped byte cannot close the string
    else if (c === QUOTE) return i;
  }
  return bytes.length - 1;
}
