// `trustgate check --kubeconfig` resolves a Notation authority's configMapRef/secretRef the way
// serve does (src/policy/trust-store-refs.ts): from the labelled ConfigMaps and Secrets of
// trustgate's namespace (--trustgate-namespace, default trustgate), on a real control plane,
// with notation-go signatures verified by the real verifiers. A store that cannot be resolved is
// an error of the check (exit 2), never a pass.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../support/check-cli.js';
import { ControlPlane } from '../support/control-plane.js';
import { notationPki, notationSign, notationTrustPolicy, NOTATION_STORES, type NotationPki } from '../support/notation.js';
import { freePort } from '../support/processes.js';
import { pushImage, startDockerRegistry, type PushedImage, type RegistryServer } from '../support/registries.js';

let cp: ControlPlane;
let registry: RegistryServer;
let pki: NotationPki;
let dir: string;
let acme: PushedImage;
let unrelated: PushedImage;

const policy = (name: string, images: string, store: Record<string, unknown>) => ({
  apiVersion: 'trustgate.dev/v1alpha1',
  kind: 'ClusterImagePolicy',
  metadata: { name },
  spec: { images: [images], authorities: [{ name: 'acme', notation: { trustPolicy: notationTrustPolicy(), trustStores: [{ name: NOTATION_STORES.acme, ...store }], registry: { insecure: true } } }] },
});

const trustStore = (kind: 'ConfigMap' | 'Secret', name: string, namespace: string, caFile: string) => ({
  apiVersion: 'v1',
  kind,
  metadata: { name, namespace, labels: { 'trustgate.dev/trust-store': 'true' } },
  ...(kind === 'ConfigMap' ? { data: { 'ca.crt': readFileSync(caFile, 'utf8') } } : { data: { 'ca.crt': readFileSync(caFile).toString('base64') } }),
});

const pod = (image: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec: {containers: [{name: c, image: "${image}"}]}\n`;
const check = (image: string, extra: string[] = []) => runCli(['check', '-f', '-', '--kubeconfig', cp.kubeconfig, '--output', 'json', ...extra], { stdin: pod(image) });

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tg-check-refs-'));
  [cp, registry, pki] = await Promise.all([ControlPlane.start(), startDockerRegistry(dir), notationPki()]);
  await cp.installChart({ port: await freePort(), caPem: readFileSync(pki.rootCa, 'utf8'), policies: [] });
  acme = await pushImage(registry, 'cm/app', '1.0', 'check refs: signed by an acme leaf', dir);
  await notationSign(acme.ref, pki.p256, registry);
  unrelated = await pushImage(registry, 'cm/other', '1.0', 'check refs: acme subject, unrelated CA', dir);
  await notationSign(unrelated.ref, pki.unrelated, registry);
  await cp.kubectlOk(['create', 'namespace', 'platform']);
  await cp.kubectlOk(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
    policy('by-configmap', `${registry.host}/cm/**`, { configMapRef: { name: 'acme-ca' } }),
    policy('by-secret', `${registry.host}/secret/**`, { secretRef: { name: 'acme-ca-secret', key: 'ca.crt' } }),
  ] }));
});

afterAll(async () => {
  await registry?.stop();
  await cp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('check --kubeconfig with Notation trust stores from the cluster', () => {
  it('exits 2 naming the policy, the ref and the namespace while the ConfigMap is missing or unlabelled', async () => {
    const missing = await check(acme.tagged);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toBe(`trustgate: USAGE: --kubeconfig: cannot resolve the Notation trust stores of 2 policies (trustgate's namespace: trustgate, --trustgate-namespace): ClusterImagePolicy/by-configmap: spec.authorities[0].notation.trustStores[0].configMapRef: no ConfigMap "acme-ca" in namespace trustgate labelled trustgate.dev/trust-store: "true" (only such objects of trustgate's namespace are read) | ClusterImagePolicy/by-secret: spec.authorities[0].notation.trustStores[0].secretRef: no Secret "acme-ca-secret" in namespace trustgate labelled trustgate.dev/trust-store: "true" (only such objects of trustgate's namespace are read)`);
    const unlabelled = { ...trustStore('ConfigMap', 'acme-ca', 'trustgate', pki.rootCa), metadata: { name: 'acme-ca', namespace: 'trustgate' } };
    await cp.kubectlOk(['apply', '-f', '-'], JSON.stringify(unlabelled));
    expect((await check(acme.tagged)).stderr).toContain('no ConfigMap "acme-ca" in namespace trustgate labelled');
  });

  it('verifies with the certificates of the labelled ConfigMap and Secret: the acme signature admitted, the unrelated CA\'s denied', async () => {
    await cp.kubectlOk(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [trustStore('ConfigMap', 'acme-ca', 'trustgate', pki.rootCa), trustStore('Secret', 'acme-ca-secret', 'trustgate', pki.rootCa)] }));
    const ok = await check(acme.tagged);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ admitted: true, objects: [{ containers: [{ pinned: `${acme.tagged}@${acme.digest}`, verifiedBy: ['notation'] }] }] });
    const denied = await check(unrelated.tagged);
    expect(denied.code).toBe(1);
    expect(JSON.parse(denied.stdout)).toMatchObject({ admitted: false, objects: [{ containers: [{ decision: 'deny', failures: [{ policy: 'ClusterImagePolicy "by-configmap"' }] }] }] });
    // A directory of manifests, trustgate's namespace named (the docs' example).
    const deploy = mkdtempSync(path.join(dir, 'deploy-'));
    writeFileSync(path.join(deploy, 'pod.yaml'), pod(acme.tagged));
    const docs = await runCli(['check', '-f', deploy, '--kubeconfig', cp.kubeconfig, '--trustgate-namespace', 'trustgate']);
    expect(docs.code).toBe(0);
    expect(docs.stdout).toBe('1 objects, 1 images checked: all would be admitted (namespaces decided as if labelled trustgate.dev/enforce=true)');
    // The secretRef'd store: the same signature under another repository of the policy.
    const viaSecret = await pushImage(registry, 'secret/app', '1.0', 'check refs: through the Secret', dir);
    await notationSign(viaSecret.ref, pki.p256, registry);
    expect((await check(viaSecret.tagged)).code).toBe(0);
  });

  it('--trustgate-namespace reads another namespace\'s labelled objects, and only those', async () => {
    const elsewhere = await check(acme.tagged, ['--trustgate-namespace', 'platform']);
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toContain('(trustgate\'s namespace: platform, --trustgate-namespace): ClusterImagePolicy/by-configmap: spec.authorities[0].notation.trustStores[0].configMapRef: no ConfigMap "acme-ca" in namespace platform labelled');
    // There, acme-ca trusts the unrelated CA: the verdicts follow the store that was read.
    await cp.kubectlOk(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [trustStore('ConfigMap', 'acme-ca', 'platform', pki.unrelatedCa), trustStore('Secret', 'acme-ca-secret', 'platform', pki.unrelatedCa)] }));
    expect((await check(unrelated.tagged, ['--trustgate-namespace', 'platform'])).code).toBe(0);
    expect((await check(acme.tagged, ['--trustgate-namespace', 'platform'])).code).toBe(1);
  });

  it('refuses a --trustgate-namespace that is no namespace name, and one given with --policies', async () => {
    const bad = await check(acme.tagged, ['--trustgate-namespace', '../kube-system']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('trustgate: USAGE: --trustgate-namespace must be a namespace name (DNS-1123 label), not "../kube-system"');
    const files = await runCli(['check', '-f', '-', '--policies', path.join(dir, 'none.yaml'), '--trustgate-namespace', 'trustgate'], { stdin: pod(acme.tagged) });
    expect(files.code).toBe(2);
    expect(files.stderr).toBe('trustgate: USAGE: --trustgate-namespace is for --kubeconfig: policy files give their trust stores inline');
  });
});
