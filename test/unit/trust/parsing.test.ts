import { parseChallenge } from '../../../src/registry/auth.js';
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
    expect(() => parseJsonBounded(Buffer.from('['.repeat(40) + ']'.repeat(40)), { maxDepth: 32, maxValues: 1000 }, 'x')).toThrow(/nested deeper than 32/);
    const inString = '['.repeat(41);
    expect(parseJsonBounded(Buffer.from(JSON.stringify({ a: inString })), { maxDepth: 32, maxValues: 1000 }, 'x')).toEqual({ a: inString });
  });
});

describe('TokenSource', () => {
  it('never reuses a token across different passwords for the same user', async () => {
    const { TokenSource } = await import('../../../src/registry/auth.js');
    const https = await import('node:https');
    const { readFileSync, mkdtempSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { makeTls } = await import('../../support/tls.js');
    const tls = await makeTls(mkdtempSync(path.join(os.tmpdir(), 'trustgate-token-')));
    let issued = 0;
    // Credentials only ever go to HTTPS realms, so the token endpoint is HTTPS.
    const server = https.createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (_req, res) => {
      issued++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `t-${issued}` }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const source = new TokenSource();
      const challenge = { scheme: 'bearer', params: { realm: `https://127.0.0.1:${port}/token`, service: 's' } };
      const agent = new https.Agent({ ca: readFileSync(tls.caCert) });
      const io = { agent, timeoutMs: 2000, signal: undefined, server: new URL(`https://127.0.0.1:${port}`) };
      const a = await source.authorization(challenge, 'repository:x:pull', { username: 'u', password: 'right' }, io);
      const again = await source.authorization(challenge, 'repository:x:pull', { username: 'u', password: 'right' }, io);
      const b = await source.authorization(challenge, 'repository:x:pull', { username: 'u', password: 'wrong' }, io);
      agent.destroy();
      expect(again).toBe(a);
      expect(b).not.toBe(a);
      expect(issued).toBe(2);
    } finally {
      server.close();
    }
  });

  it('refuses to send credentials to a realm that is not HTTPS', async () => {
    const { TokenSource } = await import('../../../src/registry/auth.js');
    const http = await import('node:http');
    const challenge = { scheme: 'bearer', params: { realm: 'http://evil.example/token', service: 's' } };
    const io = { agent: new http.Agent(), timeoutMs: 2000, signal: undefined, server: new URL('https://notary.example') };
    await expect(new TokenSource().authorization(challenge, 'repository:x:pull', { username: 'u', password: 'p' }, io)).rejects.toMatchObject({ code: 'AUTH_FAILED' });
  });
});
