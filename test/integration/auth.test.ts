// The Bearer-token flow against a real notary-server with token auth on: the challenge is read
// from the server, credentials come from flags or a docker config, and the server itself checks
// every token (test/support/token-server.ts issues them).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { trustgate } from '../support/cli.js';
import { run, runOk } from '../support/processes.js';
import { TrustStack } from '../support/stack.js';
import { REFRESH_TOKEN, TOKEN_ISSUER, TOKEN_SERVICE, TOKEN_USER, TokenServer } from '../support/token-server.js';

const GUN = 'registry.test/auth/app';
const DIGEST = `sha256:${'ab'.repeat(32)}`;
let stack: TrustStack;
let tokens: TokenServer;
let trust: string[];
const creds = `${TOKEN_USER.username}\n${TOKEN_USER.password}\n`;

beforeAll(async () => {
  stack = await TrustStack.start({
    registry: false,
    tokenAuth: async (dir, tls) => {
      tokens = new TokenServer(tls, dir);
      return { realm: await tokens.listen(), service: TOKEN_SERVICE, issuer: TOKEN_ISSUER, rootCertBundle: tokens.bundle };
    },
  });
  // notary reads all of stdin at its first prompt: one process per authenticated step.
  await stack.notaryOk(['init', GUN], creds);
  await stack.notaryOk(['addhash', GUN, '1.0', '1234', '--sha256', DIGEST.slice(7)]);
  await stack.notaryOk(['publish', GUN], creds);
  trust = ['--trust-server', stack.notaryUrl, '--ca-file', stack.tls.caCert];
});

afterAll(async () => {
  await stack?.stop();
  await tokens?.close();
});

function dockerConfig(auths: Record<string, unknown>): string {
  const file = path.join(stack.dir, `docker-config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ auths }));
  return file;
}

const basicAuth = Buffer.from(`${TOKEN_USER.username}:${TOKEN_USER.password}`).toString('base64');

describe('token authentication', () => {
  it('refuses anonymous access with AUTH_FAILED (the anonymous token grants nothing)', async () => {
    const r = await trustgate(['verify', `${GUN}:1.0`, ...trust]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/AUTH_FAILED: .* refused access to the trust data of registry.test\/auth\/app/);
  });

  it('uses --username with --password-stdin, asking the realm named in the challenge', async () => {
    tokens.requests.length = 0;
    const r = await trustgate(['verify', `${GUN}:1.0`, ...trust, '--username', TOKEN_USER.username, '--password-stdin'], { input: `${TOKEN_USER.password}\n` });
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')[0]).toBe(`${GUN}:1.0@${DIGEST}`);
    // One token for the whole verification, for pull only.
    expect(tokens.requests).toEqual([{ method: 'GET', user: 'alice', scope: `repository:${GUN}:pull`, grant: undefined }]);
  });

  it.each([
    ['the trust server host', () => new URL(stack.notaryUrl).host],
    ['the trust server as a URL with a path', () => `${stack.notaryUrl}/v2/`],
    ['the registry of the image', () => 'registry.test'],
  ])('finds docker-config credentials under %s', async (_name, key) => {
    const file = dockerConfig({ [key()]: { auth: basicAuth } });
    const r = await trustgate(['verify', `${GUN}:1.0`, ...trust, '--docker-config', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('exchanges an identity token with the OAuth2 refresh-token grant', async () => {
    tokens.requests.length = 0;
    const file = dockerConfig({ 'registry.test': { identitytoken: REFRESH_TOKEN } });
    const r = await trustgate(['verify', `${GUN}:1.0`, ...trust, '--docker-config', file]);
    expect(r.code).toBe(0);
    expect(tokens.requests).toEqual([{ method: 'POST', user: undefined, scope: `repository:${GUN}:pull`, grant: 'refresh_token' }]);
  });

  it('reports wrong credentials as AUTH_FAILED, without echoing them', async () => {
    const file = dockerConfig({ 'registry.test': { auth: Buffer.from('alice:wrong').toString('base64') } });
    const r = await trustgate(['verify', `${GUN}:1.0`, ...trust, '--docker-config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/AUTH_FAILED: .* refused the credentials for repository:registry.test\/auth\/app:pull \(HTTP 401\)/);
    expect(r.stderr).not.toMatch(/wrong/);
  });

  it('refuses a malformed docker config as a usage error naming the entry', async () => {
    const file = dockerConfig({ 'registry.test': { auth: 'bm90LWEtcGFpcg==' } });
    const r = await trustgate(['verify', `${GUN}:1.0`, ...trust, '--docker-config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/auths\["registry.test"\]\.auth: expected base64 of "user:password"/);
  });
});

describe('credentials kept by a docker credential helper (docker-credential-pass, as `docker login` with credsStore leaves them)', () => {
  // A real helper over a real pass store, encrypted to a GPG key without a passphrase.
  let env: NodeJS.ProcessEnv;
  let tokenEnv: NodeJS.ProcessEnv;
  const KEY = 'trustgate-test@example.invalid';

  beforeAll(async () => {
    const gnupg = path.join(stack.dir, 'gnupg');
    mkdirSync(gnupg, { mode: 0o700 });
    env = { GNUPGHOME: gnupg, PASSWORD_STORE_DIR: path.join(stack.dir, 'pass') };
    tokenEnv = { ...env, PASSWORD_STORE_DIR: path.join(stack.dir, 'pass-token') };
    await runOk('gpg', ['--batch', '--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', KEY, 'default', 'default', 'never'], { env });
    for (const [storeEnv, username, secret] of [[env, TOKEN_USER.username, TOKEN_USER.password], [tokenEnv, '<token>', REFRESH_TOKEN]] as const) {
      await runOk('pass', ['init', KEY], { env: storeEnv });
      await runOk('docker-credential-pass', ['store'], { env: storeEnv, input: JSON.stringify({ ServerURL: 'registry.test', Username: username, Secret: secret }) });
    }
  });

  afterAll(async () => {
    await run('gpgconf', ['--kill', 'gpg-agent'], { env });
  });

  const config = (doc: Record<string, unknown>) => {
    const file = path.join(stack.dir, `docker-config-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(doc));
    return file;
  };

  it('credsStore: asks the helper (it has nothing for the trust server\'s host, then the registry\'s)', async () => {
    tokens.requests.length = 0;
    const r = await trustgate(['verify', `${GUN}:1.0`, ...trust, '--docker-config', config({ auths: {}, credsStore: 'pass' })], { env });
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')[0]).toBe(`${GUN}:1.0@${DIGEST}`);
    expect(tokens.requests).toEqual([{ method: 'GET', user: 'alice', scope: `repository:${GUN}:pull`, grant: undefined }]);
  });

  it('credHelpers: the registry\'s own helper wins over a stale auths entry', async () => {
    const stale = { 'registry.test': { auth: Buffer.from('alice:old-password').toString('base64') } };
    const r = await trustgate(['verify', `${GUN}:1.0`, ...trust, '--docker-config', config({ auths: stale, credHelpers: { 'registry.test': 'pass' } })], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('an identity token kept by the helper (username "<token>") is exchanged as docker does', async () => {
    tokens.requests.length = 0;
    const r = await trustgate(['verify', `${GUN}:1.0`, ...trust, '--docker-config', config({ credsStore: 'pass' })], { env: tokenEnv });
    expect(r.code).toBe(0);
    expect(tokens.requests).toEqual([{ method: 'POST', user: undefined, scope: `repository:${GUN}:pull`, grant: 'refresh_token' }]);
  });

  it('a helper that is not installed is a clear usage error, not an anonymous attempt', async () => {
    tokens.requests.length = 0;
    const r = await trustgate(['verify', `${GUN}:1.0`, ...trust, '--docker-config', config({ credsStore: 'desktop' })], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/INVALID_CREDENTIALS: the docker config names the credential helper "desktop" for .*, but docker-credential-desktop is not installed/);
    expect(tokens.requests).toEqual([]);
  });
});

