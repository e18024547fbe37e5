// The pre-scan that bounds JSON.parse (src/trust/json-scan.ts): exact for valid JSON, never
// fooled by structure inside strings, linear on hostile input.
import { scanJson } from '../../../src/trust/json-scan.js';

const LOOSE = { maxDepth: 1000, maxValues: 1_000_000 };

/** The number of values the scan counts: the smallest maxValues it accepts. */
function valuesIn(text: string): number {
  const bytes = Buffer.from(text);
  let low = 0;
  while (scanJson(bytes, { maxDepth: 1000, maxValues: low })) low++;
  return low;
}

/** Values and keys as JSON.parse sees them, for comparison. */
function parsedValues(value: unknown): number {
  if (Array.isArray(value)) return 1 + value.reduce((sum: number, v) => sum + parsedValues(v), 0);
  if (value !== null && typeof value === 'object') return 1 + Object.values(value).reduce((sum: number, v) => sum + 1 + parsedValues(v), 0);
  return 1;
}

describe('scanJson counts what JSON.parse builds', () => {
  it.each([
    ['scalars', '[1, -2.5e-3, true, false, null, "x"]'],
    ['an object with keys', '{"a": 1, "b": {"c": [10, 20e+2]}, "d": []}'],
    ['a bare number', '12345'],
    ['a bare string', '"hi"'],
    ['whitespace everywhere', ' \n{ "a" :\t[ 1 ,\r\n 2 ] } '],
    ['notary targets entries', '{"1.0":{"hashes":{"sha256":"abc="},"length":1234},"latest":{"hashes":{"sha256":"abc=","sha512":"def="},"length":5}}'],
  ])('%s', (_what, text) => {
    expect(valuesIn(text)).toBe(parsedValues(JSON.parse(text)));
  });

  it.each([
    ['brackets and braces in strings', '["[[[{{{", "]]]}}}", "{\\"a\\": [1,2,3]}"]'],
    ['escaped quotes that do not end the string', '["a\\"[1,2,3,4,5]\\"b"]'],
    ['an escaped backslash before the closing quote', '["a\\\\", 1]'],
    ['unicode escapes, including of a quote', '["\\u0022[1,2]\\u005b", "\\u00e9"]'],
    ['raw multi-byte UTF-8 (never mistaken for structure)', '["é€😀[", "ÿ"]'],
    ['scalar-looking letters inside strings and keys', '{"true": "null,1,2,3", "-5": "f"}'],
  ])('is not fooled by %s', (_what, text) => {
    expect(valuesIn(text)).toBe(parsedValues(JSON.parse(text)));
  });
});

describe('scanJson refuses', () => {
  it('more values than allowed, where the bound is passed', () => {
    const text = `[${'{},'.repeat(99)}{}]`; // 101 values
    expect(scanJson(Buffer.from(text), { maxDepth: 10, maxValues: 101 })).toBeUndefined();
    expect(scanJson(Buffer.from(text), { maxDepth: 10, maxValues: 100 })).toEqual({ exceeded: 'values', offset: text.length - 3 });
  });

  it('deeper nesting than allowed, in arrays and objects alike', () => {
    expect(scanJson(Buffer.from('['.repeat(33) + ']'.repeat(33)), { maxDepth: 32, maxValues: 100 })).toEqual({ exceeded: 'depth', offset: 32 });
    expect(scanJson(Buffer.from('{"a":'.repeat(33) + '1' + '}'.repeat(33)), { maxDepth: 32, maxValues: 1000 })?.exceeded).toBe('depth');
    expect(scanJson(Buffer.from('['.repeat(32) + ']'.repeat(32)), { maxDepth: 32, maxValues: 100 })).toBeUndefined();
  });

  it('does not count nesting inside strings', () => {
    expect(scanJson(Buffer.from(JSON.stringify(['['.repeat(100), '{'.repeat(100)])), { maxDepth: 1, maxValues: 3 })).toBeUndefined();
  });

  it('stops early on a long hostile document, and runs in linear time', () => {
    const pad = Buffer.from(`[${'{},'.repeat(5_000_000)}{}]`); // 15 MB, 5 million objects
    const started = performance.now();
    expect(scanJson(pad, LOOSE)?.exceeded).toBe('values');
    const unbounded = scanJson(pad, { maxDepth: 10, maxValues: 10_000_000 });
    expect(unbounded).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('an unterminated string ends the scan without counting past it', () => {
    expect(scanJson(Buffer.from('["abc'), { maxDepth: 1, maxValues: 2 })).toBeUndefined();
    expect(scanJson(Buffer.from('["abc\\'), { maxDepth: 1, maxValues: 2 })).toBeUndefined();
  });
});
