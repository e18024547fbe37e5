// The count that bounds JSON.parse (src/shared/json-shape.ts), for AdmissionReview bodies as
// they arrive and for trust metadata: exact for valid JSON, never fooled by structure inside
// strings, the same whatever pieces a body arrives in, linear on hostile input.
import { checkJsonShape, JsonShapeCounter } from '../../../src/shared/json-shape.js';

const LIMITS = { maxValues: 1000, maxDepth: 10 };
const LOOSE = { maxValues: 10_000_000, maxDepth: 1000 };
const shape = (text: string, limits = LIMITS) => checkJsonShape(Buffer.from(text), limits);

/** Values and keys as JSON.parse builds them, for comparison. */
function parsedValues(value: unknown): number {
  if (Array.isArray(value)) return 1 + value.reduce((sum: number, v) => sum + parsedValues(v), 0);
  if (value !== null && typeof value === 'object') return 1 + Object.values(value).reduce((sum: number, v) => sum + 1 + parsedValues(v), 0);
  return 1;
}

/** The count matches JSON.parse, and the limit applies to that count: `values` passes, one fewer does not. */
function expectExact(text: string): void {
  const values = parsedValues(JSON.parse(text));
  expect(shape(text, LOOSE)).toEqual({ ok: true, values });
  expect(shape(text, { maxValues: values, maxDepth: 1000 }).ok).toBe(true);
  expect(shape(text, { maxValues: values - 1, maxDepth: 1000 })).toMatchObject({ ok: false, reason: 'too-many-values' });
}

describe('checkJsonShape counts what JSON.parse builds, object keys included', () => {
  it.each([
    ['1', 1],
    ['"a"', 1],
    ['{}', 1],
    ['[1,2,3]', 4],
    ['{"a":1,"b":[true,null]}', 7],
    ['[{},{},{}]', 4],
  ])('%s: %d', (text, values) => {
    expect(parsedValues(JSON.parse(text))).toBe(values);
    expect(shape(text)).toEqual({ ok: true, values });
  });

  it.each([
    ['scalars', '[1, -2.5e-3, true, false, null, "x"]'],
    ['numbers in every form', '[0, -0, 12, 1e5, 1E+5, -1.5e-10, 123456789012345678901234567890]'],
    ['an object with keys', '{"a": 1, "b": {"c": [10, 20e+2]}, "d": []}'],
    ['scalars as object values', '{"a":true,"b":false,"c":null,"d":-1,"e":0.5}'],
    ['a bare number', '12345'],
    ['a bare negative number', '-7'],
    ['a bare literal', 'true'],
    ['a bare string', '"hi"'],
    ['whitespace everywhere', ' \n{ "a" :\t[ 1 ,\r\n 2 ] } '],
    ['empty containers', '[[], {}, [[]], {"a": {}}]'],
    ['notary targets entries', '{"1.0":{"hashes":{"sha256":"abc="},"length":1234},"latest":{"hashes":{"sha256":"abc=","sha512":"def="},"length":5}}'],
  ])('%s', (_what, text) => {
    expectExact(text);
  });

  it.each([
    ['brackets, braces and commas in strings', '["[[[{{{", "]]]}}}", "{\\"a\\": [1,2,3]}", "a,b:c"]'],
    ['escaped quotes that do not end the string', '["a\\"[1,2,3,4,5]\\"b"]'],
    ['an escaped backslash before the closing quote', '["a\\\\", 1, ["\\\\",[]]]'],
    ['unicode escapes, including of a quote', '["\\u0022[1,2]\\u005b", "\\u00e9"]'],
    ['raw multi-byte UTF-8 (never mistaken for structure)', '["é€😀[", "ÿ", "漢字,", "é,ü"]'],
    ['scalar-looking letters inside strings and keys', '{"true": "null,1,2,3", "-5": "f", "n": [1, "t"]}'],
  ])('is not fooled by %s', (_what, text) => {
    expectExact(text);
  });
});

describe('checkJsonShape on generated documents', () => {
  /** A deterministic generator (mulberry32): the same documents on every run. */
  function random(seed: number): () => number {
    return () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const STRINGS = ['', 'a', '[{,:}]', '"', '\\', 'é😀', 'true', '-1', '\u0000'];
  const SCALARS = [0, -1, 12.5, 1e21, -3e-7, true, false, null];
  function generate(next: () => number, depth: number): unknown {
    const r = next();
    if (depth > 0 && r < 0.25) return Array.from({ length: Math.floor(next() * 5) }, () => generate(next, depth - 1));
    if (depth > 0 && r < 0.5) return Object.fromEntries(Array.from({ length: Math.floor(next() * 5) }, (_, i) => [`${STRINGS[Math.floor(next() * STRINGS.length)]}${i}`, generate(next, depth - 1)]));
    if (r < 0.75) return STRINGS[Math.floor(next() * STRINGS.length)];
    return SCALARS[Math.floor(next() * SCALARS.length)];
  }

  it('counts 500 random documents, compact and indented, as JSON.parse builds them, whatever the split', () => {
    const next = random(42);
    for (let n = 0; n < 500; n++) {
      const value = generate(next, 6);
      const values = parsedValues(value);
      for (const text of [JSON.stringify(value), JSON.stringify(value, null, n % 2 ? 1 : '\t')]) {
        const bytes = Buffer.from(text);
        expect(checkJsonShape(bytes, LOOSE)).toEqual({ ok: true, values });
        const cut = Math.floor(next() * (bytes.length + 1));
        const counter = new JsonShapeCounter(LOOSE);
        counter.feed(bytes.subarray(0, cut));
        counter.feed(bytes.subarray(cut));
        expect(counter.values).toBe(values);
      }
    }
  });
});

describe('checkJsonShape refuses', () => {
  it('more values than the limit', () => {
    expect(shape(`[${'0,'.repeat(999)}0]`)).toEqual({ ok: false, reason: 'too-many-values', message: 'JSON holds more than 1000 values' });
    expect(shape(`[${'0,'.repeat(998)}0]`)).toEqual({ ok: true, values: 1000 });
  });

  it('at the byte where the limit is passed', () => {
    const text = `[${'{},'.repeat(99)}{}]`; // 101 values
    expect(shape(text, { maxValues: 101, maxDepth: 10 }).ok).toBe(true);
    // Fed a byte at a time, the count is refused at the last `{`, and not before.
    const counter = new JsonShapeCounter({ maxValues: 100, maxDepth: 10 });
    const bytes = Buffer.from(text);
    let refusedAt = -1;
    for (let i = 0; i < bytes.length && refusedAt < 0; i++) if (counter.feed(bytes.subarray(i, i + 1))) refusedAt = i;
    expect(refusedAt).toBe(text.length - 3);
  });

  it('nesting deeper than the limit, in arrays and objects alike, at any point', () => {
    expect(shape(`${'['.repeat(11)}${']'.repeat(11)}`)).toEqual({ ok: false, reason: 'too-deep', message: 'JSON nested deeper than 10 levels' });
    expect(shape(`${'{"a":'.repeat(11)}1${'}'.repeat(11)}`)).toMatchObject({ ok: false, reason: 'too-deep' });
    expect(shape(`[${'[],'.repeat(50)}${'['.repeat(10)}${']'.repeat(10)}]`).ok).toBe(false);
    expect(shape(`${'['.repeat(10)}${']'.repeat(10)}`).ok).toBe(true);
    expect(shape(`${'{"a":'.repeat(10)}1${'}'.repeat(10)}`).ok).toBe(true);
    // Depth comes back down: many shallow containers are not deep.
    expect(shape(`[${'[[]],'.repeat(100)}[]]`, { maxValues: 1000, maxDepth: 3 }).ok).toBe(true);
  });

  it('does not count nesting inside strings', () => {
    expect(shape(JSON.stringify(['['.repeat(100), '{'.repeat(100)]), { maxValues: 3, maxDepth: 1 })).toEqual({ ok: true, values: 3 });
  });

  it('is the attacker\'s [{},{},…] refused within its first bytes', () => {
    const counter = new JsonShapeCounter({ maxValues: 400_000, maxDepth: 100 });
    const junk = Buffer.from(`[${'{},'.repeat(500_000)}{}]`);
    expect(counter.feed(junk)?.reason).toBe('too-many-values');
    expect(counter.values).toBe(400_001); // stopped at the value past the limit
  });

  it('counts a 15 MB hostile document exactly, in one linear pass, and stops early under a limit', () => {
    // Linear time is by construction (one table read per byte, no backtracking); its speed is
    // measured in benchmarks, not asserted here. What is asserted: the whole document is read and
    // every one of its 5 million objects is counted.
    const pad = Buffer.from(`[${'{},'.repeat(5_000_000)}{}]`);
    expect(checkJsonShape(pad, LOOSE)).toEqual({ ok: true, values: 5_000_002 });
    const bounded = new JsonShapeCounter({ maxValues: 1_000_000, maxDepth: 10 });
    expect(bounded.feed(pad)?.reason).toBe('too-many-values');
    expect(bounded.values).toBe(1_000_001);
  });

  it('an unterminated string ends the count without counting past it', () => {
    expect(shape('["abc', { maxValues: 2, maxDepth: 1 })).toEqual({ ok: true, values: 2 });
    expect(shape('["abc\\', { maxValues: 2, maxDepth: 1 })).toEqual({ ok: true, values: 2 });
    expect(shape('["abc\\"[1,2,3]', { maxValues: 2, maxDepth: 1 })).toEqual({ ok: true, values: 2 });
  });
});

describe('JsonShapeCounter fed in pieces', () => {
  // Every split point of documents with strings, escapes, numbers, literals and multi-byte
  // characters counts the same as the whole: a body arrives in pieces cut anywhere.
  it.each([
    '{"a":"x\\"y,[","b":["\\\\",{"c":"\\u00e9"}],"d":"é,😀"}',
    '["\\\\\\"",",",[[{}]]]',
    '{"n":[-12.5e+3,0,true,false,null],"k":{"t":1}}',
    ' [ 123 , "4,5" , 6e7 ] ',
  ])('counts %s the same whatever the split', (text) => {
    const bytes = Buffer.from(text);
    const whole = checkJsonShape(bytes, LIMITS);
    expect(whole).toEqual({ ok: true, values: parsedValues(JSON.parse(text)) });
    for (let a = 0; a <= bytes.length; a++) {
      for (let b = a; b <= bytes.length; b++) {
        const counter = new JsonShapeCounter(LIMITS);
        for (const piece of [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)]) expect(counter.feed(piece)).toBeUndefined();
        expect({ ok: true, values: counter.values }).toEqual(whole);
      }
    }
  });

  it('a backslash at the end of a piece escapes the first byte of the next, even across empty pieces', () => {
    const counter = new JsonShapeCounter(LIMITS);
    for (const piece of ['["a\\', '', '', '"[[[', '", 1]']) expect(counter.feed(Buffer.from(piece))).toBeUndefined();
    expect(counter.values).toBe(3);
  });
});
