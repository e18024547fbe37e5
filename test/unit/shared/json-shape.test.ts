import { checkJsonShape, JsonShapeCounter } from '../../../src/shared/json-shape.js';

const LIMITS = { maxValues: 1000, maxDepth: 10 };
const shape = (text: string, limits = LIMITS) => checkJsonShape(Buffer.from(text), limits);

describe('checkJsonShape', () => {
  it.each([
    ['1', 0],
    ['"a"', 0],
    ['{}', 1],
    ['[1,2,3]', 3],
    ['{"a":1,"b":[true,null]}', 4],
    ['[{},{},{}]', 6],
  ])('counts containers and commas of %s: %d', (text, values) => {
    expect(shape(text)).toEqual({ ok: true, values });
  });

  it.each([
    ['commas and brackets in strings', '["a,b", "[{", "}]"]', 3],
    ['escaped quotes', '["a\\"[,", "\\\\", ","]', 3],
    ['escaped backslash before a closing quote', '["\\\\",[]]', 3],
    ['multi-byte UTF-8', '["é,ü", "漢字,", "😀["]', 3],
  ])('ignores %s', (_what, text, values) => {
    expect(JSON.parse(text)).toBeDefined(); // real JSON
    expect(shape(text)).toEqual({ ok: true, values });
  });

  it('refuses more values than the limit', () => {
    expect(shape(`[${'0,'.repeat(1000)}0]`)).toEqual({ ok: false, reason: 'too-many-values', message: 'JSON holds more than 1000 values' });
    expect(shape(`[${'0,'.repeat(998)}0]`)).toEqual({ ok: true, values: 999 });
  });

  it('refuses nesting deeper than the limit, at any point', () => {
    expect(shape(`${'['.repeat(11)}${']'.repeat(11)}`)).toEqual({ ok: false, reason: 'too-deep', message: 'JSON nested deeper than 10 levels' });
    expect(shape(`[${'[],'.repeat(50)}${'['.repeat(10)}${']'.repeat(10)}]`).ok).toBe(false);
    expect(shape(`${'['.repeat(10)}${']'.repeat(10)}`).ok).toBe(true);
    // Depth comes back down: many shallow containers are not deep.
    expect(shape(`[${'[[]],'.repeat(100)}[]]`, { maxValues: 1000, maxDepth: 3 }).ok).toBe(true);
  });

  it('is the attacker\'s [{},{},…] refused within its first bytes', () => {
    const counter = new JsonShapeCounter({ maxValues: 250_000, maxDepth: 100 });
    const junk = Buffer.from(`[${'{},'.repeat(200_000)}{}]`);
    expect(counter.feed(junk)?.reason).toBe('too-many-values');
  });
});

describe('JsonShapeCounter fed in pieces', () => {
  // Every split point of documents with strings, escapes and multi-byte characters counts the
  // same as the whole: a body arrives in pieces cut anywhere.
  it.each([
    '{"a":"x\\"y,[","b":["\\\\",{"c":"\\u00e9"}],"d":"é,😀"}',
    '["\\\\\\"",",",[[{}]]]',
  ])('counts %s the same whatever the split', (text) => {
    const bytes = Buffer.from(text);
    const whole = checkJsonShape(bytes, LIMITS);
    for (let a = 0; a <= bytes.length; a++) {
      for (let b = a; b <= bytes.length; b++) {
        const counter = new JsonShapeCounter(LIMITS);
        for (const piece of [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)]) expect(counter.feed(piece)).toBeUndefined();
        expect({ ok: true, values: counter.values }).toEqual(whole);
      }
    }
  });
});
