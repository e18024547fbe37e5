// Issue 9, item 5: trust on first use only when a policy asks for it. An attacker runs their own
// host — registry and Notary on https://<host>, keys of their own, a certificate the cluster's
// CAs accept — and signs an image. Nothing shipped may admit it: not the chart's default values,
// not a `verify` policy that pins nothing (refused, with the reason in its .status as the
// informers write it); only a policy that says `trustOnFirstUse: true` trusts that first root.
// Real parts: kube-apiserver with the chart installed from its default values, Debian's
// notary-server as the attacker's, the notary CLI to sign, trustgate serve on loopback.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { loadPolicyFiles, PolicyError } from '../../src/policy/index.js';
import { ControlPlane } from '../support/control-plane.js';
import { freePort } from '../support/processes.js';
import { ServeProcess } from '../support/serve-process.js';
import { TrustStack } from '../support/stack.js';
import { eventually } from '../support/eventually.js';

let cp: ControlPlane;
let attacker: TrustStack;
let serve: ServeProcess | undefined;
let image: string;
let digest: string;
let host: string;

interface ChartValues {
  clusterPolicies: unknown[];
  config: { defaultAction: string };
}
const chartValues = parse(readFileSync('charts/trustgate/values.yaml', 'utf8')) as ChartValues;

const runPod = (name: string) => cp.kubectl(['run', name, `--image=${image}`, '-n', 'enforced', '--restart=Never']);
const status = (name: string) => cp.kubectlOk(['get', 'clusterimagepolicy', name, '-o', 'jsonpath={.status.accepted} {.status.message}']);

beforeAll(async () => {
  [cp, attacker] = await Promise.all([ControlPlane.start(), TrustStack.start({ registry: false })]);
  // The attacker's host serves its Notary at https://<host>, where docker (and trustgate without
  // a configured server) looks for a registry's trust data.
  host = new URL(attacker.notaryUrl).host;
  const gun = `${host}/evil/app`;
  const manifest = Buffer.from('{"schemaVersion":2,"note":"attacker build"}');
  digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
  await attacker.init(gun);
  await attacker.sign(gun, '1.0', { digest, size: manifest.length });
  image = `${gun}:1.0`;

  const port = await freePort();
  const config = path.join(attacker.dir, 'trustgate.yaml');
  writeFileSync(config, `listen: "127.0.0.1:${port}"
tls: {certFile: ${attacker.tls.cert}, keyFile: ${attacker.tls.key}}
kubernetes: {kubeconfig: ${cp.kubeconfig}}
defaultAction: ${chartValues.config.defaultAction}
`);
  // The chart as shipped: only the webhook address is set, every other value is the default.
  const r = await cp.helm(['upgrade', '--install', 'trustgate', path.resolve('charts/trustgate'), '--namespace', 'trustgate', '--create-namespace', '--wait=false',
    '--set', `webhook.url=https://127.0.0.1:${port}`, '--set', `webhook.caBundle=${readFileSync(attacker.tls.caCert).toString('base64')}`]);
  if (r.code !== 0) throw new Error(`helm failed: ${r.stdout}\n${r.stderr}`);
  // The attacker's certificate is one the system trusts (a public CA would issue it for their host).
  serve = await ServeProcess.start(config, attacker.tls.caCert, true, { NODE_EXTRA_CA_CERTS: attacker.tls.caCert });
  await serve.waitReady(30_000);
  await cp.kubectlOk(['create', 'namespace', 'enforced']);
  await cp.kubectlOk(['label', 'namespace', 'enforced', 'trustgate.dev/enforce=true']);
});

afterAll(async () => {
  await serve?.stop();
  await attacker?.stop();
  await cp?.stop();
});

describe('an image signed with keys nobody chose', () => {
  it('is refused under the chart\'s default values', async () => {
    const r = await runPod('default-values');
    expect(r.stderr).toMatch(/admission webhook "mutate.trustgate.dev" denied the request: container "default-values" image ".*evil\/app:1.0": NO_POLICY/);
    expect(r.code).not.toBe(0);
    expect((await cp.kubectl(['get', 'pod', 'default-values', '-n', 'enforced'])).code).not.toBe(0);
  });

  it('no shipped default policy is a verify policy without pins or an explicit trustOnFirstUse', () => {
    // The values file parses as policies that would be accepted: none may be TOFU by accident.
    for (const p of chartValues.clusterPolicies as { spec: { action?: string; trust?: { trustOnFirstUse?: boolean } } }[]) {
      expect(p.spec.action === 'verify' || p.spec.action === undefined ? p.spec.trust?.trustOnFirstUse : false).not.toBe(true);
    }
  });

  it('a verify policy that pins nothing is refused, with the reason in its .status, and admits nothing', async () => {
    await cp.kubectlOk(['apply', '-f', '-'], `apiVersion: trustgate.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: unpinned}
spec: {images: ["${host}/**"], action: verify}
`);
    const verdict = await eventually(() => status('unpinned'), (v) => v.startsWith('false'), 'status of the unpinned policy');
    expect(verdict).toMatch(/^false spec\.trust: pins nothing: set rootKeys or signers\[\]\.keys, or trustOnFirstUse: true to trust the first root seen/);
    // Refused, it does not vanish: the images it names are denied, saying why.
    const r = await runPod('unpinned');
    expect(r.stderr).toMatch(/POLICY_REFUSED: the policy covering .*evil\/app was refused \(spec.trust: pins nothing/);
    expect(r.code).not.toBe(0);
  });

  it('is trusted on first use, and pinned, only where a policy says trustOnFirstUse: true', async () => {
    await cp.kubectlOk(['apply', '-f', '-'], `apiVersion: trustgate.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: unpinned}
spec: {images: ["${host}/**"], action: verify, trust: {trustOnFirstUse: true}}
`);
    await eventually(() => status('unpinned'), (v) => v === 'true accepted', 'status of the TOFU policy');
    const r = await eventually(() => runPod(`tofu-${Date.now() % 100000}`), (v) => v.code === 0, 'TOFU policy in force');
    const name = /pod\/(\S+) created/.exec(r.stdout)?.[1] ?? '';
    expect(await cp.kubectlOk(['get', 'pod', name, '-n', 'enforced', '-o', 'jsonpath={.spec.containers[0].image}'])).toBe(`${image}@${digest}`);
  });
});

describe('policy files', () => {
  it('refuse a verify policy that pins nothing, and take it with trustOnFirstUse: true or a pinned signer key', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-tofu-'));
    const file = (name: string, trust: string) => {
      const f = path.join(dir, `${name}.yaml`);
      writeFileSync(f, `apiVersion: trustgate.dev/v1alpha1\nkind: ClusterImagePolicy\nmetadata: {name: ${name}}\nspec:\n  images: ["**"]\n${trust}`);
      return f;
    };
    const bare = file('bare', '');
    expect(() => loadPolicyFiles([bare], dir)).toThrow(PolicyError);
    expect(() => loadPolicyFiles([bare], dir)).toThrow(/bare.yaml#1: invalid policy: spec.trust: pins nothing/);
    expect(() => loadPolicyFiles([file('unpinned-signer', '  trust: {signers: [{role: targets/releases}]}\n')], dir)).toThrow(/pins nothing/);
    expect(loadPolicyFiles([file('tofu', '  trust: {trustOnFirstUse: true}\n')], dir).set.policies[0]?.trust.trustOnFirstUse).toBe(true);
    expect(loadPolicyFiles([file('signer', `  trust: {signers: [{role: targets/releases, keys: ["${'a'.repeat(64)}"]}]}\n`)], dir).set.policies).toHaveLength(1);
    expect(() => loadPolicyFiles([file('both', `  trust: {trustOnFirstUse: true, rootKeys: ["${'a'.repeat(64)}"]}\n`)], dir)).toThrow(/trustOnFirstUse: true contradicts rootKeys/);
  });
});
