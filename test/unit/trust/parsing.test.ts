import { parseChallenge } from '../../../src/trust/auth.js';
import { parseJsonBounded } from '../../../src/trust/encoding.js';
import { DEFAULT_LIMITS } from '../../../src/trust/limits.js';
import { parseTimestamp } from '../../../src/trust/metadata.js';
import { parseRfc3339 } from '../../../src/trust/time.js';

describe('parseChallenge', () => {
  it('reads quoted and bare parameters, in any case', () => {
    expect(parseChallenge('Bearer realm="https://auth.example.com/token",service="notary",scope="repository:a/b:pull"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.example.com/token', service: 'notary', scope: 'repository:a/b:pull' },
    });
    expect(parseChallenge('Basic realm=registry')).toEqual({ scheme: 'basic', params: { realm: 'registry' } });
    expect(parseChallenge('Bearer Realm="a\\"b", Service=x')?.params).toEqual({ realm: 'a"b', service: 'x' });
  });

  it('returns undefined for nothing usable', () => {
    expect(parseChallenge('')).toBeUndefined();
  });
});

describe('parseRfc3339', () => {
  it.each([
    ['2026-12-08T21:06:28.975123456Z', Date.UTC(2026, 11, 8, 21, 6, 28, 975)],
    ['2026-12-08T21:06:28Z', Date.UTC(2026, 11, 8, 21, 6, 28)],
    ['2026-12-08T23:06:28.5+02:00', Date.UTC(2026, 11, 8, 21, 6, 28, 500)],
    ['2026-12-08T19:36:28-01:30', Date.UTC(2026, 11, 8, 21, 6, 28)],
  ])('%s', (text, expected) => {
    expect(parseRfc3339(text)).toBe(expected);
  });

  it.each(['2026-02-30T00:00:00Z', '2026-12-08 21:06:28Z', '2026-12-08T21:06:28', '2026-12-08T25:00:00Z', 'soon', '2026-12-08T21:06:28.1234567890Z'])(
    'refuses %s',
    (text) => {
      expect(parseRfc3339(text)).toBeUndefined();
    },
  );
});

describe('metadata guards', () => {
  it('lists every bad field with its path', () => {
    const doc = { signed: { _type: 'Timestamp', version: 0, expires: 'never', meta: { snapshot: { length: -1, hashes: { sha256: 'short' } } } }, signatures: [{ keyid: 1 }] };
    expect(() => parseTimestamp(Buffer.from(JSON.stringify(doc)), DEFAULT_LIMITS)).toThrow(
      /timestamp\.signatures\[0\]\.keyid: expected a string.*timestamp\.signed\.version: expected an integer ≥ 1.*timestamp\.signed\.expires: not an RFC 3339 time/s,
    );
  });

  it('refuses JSON nested deeper than the limit before parsing it', () => {
    expect(() => parseJsonBounded(Buffer.from('['.repeat(40) + ']'.repeat(40)), 32, 'x')).toThrow(/nested deeper than 32/);
    const inString = '['.repeat(41);
    expect(parseJsonBounded(Buffer.from(JSON.stringify({ a: inString })), 32, 'x')).toEqual({ a: inString });
  });
});
