// `trustgate check` and `pin` for a cosign-signed image: the verifiers serve builds
// (cmd/cli/verifiers.ts) read its signature from the registry with the OCI client, and pin
// writes the digest the real cosign CLI signed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cosign, type CosignKeyPair } from '../support/cosign.js';
import { runCli } from '../support/check-cli.js';
import { pushImage, startDockerRegistry, type RegistryServer } from '../support/registries.js';
import { testTools } from '../support/test-tools.js';

testTools();

let dir: string;
let registry: RegistryServer;
let cosign: Cosign;
let publisher: CosignKeyPair;
let policies: string;
let digest: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-check-cosign-'));
  registry = await startDockerRegistry(dir);
  cosign = Cosign.create(path.join(dir, 'cosign'));
  publisher = await cosign.generateKeyPair('publisher');
  const image = await pushImage(registry, 'team/app', '1.0', 'cosign signed', dir);
  digest = image.digest;
  await cosign.sign(image.ref, publisher, 'bundle', registry);
  await pushImage(registry, 'team/unsigned', '1.0', 'not signed', dir);
  policies = path.join(dir, 'policies.yaml');
  writeFileSync(policies, `apiVersion: trustgate.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: cosigned}
spec:
  images: ["${registry.host}/team/**"]
  authorities:
    - name: release-key
      cosign:
        keys: [${JSON.stringify(readFileSync(publisher.pub, 'utf8'))}]
        tlog: {required: false}
        registry: {insecure: true}
`);
});

afterAll(async () => {
  await registry?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const pod = (image: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: app\n      image: "${image}" # cosign\n`;

describe('trustgate check and pin, cosign', () => {
  it('check admits the signed image, verified by cosign, and denies the unsigned one', async () => {
    const ok = await runCli(['check', '-f', '-', '--policies', policies, '--output', 'json'], { stdin: pod(`${registry.host}/team/app:1.0`) });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ objects: [{ containers: [{ pinned: `${registry.host}/team/app:1.0@${digest}`, verifiedBy: ['cosign'] }] }] });
    const denied = await runCli(['check', '-f', '-', '--policies', policies], { stdin: pod(`${registry.host}/team/unsigned:1.0`) });
    expect(denied.code).toBe(1);
    expect(denied.stdout).toContain('NO_SIGNATURES');
  });

  it('pin writes the digest cosign signed, keeping the quotes and the comment', async () => {
    const r = await runCli(['pin', '-f', '-', '--policies', policies], { stdin: pod(`${registry.host}/team/app:1.0`) });
    expect(r.code).toBe(0);
    expect(`${r.stdout}\n`).toBe(pod(`${registry.host}/team/app:1.0@${digest}`));
  });
});
