// Notation trust stores from ConfigMaps and Secrets on the real API server, read with the chart's
// own RBAC (the ServiceAccount's token) with Secrets turned on (`trustStores.secrets=true`; the
// default reads ConfigMaps only: test/security/credentials-cluster.test.ts): trustgate may list
// and watch them in its own namespace only, asks only for labelled ones, and follows them as they are created, changed, unlabelled
// and deleted (src/kube/trust-stores.ts).
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadKubeConfig } from '../../src/kube/index.js';
import { TrustStoreInformers } from '../../src/kube/trust-stores.js';
import { resolveTrustStoreRefs } from '../../src/policy/index.js';
import { ControlPlane } from '../support/control-plane.js';
import { eventually } from '../support/eventually.js';
import { selfSignedCertificate } from '../support/keys.js';
import { makeTls } from '../support/tls.js';

const SA = 'system:serviceaccount:trustgate:trustgate';
const ca = selfSignedCertificate(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, { cn: 'acme root', ca: true });
const other = selfSignedCertificate(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, { cn: 'acme next', ca: true });
let cp: ControlPlane;
let dir: string;
let informers: TrustStoreInformers | undefined;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tg-trust-stores-'));
  let tls;
  [cp, tls] = await Promise.all([ControlPlane.start(), makeTls(dir)]);
  await cp.installChart({ port: 8443, caPem: readFileSync(tls.caCert, 'utf8'), policies: [], extra: ['--set', 'trustStores.secrets=true'] });
  await cp.kubectlOk(['create', 'namespace', 'team-a']);
});

afterAll(async () => {
  informers?.stop();
  await cp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('grants list and watch on ConfigMaps and Secrets in trustgate\'s namespace only', async () => {
  const can = async (verb: string, resource: string, namespace: string[]) => (await cp.kubectl(['auth', 'can-i', verb, resource, ...namespace, `--as=${SA}`])).stdout.trim();
  for (const verb of ['list', 'watch']) {
    for (const resource of ['secrets', 'configmaps']) {
      expect(await can(verb, resource, ['-n', 'trustgate'])).toBe('yes');
      expect(await can(verb, resource, ['-n', 'team-a'])).toBe('no');
      expect(await can(verb, resource, ['--all-namespaces'])).toBe('no');
    }
  }
});

it('follows labelled objects of its namespace as the ServiceAccount, and nothing else', async () => {
  const token = (await cp.kubectlOk(['create', 'token', 'trustgate', '-n', 'trustgate'])).trim();
  const kubeconfig = path.join(dir, 'sa.kubeconfig');
  writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${cp.apiserverUrl}", certificate-authority: "${path.join(cp.dir, 'pki', 'ca.crt')}"}}]
users: [{name: sa, user: {token: "${token}"}}]
contexts: [{name: c, context: {cluster: c, user: sa}}]
current-context: c
`);
  let changes = 0;
  informers = new TrustStoreInformers(loadKubeConfig(kubeconfig), { namespace: 'trustgate', secrets: true }, pino({ level: 'silent' }), () => changes++);
  await informers.start();
  await eventually(() => informers!.ready, (ready) => ready, 'trust store informers ready');
  const index = informers.index;
  const resolve = (kind: 'configMapRef' | 'secretRef', name: string) =>
    resolveTrustStoreRefs({ authorities: [{ notation: { trustStores: [{ name: 'ca:x', [kind]: { name } }] } }] }, index);

  const apply = (yaml: string) => cp.kubectlOk(['apply', '-f', '-'], yaml);
  const labelled = 'labels: {trustgate.dev/trust-store: "true"}';
  await apply(`apiVersion: v1
kind: ConfigMap
metadata: {name: acme-ca, namespace: trustgate, ${labelled}}
data: {ca.crt: ${JSON.stringify(ca)}}
---
apiVersion: v1
kind: Secret
metadata: {name: plain, namespace: trustgate}
stringData: {token: not-for-trustgate, ca.crt: ${JSON.stringify(ca)}}
---
apiVersion: v1
kind: Secret
metadata: {name: elsewhere, namespace: team-a, ${labelled}}
stringData: {ca.crt: ${JSON.stringify(ca)}}
`);
  await eventually(() => resolve('configMapRef', 'acme-ca').problems, (p) => p.length === 0, 'the labelled ConfigMap read');
  expect(index.get('Secret', 'plain')).toBeUndefined();
  expect(index.get('Secret', 'elsewhere')).toBeUndefined();
  expect(index.size).toBe(1);
  const first = resolve('configMapRef', 'acme-ca').inputs;

  // Changed: new content and a new version, so the policies naming it are compiled again.
  await apply(`apiVersion: v1
kind: ConfigMap
metadata: {name: acme-ca, namespace: trustgate, ${labelled}}
data: {ca.crt: ${JSON.stringify(other)}}
`);
  await eventually(() => resolve('configMapRef', 'acme-ca').inputs, (i) => JSON.stringify(i) !== JSON.stringify(first), 'the changed ConfigMap read');
  expect(JSON.stringify(resolve('configMapRef', 'acme-ca').spec)).toContain(other.split('\n')[1]);

  // Labelled later: read from then on; unlabelled: gone; deleted: gone.
  const before = changes;
  await cp.kubectlOk(['label', 'secret', 'plain', '-n', 'trustgate', 'trustgate.dev/trust-store=true']);
  await eventually(() => resolve('secretRef', 'plain').problems, (p) => p.length === 0, 'the Secret read once labelled');
  expect(changes).toBeGreaterThan(before);
  expect(JSON.stringify(resolve('secretRef', 'plain').spec)).not.toContain('not-for-trustgate');
  await cp.kubectlOk(['label', 'secret', 'plain', '-n', 'trustgate', 'trustgate.dev/trust-store-']);
  await eventually(() => index.get('Secret', 'plain'), (o) => o === undefined, 'the unlabelled Secret dropped');
  await cp.kubectlOk(['delete', 'configmap', 'acme-ca', '-n', 'trustgate']);
  await eventually(() => resolve('configMapRef', 'acme-ca').problems, (p) => p.length === 1, 'the deleted ConfigMap dropped');
  expect(index.size).toBe(0);
});
