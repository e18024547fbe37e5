// `trustgate check`/`pin --docker-config`: the caller's registry credentials, read from a docker
// config, against manifests from a pull request. A credential goes only to the registry it is
// for: never to another host a manifest names (an image on an attacker's registry, however its
// path imitates the real one), never over a connection an ImagePolicy chose (its own trust
// server), and never into any output format. A docker config that cannot be read is an error
// (exit 2) before anything is fetched, never a quiet anonymous run.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dockerConfigDir, tempFiles } from '../support/check-cli.js';
import { trustgate } from '../support/cli.js';
import { CredentialRecorder } from '../support/credential-recorder.js';
import { TrustStack } from '../support/stack.js';
import { tokenAuthStack, TOKEN_USER, type TokenServer } from '../support/token-server.js';

const GUN = 'registry.test/private/app';
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const AUTH = Buffer.from(`${TOKEN_USER.username}:${TOKEN_USER.password}`).toString('base64');
let stack: TrustStack;
let tokens: TokenServer;
let attacker: CredentialRecorder;
let attackerHost: string;
let dir: string;
let policies: string;
let manifests: string;
let bin: string;

/** A directory holding a config.json. */
const dockerConfig = (name: string, config: unknown) => dockerConfigDir(dir, name, config);

beforeAll(async () => {
  ({ stack, tokens } = await tokenAuthStack(GUN, DIGEST));
  attacker = new CredentialRecorder(stack.tls);
  attackerHost = `127.0.0.1:${await attacker.listen()}`;
  const ca = JSON.stringify(readFileSync(stack.tls.caCert, 'utf8'));
  dir = tempFiles({});
  policies = path.join(dir, 'policies.yaml');
  // The platform's policies: registry.test on its Notary server; any image of the attacker's
  // host on that host's own trust server (docker's default, https://<registry>). The namespace's
  // ImagePolicy names its own trust server for registry.test: a connection the tenant chose.
  writeFileSync(policies, `apiVersion: trustgate.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: private}
spec:
  images: ["registry.test/**"]
  trust: {server: "${stack.notaryUrl}", caBundle: ${ca}, trustOnFirstUse: true}
---
apiVersion: trustgate.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: elsewhere}
spec:
  images: ["${attackerHost}/**"]
  trust: {caBundle: ${ca}, trustOnFirstUse: true}
---
apiVersion: trustgate.dev/v1alpha1
kind: ImagePolicy
metadata: {name: mine, namespace: shop}
spec:
  images: ["registry.test/**"]
  trust: {server: "https://${attackerHost}", caBundle: ${ca}, trustOnFirstUse: true}
`);
  manifests = path.join(dir, 'pr.yaml');
  const images = [`${GUN}:1.0`, `${attackerHost}/private/app:1.0`, `${attackerHost}/registry.test/private/app:1.0`];
  writeFileSync(manifests, images.map((image, i) => `apiVersion: v1\nkind: Pod\nmetadata: {name: p${i}, namespace: ${i === 0 ? 'shop' : 'default'}}\nspec: {containers: [{name: c, image: "${image}"}]}\n`).join('---\n'));
  bin = path.join(dir, 'bin');
  mkdirSync(bin);
  // A credential helper that has registry.test's credentials and nothing else.
  writeFileSync(path.join(bin, 'docker-credential-tgtest'), `#!/bin/sh
read server
if [ "$server" = "registry.test" ]; then echo '{"ServerURL":"registry.test","Username":"${TOKEN_USER.username}","Secret":"${TOKEN_USER.password}"}'; exit 0; fi
echo "credentials not found in native keychain"; exit 1
`);
  chmodSync(path.join(bin, 'docker-credential-tgtest'), 0o755);
});

afterAll(async () => {
  await attacker?.close();
  await tokens?.close();
  await stack?.stop();
});

const run = (args: string[], env: Record<string, string> = {}) => trustgate(args, { env: { PATH: `${bin}:${process.env.PATH ?? ''}`, ...env } });

/** Nothing of the credential, nor of a token bought with it, in what the command printed. */
function expectNoSecret(text: string): void {
  expect(text).not.toContain(TOKEN_USER.password);
  expect(text).not.toContain(AUTH);
  expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/); // a JWT from the token server
  expect(text).not.toMatch(/Bearer|Basic /);
}

describe('check --docker-config: where the credentials go', () => {
  const configs = () => [
    ['auths', dockerConfig(`auths-${Math.random()}`, { auths: { 'registry.test': { auth: AUTH } } })],
    ['credsStore', dockerConfig(`helper-${Math.random()}`, { credsStore: 'tgtest' })],
  ] as const;

  it.each(['Basic realm="trust"', 'Bearer realm="https://HOST/token",service="registry"'])(
    'only registry.test\'s own Notary server gets them; the attacker\'s host and the ImagePolicy\'s server get nothing (challenge %s), in any output format',
    async (challenge) => {
      attacker.challenge = challenge.replace('HOST', attackerHost);
      for (const [how, config] of configs()) {
        for (const output of ['text', 'json', 'sarif']) {
          attacker.received.length = 0;
          const before = tokens.requests.filter((q) => q.user === TOKEN_USER.username).length;
          const r = await run(['check', '-f', manifests, '--policies', policies, '--docker-config', config, '--output', output]);
          expect({ how, output, code: r.code }).toEqual({ how, output, code: 1 });
          // Used where they belong: registry.test's token server saw alice (so they were read and sent).
          expect(tokens.requests.filter((q) => q.user === TOKEN_USER.username).length).toBeGreaterThan(before);
          // The attacker's host was asked (each image and the ImagePolicy's server), anonymously.
          expect(attacker.received.length).toBeGreaterThan(0);
          expect(attacker.credentials().filter((c) => c !== 'Bearer recorded-token')).toEqual([]);
          expect(attacker.received.filter((q) => q.path.startsWith('/token')).map((q) => q.authorization)).toEqual(attacker.received.filter((q) => q.path.startsWith('/token')).map(() => undefined));
          expectNoSecret(r.stdout + r.stderr);
        }
      }
    },
  );

  it('pin refuses the pull request and prints no credential either', async () => {
    const [, [, config]] = configs();
    const r = await run(['pin', '-f', manifests, '--policies', policies, '--docker-config', config]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expectNoSecret(r.stdout + r.stderr);
  });
});

describe('check --docker-config: a config that cannot be used', () => {
  const cases: [string, () => { args: string[]; env?: Record<string, string> }, RegExp][] = [
    ['not JSON (and holding a credential)', () => ({ args: ['--docker-config', dockerConfig('truncated', `{"auths": {"registry.test": {"auth": "${AUTH}"`)] }), /^trustgate: INVALID_CREDENTIALS: .*config\.json: not valid JSON$/],
    ['auths not an object', () => ({ args: ['--docker-config', dockerConfig('array', { auths: [AUTH] })] }), /INVALID_CREDENTIALS: .*auths must be an object$/],
    ['auth not base64 of user:password', () => ({ args: ['--docker-config', dockerConfig('nocolon', { auths: { 'registry.test': { auth: Buffer.from(TOKEN_USER.password).toString('base64') } } })] }), /INVALID_CREDENTIALS: .*auths\["registry\.test"\]\.auth: expected base64 of "user:password"$/],
    ['a file that does not exist', () => ({ args: ['--docker-config', path.join(dir, 'missing', 'config.json')] }), /^trustgate: USAGE: --docker-config: cannot read .*: ENOENT$/],
    ['a directory without config.json', () => ({ args: ['--docker-config', dockerConfig('empty-dir', {}).replace(/$/, '/nested')] }), /USAGE: --docker-config: cannot read .*: ENOENT$/],
    ['a config.json that is a directory (unreadable)', () => {
      const d = path.join(dir, 'isdir');
      mkdirSync(path.join(d, 'config.json'), { recursive: true });
      return { args: ['--docker-config', d] };
    }, /USAGE: --docker-config: cannot read .*config\.json: EISDIR$/],
    ['a helper that is not installed', () => ({ args: ['--docker-config', dockerConfig('nohelper', { credsStore: 'not-installed' })] }), /INVALID_CREDENTIALS: .*docker-credential-not-installed is not installed/],
    ['a helper name that is a path', () => ({ args: ['--docker-config', dockerConfig('pathhelper', { credHelpers: { 'registry.test': '../../bin/sh' } })] }), /INVALID_CREDENTIALS: .*credHelpers\["registry\.test"\]: expected a credential helper name/],
    ['the default ($DOCKER_CONFIG) malformed', () => ({ args: [], env: { DOCKER_CONFIG: dockerConfig('default-bad', '{') } }), /INVALID_CREDENTIALS: .*not valid JSON$/],
  ];

  it.each(cases)('%s: exit 2 with a clear one-line error, nothing fetched, nothing of it printed', async (_name, make, error) => {
    const { args, env } = make();
    const before = { tokens: tokens.requests.length, attacker: attacker.received.length };
    const r = await run(['check', '-f', manifests, '--policies', policies, ...args], env);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toMatch(error);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expectNoSecret(r.stderr);
    expect({ tokens: tokens.requests.length, attacker: attacker.received.length }).toEqual(before);
  });

  it('a flood of registries behind a credential helper is refused before any helper runs', async () => {
    const flood = path.join(dir, 'flood.yaml');
    writeFileSync(flood, Array.from({ length: 65 }, (_, i) => `apiVersion: v1\nkind: Pod\nmetadata: {name: p${i}}\nspec: {containers: [{name: c, image: "r${i}.example/app:1"}]}\n`).join('---\n'));
    const log = path.join(dir, 'flood-helper.log');
    writeFileSync(path.join(bin, 'docker-credential-counting'), `#!/bin/sh\necho x >> ${log}\nexit 1\n`);
    chmodSync(path.join(bin, 'docker-credential-counting'), 0o755);
    const r = await run(['check', '-f', flood, '--policies', policies, '--docker-config', dockerConfig('counting', { credsStore: 'counting' })]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/USAGE: the manifests name 65 registries whose credentials the docker config .* keeps in a credential helper; check asks a helper about at most 64$/m);
    expect(() => readFileSync(log)).toThrow(/ENOENT/);
  });
});
