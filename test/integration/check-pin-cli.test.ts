// `trustgate check` and `pin` against Debian's notary-server and docker-registry, through the
// real verifiers serve uses (cmd/cli/verifiers.ts): a signed image, an unsigned one, and one
// whose repository's root key is not the key the policy pins.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, tempFiles } from '../support/check-cli.js';
import { trustgate } from '../support/cli.js';
import { TrustStack, type PushedImage } from '../support/stack.js';

let stack: TrustStack;
let signed: PushedImage;
let keyed: PushedImage;
let dir: string;
let policies: string;
let app: string;

beforeAll(async () => {
  stack = await TrustStack.start();
  app = `${stack.registry}/team/app`;
  signed = await stack.pushImage('team/app', '1.0', 'first build');
  await stack.init(app);
  await stack.sign(app, '1.0', signed);
  await stack.pushImage('team/unsigned', '1.0', 'never signed');
  keyed = await stack.pushImage('keyed/app', '1.0', 'signed with its own root');
  await stack.init(`${stack.registry}/keyed/app`);
  await stack.sign(`${stack.registry}/keyed/app`, '1.0', keyed);
  const trust = `server: "${stack.notaryUrl}", caBundle: ${JSON.stringify(readFileSync(stack.tls.caCert, 'utf8'))}`;
  dir = tempFiles({});
  policies = path.join(dir, 'policies.yaml');
  writeFileSync(policies, `apiVersion: trustgate.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: team}
spec:
  images: ["${stack.registry}/team/**"]
  trust: {${trust}, trustOnFirstUse: true}
---
apiVersion: trustgate.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: keyed}
spec:
  images: ["${stack.registry}/keyed/**"]
  trust: {${trust}, rootKeys: ["${'f'.repeat(64)}"]}
`);
});

afterAll(async () => {
  await stack?.stop();
});

const deployment = (image: string) => `# rendered by helm
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web # the shop
spec:
  template:
    spec:
      containers:
        - name: app
          image: ${image}   # keep me
`;

describe('trustgate check against a real notary-server', () => {
  it('admits the signed image and reports the digest the webhook would pin', async () => {
    const r = await runCli(['check', '-f', '-', '--policies', policies, '--output', 'json'], { stdin: deployment(`${app}:1.0`) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ admitted: true, objects: [{ decision: 'allow', containers: [{ image: `${app}:1.0`, pinned: `${app}:1.0@${signed.digest}`, verifiedBy: ['notary'], line: 11 }] }] });
  });

  it('denies the unsigned image and the one whose root key is not the pinned one, in the webhook\'s words', async () => {
    const stdin = `${deployment(`${stack.registry}/team/unsigned:1.0`)}---\n${deployment(`${stack.registry}/keyed/app:1.0`)}`;
    const r = await runCli(['check', '-f', '-', '--policies', policies], { stdin });
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^stdin:11: deny: Deployment/web: container "app" image "${stack.registry}/team/unsigned:1.0": NO_TRUST_DATA: .*; required by ClusterImagePolicy "team"; fix: `));
    expect(lines[1]).toMatch(new RegExp(`^stdin:23: deny: Deployment/web: container "app" image "${stack.registry}/keyed/app:1.0": ROOT_KEY_MISMATCH: .*; required by ClusterImagePolicy "keyed"; fix: `));
  });
});

describe('trustgate pin against a real notary-server', () => {
  it('pins to the signed digest, the reference trustgate verify prints, and changes nothing else', async () => {
    const file = path.join(dir, 'web.yaml');
    const text = deployment(`${app}:1.0`);
    writeFileSync(file, text);
    const r = await runCli(['pin', '-f', file, '--policies', policies, '--in-place']);
    expect(r.code).toBe(0);
    const verified = await runCli(['verify', `${app}:1.0`, '--trust-server', stack.notaryUrl, '--ca-file', stack.tls.caCert]);
    const reference = verified.stdout.split('\n')[0]!;
    expect(reference).toBe(`${app}:1.0@${signed.digest}`);
    expect(readFileSync(file, 'utf8')).toBe(text.replace(`image: ${app}:1.0   # keep me`, `image: ${reference}   # keep me`));
  });

  it('keeps pinning the signed digest after an unsigned manifest is pushed over the tag', async () => {
    await stack.pushImage('team/app', '1.0', 'unsigned rebuild');
    const r = await runCli(['pin', '-f', '-', '--policies', policies], { stdin: deployment(`${app}:1.0`) });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`image: ${app}:1.0@${signed.digest}   # keep me`);
  });

  it('refuses, writing nothing, when one image is unsigned', async () => {
    const file = path.join(dir, 'mixed.yaml');
    const text = `${deployment(`${app}:1.0`)}---\n${deployment(`${stack.registry}/team/unsigned:1.0`)}`;
    writeFileSync(file, text);
    const r = await runCli(['pin', '-f', file, '--policies', policies, '--in-place']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('NO_TRUST_DATA');
    expect(readFileSync(file, 'utf8')).toBe(text);
  });
});

describe('the built trustgate command', () => {
  it('exits 0, 1 and 2 as documented, reading helm output on stdin', async () => {
    const ok = await trustgate(['check', '-f', '-', '--policies', policies], { input: deployment(`${app}:1.0`) });
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    const denied = await trustgate(['check', '-f', '-', '--policies', policies, '--output', 'sarif'], { input: deployment(`${stack.registry}/team/unsigned:1.0`) });
    expect(denied.code).toBe(1);
    expect(JSON.parse(denied.stdout)).toMatchObject({ version: '2.1.0', runs: [{ results: [{ ruleId: 'NO_TRUST_DATA', level: 'error' }] }] });
    const malformed = await trustgate(['check', '-f', '-', '--policies', policies], { input: 'kind: Pod\nspec: [\n' });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/^trustgate: USAGE: stdin: document 1, line \d+: not valid YAML: [^\n]*\n?$/);
  });

  it('pins from stdin to stdout, byte for byte but the image', async () => {
    const text = deployment(`${app}:1.0`);
    const r = await trustgate(['pin', '-f', '-', '--policies', policies], { input: text });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(text.replace(`${app}:1.0`, `${app}:1.0@${signed.digest}`));
  });
});
