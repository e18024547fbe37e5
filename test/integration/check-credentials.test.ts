// `trustgate check` and `pin` with registry credentials (--docker-config): a real notary-server
// that requires token auth (test/support/token-server.ts), and a docker-registry over HTTPS with
// htpasswd holding a notation-go signature, so the signed image is admitted only when the
// caller's docker config has the credentials, read as docker reads them: a config.json, the
// directory holding it, $DOCKER_CONFIG, or a credential helper it names.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dockerConfigDir, runCli, tempFiles } from '../support/check-cli.js';
import { trustgate } from '../support/cli.js';
import { notationPki, notationSign, notationTrustPolicy, NOTATION_STORES } from '../support/notation.js';
import { pushImage, startDockerRegistry, type RegistryServer } from '../support/registries.js';
import { TrustStack } from '../support/stack.js';
import { tokenAuthStack, TOKEN_USER, type TokenServer } from '../support/token-server.js';

const GUN = 'registry.test/private/app';
const DIGEST = `sha256:${'cd'.repeat(32)}`;
let stack: TrustStack;
let tokens: TokenServer;
let dir: string;
let policies: string;

const auth = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');

/** A directory holding a config.json. */
const dockerConfig = (name: string, config: unknown) => dockerConfigDir(dir, name, config);

beforeAll(async () => {
  ({ stack, tokens } = await tokenAuthStack(GUN, DIGEST));
  dir = tempFiles({ 'pod.yaml': `apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers:\n    - name: app\n      image: ${GUN}:1.0\n` });
  policies = path.join(dir, 'policies.yaml');
  writeFileSync(policies, `apiVersion: trustgate.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: private}
spec:
  images: ["registry.test/**"]
  trust: {server: "${stack.notaryUrl}", caBundle: ${JSON.stringify(readFileSync(stack.tls.caCert, 'utf8'))}, trustOnFirstUse: true}
`);
});

afterAll(async () => {
  await tokens?.close();
  await stack?.stop();
});

const check = (extra: string[], env: Record<string, string> = {}) => runCli(['check', '-f', path.join(dir, 'pod.yaml'), '--policies', policies, ...extra], { env: { DOCKER_CONFIG: path.join(dir, 'none'), ...env } });

describe('trustgate check with registry credentials', () => {
  it('without credentials the Notary server refuses, and so does check (AUTH_FAILED, exit 1)', async () => {
    const r = await check([]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${path.join(dir, 'pod.yaml')}:7: deny: Pod/p: container "app" image "${GUN}:1.0": AUTH_FAILED: `);
  });

  it('admits with the docker config\'s credentials: --docker-config DIR or FILE, or $DOCKER_CONFIG', async () => {
    const good = dockerConfig('good', { auths: { 'registry.test': { auth: auth(TOKEN_USER.username, TOKEN_USER.password) } } });
    for (const [extra, env] of [[['--docker-config', good], {}], [['--docker-config', path.join(good, 'config.json')], {}], [[], { DOCKER_CONFIG: good }]] as const) {
      const r = await check([...extra, '--output', 'json'], env);
      expect({ extra, env, stderr: r.stderr, code: r.code }).toEqual({ extra, env, stderr: '', code: 0 });
      expect(JSON.parse(r.stdout)).toMatchObject({ admitted: true, objects: [{ containers: [{ pinned: `${GUN}:1.0@${DIGEST}`, verifiedBy: ['notary'] }] }] });
    }
    // The token server saw alice: the credentials are what admitted it.
    expect(tokens.requests.some((q) => q.user === TOKEN_USER.username)).toBe(true);
  });

  it('reads a directory of manifests with them (the docs\' example)', async () => {
    const good = dockerConfig('docs', { auths: { 'registry.test': { auth: auth(TOKEN_USER.username, TOKEN_USER.password) } } });
    const deploy = tempFiles({ 'web.yaml': readFileSync(path.join(dir, 'pod.yaml'), 'utf8') });
    const r = await runCli(['check', '-f', deploy, '--policies', policies, '--docker-config', good], { env: { DOCKER_CONFIG: path.join(dir, 'none') } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('1 objects, 1 images checked: all would be admitted (namespaces decided as if labelled trustgate.dev/enforce=true)');
  });

  it('pins with them too', async () => {
    const good = dockerConfig('pin', { auths: { 'https://registry.test/v1/': { username: TOKEN_USER.username, password: TOKEN_USER.password } } });
    const r = await runCli(['pin', '-f', path.join(dir, 'pod.yaml'), '--policies', policies, '--docker-config', good], { env: { DOCKER_CONFIG: path.join(dir, 'none') } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`image: ${GUN}:1.0@${DIGEST}`);
  });

  it('refuses wrong credentials with AUTH_FAILED', async () => {
    const wrong = dockerConfig('wrong', { auths: { 'registry.test': { auth: auth(TOKEN_USER.username, 'wrong') } } });
    const r = await check(['--docker-config', wrong]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('AUTH_FAILED');
  });

  it('asks the credential helper the config names (credsStore), once per registry, as the built command', async () => {
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    const log = path.join(dir, 'helper.log');
    // docker-credential-helpers' protocol: the server address on stdin, JSON on stdout.
    writeFileSync(path.join(bin, 'docker-credential-tgtest'), `#!/bin/sh
read server
echo "$1 $server" >> ${log}
if [ "$server" = "registry.test" ]; then echo '{"ServerURL":"registry.test","Username":"${TOKEN_USER.username}","Secret":"${TOKEN_USER.password}"}'; exit 0; fi
echo "credentials not found in native keychain"; exit 1
`);
    chmodSync(path.join(bin, 'docker-credential-tgtest'), 0o755);
    const helped = dockerConfig('helped', { credsStore: 'tgtest' });
    const manifests = path.join(dir, 'two.yaml');
    writeFileSync(manifests, `${readFileSync(path.join(dir, 'pod.yaml'), 'utf8')}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: shop}\nspec: {template: {spec: {containers: [{name: a, image: "${GUN}:1.0"}, {name: b, image: "${GUN}:1.0"}]}}}\n`);
    const r = await trustgate(['check', '-f', manifests, '--policies', policies, '--docker-config', helped], { env: { PATH: `${bin}:${process.env.PATH ?? ''}` } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('get registry.test\n');
  });
});

describe('trustgate check with credentials for a private registry (Notation signatures)', () => {
  const USER = { username: 'bob', password: 'registry-secret' };
  let registry: RegistryServer;
  let image: string;
  let notationPolicies: string;

  beforeAll(async () => {
    const pki = await notationPki();
    registry = await startDockerRegistry(dir, { tls: stack.tls, htpasswd: USER });
    const pushed = await pushImage(registry, 'team/app', '1.0', 'check credentials: private notation image', dir, { creds: USER });
    await notationSign(pushed.ref, pki.p256, registry, { creds: USER });
    image = pushed.tagged;
    notationPolicies = path.join(dir, 'notation-policies.yaml');
    writeFileSync(notationPolicies, JSON.stringify({
      apiVersion: 'trustgate.dev/v1alpha1', kind: 'ClusterImagePolicy', metadata: { name: 'private-notation' },
      spec: { images: [`${registry.host}/**`], authorities: [{ name: 'acme', notation: {
        trustPolicy: notationTrustPolicy(),
        trustStores: [{ name: NOTATION_STORES.acme, certificates: readFileSync(pki.rootCa, 'utf8') }],
        registry: { caBundle: readFileSync(stack.tls.caCert, 'utf8') },
      } }] },
    }));
  });

  afterAll(() => registry?.stop());

  it('refuses the image without credentials (AUTH_FAILED) and admits it, pinned, with them', async () => {
    const manifest = `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: "${image}"}]}\n`;
    const anonymous = await runCli(['check', '-f', '-', '--policies', notationPolicies], { stdin: manifest });
    expect(anonymous.code).toBe(1);
    expect(anonymous.stdout).toContain('AUTH_FAILED');
    const config = dockerConfig('registry', { auths: { [registry.host]: { auth: auth(USER.username, USER.password) } } });
    const r = await runCli(['check', '-f', '-', '--policies', notationPolicies, '--docker-config', config, '--output', 'json'], { stdin: manifest });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ admitted: true, objects: [{ containers: [{ verifiedBy: ['notation'], pinned: expect.stringMatching(/@sha256:[0-9a-f]{64}$/) as unknown }] }] });
  });
});
