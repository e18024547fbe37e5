// A registry token server (docker/distribution "token" auth) for tests: notary-server verifies
// its JWTs itself (ES256 with an x5c chain to the rootcertbundle it is given), so the server
// under test stays real. Grants pull and push to one user, and to an OAuth2 refresh token.
import { createHash, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { selfSignedCertificate } from './keys.js';
import type { TlsFiles } from './tls.js';
import { TrustStack } from './stack.js';

export const TOKEN_USER = { username: 'alice', password: 's3cret' };
export const REFRESH_TOKEN = 'refresh-token-for-alice';
export const TOKEN_SERVICE = 'notary-test';
export const TOKEN_ISSUER = 'trustgate-test-issuer';

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export class TokenServer {
  readonly requests: { method: string; user: string | undefined; scope: string | null; grant: string | undefined }[] = [];
  readonly bundle: string;
  private readonly key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  private readonly certDer: Buffer;
  private readonly server: https.Server;

  constructor(tls: TlsFiles, dir: string) {
    const pem = selfSignedCertificate(this.key, { cn: 'trustgate test token signer' });
    this.bundle = path.join(dir, 'token-bundle.pem');
    writeFileSync(this.bundle, pem);
    this.certDer = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    this.server = https.createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'https://x');
        const form = new URLSearchParams(body);
        const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        const [user, password] = basic ? Buffer.from(basic, 'base64').toString().split(':') : [];
        const scope = req.method === 'POST' ? form.get('scope') : url.searchParams.get('scope');
        this.requests.push({ method: req.method ?? '', user, scope, grant: form.get('grant_type') ?? undefined });
        const authorised =
          (user === TOKEN_USER.username && password === TOKEN_USER.password) ||
          (req.method === 'POST' && form.get('grant_type') === 'refresh_token' && form.get('refresh_token') === REFRESH_TOKEN);
        if (basic && !authorised) {
          res.writeHead(401).end('{"details":"bad credentials"}');
          return;
        }
        // Anonymous callers get a token with no access, as Docker Hub's token server does.
        const token = this.token(authorised ? scope : null);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.method === 'POST' ? { access_token: token, expires_in: 300 } : { token, expires_in: 300 }));
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}/token`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private token(scope: string | null): string {
    const access = (scope ?? '').split(' ').filter(Boolean).map((s) => {
      const [type, name, actions] = [s.slice(0, s.indexOf(':')), s.slice(s.indexOf(':') + 1, s.lastIndexOf(':')), s.slice(s.lastIndexOf(':') + 1)];
      return { type, name, actions: actions.split(',') };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'ES256', x5c: [this.certDer.toString('base64')] };
    const claims = { iss: TOKEN_ISSUER, sub: 'alice', aud: TOKEN_SERVICE, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = sign('sha256', Buffer.from(input), { key: this.key, dsaEncoding: 'ieee-p1363' });
    return `${input}.${b64url(sig)}`;
  }

  fingerprint(): string {
    return createHash('sha256').update(this.certDer).digest('hex');
  }
}

/**
 * The stack's notary-server behind token auth (this TokenServer as its realm), with `gun`'s tag
 * `1.0` signed as `digest` by TOKEN_USER through it: a private trust server that answers only a
 * client holding the credentials.
 */
export async function tokenAuthStack(gun: string, digest: string): Promise<{ stack: TrustStack; tokens: TokenServer }> {
  let tokens: TokenServer | undefined;
  const stack = await TrustStack.start({
    registry: false,
    tokenAuth: async (dir, tls) => {
      tokens = new TokenServer(tls, dir);
      return { realm: await tokens.listen(), service: TOKEN_SERVICE, issuer: TOKEN_ISSUER, rootCertBundle: tokens.bundle };
    },
  });
  const creds = `${TOKEN_USER.username}\n${TOKEN_USER.password}\n`;
  await stack.notaryOk(['init', gun], creds);
  await stack.notaryOk(['addhash', gun, '1.0', '1234', '--sha256', digest.slice(7)]);
  await stack.notaryOk(['publish', gun], creds);
  return { stack, tokens: tokens! };
}
