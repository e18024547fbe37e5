import { compileIdentityPattern, type IdentityPattern } from '../../../../src/trust/cosign/index.js';

function compiled(source: string): IdentityPattern {
  const p = compileIdentityPattern(source);
  if (typeof p === 'string') throw new Error(p);
  return p;
}

describe('identity patterns (RE2 syntax, whole-text match, linear time)', () => {
  it.each([
    ['https://github\\.com/org/.*', 'https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1', true],
    ['https://github\\.com/org/.*', 'https://evil.example/?https://github.com/org/x', false],
    ['^https://github\\.com/org/$', 'https://github.com/org/', true],
    ['https://github\\.com/org/', 'https://github.com/org/repo', false],
    ['[a-z]+@example\\.(com|org)', 'alice@example.org', true],
    ['[a-z]+@example\\.(com|org)', 'alice@example.net', false],
    ['(?:a|b){2,3}', 'aba', true],
    ['(?:a|b){2,3}', 'abab', false],
    ['\\w+-\\d{2}', 'build_x-42', true],
    ['[^/]+', 'a/b', false],
    ['a.c', 'a\nc', false],
    ['x?y*z+', 'z', true],
    // Classes are range tables: merged, negated, with escapes and astral code points.
    ['[a-cx-z]+', 'abzy', true],
    ['[a-cx-z]+', 'abd', false],
    ['[c-ea-d]+', 'abcde', true],
    ['[^\\d]+', 'abc', true],
    ['[^\\d]+', 'a1', false],
    ['[\\w-]+', 'a-b_9', true],
    ['[\\w-]+', 'a.b', false],
    ['[^a]', '\u{1F600}', true],
    ['[\u{1F600}-\u{1F64F}]', '\u{1F610}', true],
    ['\\S+', 'a\u00a0b', true],
    ['\\D\\W', 'x ', true],
  ])('%s on %j: %s', (source, text, expected) => {
    expect(compiled(source).test(text)).toBe(expected);
  });

  it.each([
    ['(a)\\1', 'back-references'],
    ['a|^b', 'may only start'],
    ['(?=a)b', 'lookarounds'],
    ['(?i)abc', 'flags'],
    ['(?P<n>a)', 'named groups'],
    ['a**', 'nested repetition'],
    ['*a', 'missing argument'],
    ['(a', 'missing ")"'],
    ['a)', 'unexpected ")"'],
    ['[a', 'missing "]"'],
    ['[z-a]', 'invalid range'],
    ['\\bword', 'not supported'],
    ['\\p{L}', 'not supported'],
    ['[[:alpha:]]', 'POSIX'],
    ['a{1001}', 'invalid repeat'],
    ['(?:(?:a{100}){100})', 'too complex'],
    ['', '1-512'],
    ['a'.repeat(513), '1-512'],
  ])('refuses %s (%s)', (source, why) => {
    const p = compileIdentityPattern(source);
    expect(typeof p).toBe('string');
    expect(p).toContain(why);
  });

  it('runs patterns that make backtracking engines explode in linear time', () => {
    const text = `${'a'.repeat(4000)}!`;
    for (const source of ['(a|a)*b', '(a*)*b', '(?:a+)+b', `${'a*'.repeat(30)}b`, '.*.*.*.*.*.*x']) {
      const started = process.hrtime.bigint();
      expect(compiled(source).test(text)).toBe(false);
      expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(500);
    }
  });
});
