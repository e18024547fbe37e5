// `trustgate check --kubeconfig` and the Notation trust stores policies name (configMapRef,
// secretRef), on a real control plane. The refs are resolved only from trustgate's namespace, as
// serve resolves them: a tenant's ImagePolicy cannot point check at its own namespace, nor make
// another team's check fail; a kubeconfig that may not list Secrets fails only the checks a
// secretRef matters to, with the reason; and nothing of a referenced Secret but its certificates
// is ever used, nor printed in any output format.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../support/check-cli.js';
import { trustgate } from '../support/cli.js';
import { ControlPlane } from '../support/control-plane.js';
import { ScriptedVerifier } from '../support/fake-verifier.js';
import { selfSignedCertificate } from '../support/keys.js';
import { freePort } from '../support/processes.js';

const TOKEN = 'TOKEN-SENTINEL-c4e1b7';
const SIGNED = `sha256:${'e'.repeat(64)}`;
const ca = selfSignedCertificate(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, { cn: 'acme root', ca: true });
let cp: ControlPlane;
let dir: string;

const notation = (store: Record<string, unknown>) => ({
  authorities: [{ name: 'acme', notation: {
    trustPolicy: { version: '1.0', trustPolicies: [{ name: 'acme', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:acme'], trustedIdentities: ['*'] }] },
    trustStores: [{ name: 'ca:acme', ...store }],
  } }],
});
const cip = (name: string, images: string, store: Record<string, unknown>) => ({ apiVersion: 'trustgate.dev/v1alpha1', kind: 'ClusterImagePolicy', metadata: { name }, spec: { images: [images], ...notation(store) } });
const ip = (name: string, namespace: string, images: string, store: Record<string, unknown>) => ({ apiVersion: 'trustgate.dev/v1alpha1', kind: 'ImagePolicy', metadata: { name, namespace }, spec: { images: [images], ...notation(store) } });
const apply = (...items: unknown[]) => cp.kubectlOk(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));

const pod = (namespace: string, image: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ${namespace}}\nspec: {containers: [{name: c, image: "${image}"}]}\n`;
const verifier = () => new ScriptedVerifier({ 'registry.test/cm/app:1.0': SIGNED, 'registry.test/team/app:1.0': SIGNED }, 0);
const check = (kubeconfig: string, stdin: string) => runCli(['check', '-f', '-', '--kubeconfig', kubeconfig], { verifier: verifier(), stdin });

/** A kubeconfig for ServiceAccount `name` of namespace ci, with a token the API server issued. */
async function serviceAccountKubeconfig(name: string, rules: string): Promise<string> {
  await cp.kubectlOk(['apply', '-f', '-'], `apiVersion: v1
kind: ServiceAccount
metadata: {name: ${name}, namespace: ci}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: ${name}-policies}
rules:
- {apiGroups: [trustgate.dev], resources: [clusterimagepolicies, imagepolicies], verbs: [list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ${name}-policies}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ${name}-policies}
subjects: [{kind: ServiceAccount, name: ${name}, namespace: ci}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: ${name}-stores, namespace: trustgate}
rules: ${rules}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ${name}-stores, namespace: trustgate}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: ${name}-stores}
subjects: [{kind: ServiceAccount, name: ${name}, namespace: ci}]
`);
  const token = (await cp.kubectlOk(['create', 'token', name, '-n', 'ci'])).trim();
  const file = path.join(dir, `kubeconfig-${name}`);
  writeFileSync(file, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
    clusters: [{ name: 'c', cluster: { server: cp.apiserverUrl, 'certificate-authority': path.join(cp.dir, 'pki', 'ca.crt') } }],
    users: [{ name: 'u', user: { token } }],
    contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
  }));
  return file;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tg-check-refs-sec-'));
  cp = await ControlPlane.start();
  await cp.installChart({ port: await freePort(), caPem: ca, policies: [] });
  for (const ns of ['ci', 'team-a', 'team-b']) await cp.kubectlOk(['create', 'namespace', ns]);
  const labels = { 'trustgate.dev/trust-store': 'true' };
  await apply(
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'acme-ca', namespace: 'trustgate', labels }, data: { 'ca.crt': ca } },
    // What a careless platform team puts beside a CA: a token. Only certificates are ever taken.
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'acme-ca-secret', namespace: 'trustgate', labels }, stringData: { 'ca.crt': ca, token: TOKEN } },
    // The tenant's copy of the store, in its own namespace, labelled as trustgate's would be.
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'tenant-ca', namespace: 'team-b', labels }, data: { 'ca.crt': ca } },
    cip('by-configmap', 'registry.test/cm/**', { configMapRef: { name: 'acme-ca' } }),
  );
});

afterAll(async () => {
  await cp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('check --kubeconfig: trust store refs under abuse', () => {
  it('a tenant\'s ImagePolicy cannot point a ref at its own namespace, and fails only its own namespace\'s check', async () => {
    // The API server refuses the namespace field (strict field validation); told to ignore it, it
    // prunes it (the CRD's structural schema has no such field): the ref names trustgate's namespace.
    const own = ip('own-namespace', 'team-b', 'registry.test/team/**', { configMapRef: { name: 'tenant-ca', namespace: 'team-b' } });
    expect((await cp.kubectl(['apply', '-f', '-'], JSON.stringify(own))).stderr).toContain('unknown field "spec.authorities[0].notation.trustStores[0].configMapRef.namespace"');
    await cp.kubectlOk(['apply', '--validate=false', '-f', '-'], JSON.stringify(own));
    await apply(ip('missing', 'team-b', 'registry.test/team/**', { configMapRef: { name: 'nope' } }));
    const b = await check(cp.kubeconfig, pod('team-b', 'registry.test/team/app:1.0'));
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('cannot resolve the Notation trust stores of 2 policies');
    expect(b.stderr).toContain('ImagePolicy/team-b/own-namespace: spec.authorities[0].notation.trustStores[0].configMapRef: no ConfigMap "tenant-ca" in namespace trustgate labelled');
    expect(b.stderr).toContain('ImagePolicy/team-b/missing: spec.authorities[0].notation.trustStores[0].configMapRef: no ConfigMap "nope" in namespace trustgate labelled');
    // Another team's check is not theirs to break.
    const a = await check(cp.kubeconfig, pod('team-a', 'registry.test/cm/app:1.0'));
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    await cp.kubectlOk(['delete', 'imagepolicy', '-n', 'team-b', 'own-namespace', 'missing']);
  });

  it('a kubeconfig that may not list Secrets: configMapRef resolves; a secretRef fails the check with the reason; no ref needs neither', async () => {
    const ci = await serviceAccountKubeconfig('ci-configmaps', '[{apiGroups: [""], resources: [configmaps], verbs: [list]}]');
    const ok = await check(ci, pod('team-a', 'registry.test/cm/app:1.0'));
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    await apply(cip('by-secret', 'registry.test/secret/**', { secretRef: { name: 'acme-ca-secret' } }));
    const r = await check(ci, pod('team-a', 'registry.test/cm/app:1.0'));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('trustgate: USAGE: --kubeconfig: cannot resolve the Notation trust stores of 1 policy (trustgate\'s namespace: trustgate, --trustgate-namespace): ClusterImagePolicy/by-secret: spec.authorities[0].notation.trustStores[0].secretRef: Secret "acme-ca-secret" in namespace trustgate: cannot be read: this kubeconfig may not list Secrets in namespace trustgate');
    // The admin, who may, resolves it.
    expect((await check(cp.kubeconfig, pod('team-a', 'registry.test/cm/app:1.0'))).code).toBe(0);
    await cp.kubectlOk(['delete', 'clusterimagepolicy', 'by-secret']);
    // Policies without refs are read by a kubeconfig that may list no trust store at all, as before.
    await cp.kubectlOk(['delete', 'clusterimagepolicy', 'by-configmap']);
    const none = await serviceAccountKubeconfig('ci-policies-only', '[]');
    const plain = await check(none, pod('team-a', 'registry.test/cm/app:1.0'));
    expect(plain.stderr).toBe('');
    expect(plain.code).toBe(1); // no policy covers it now: the default action denies
    expect(plain.stdout).toContain('NO_POLICY');
    await apply(cip('by-configmap', 'registry.test/cm/**', { configMapRef: { name: 'acme-ca' } }));
  });

  it('nothing of a referenced Secret but its certificates is used, and none of it is printed, in any format', async () => {
    const host = `127.0.0.1:${await freePort()}`; // nothing listens: the verification fails after the refs resolved
    await apply(cip('by-secret', `${host}/**`, { secretRef: { name: 'acme-ca-secret' } }), cip('by-secret-key', `${host}/keyed/**`, { secretRef: { name: 'acme-ca-secret', key: 'token' } }));
    const manifests = path.join(dir, 'pods.yaml');
    writeFileSync(manifests, `${pod('team-a', `${host}/app:1.0`)}---\n${pod('team-a', `${host}/keyed/app:1.0`)}`);
    const caBody = ca.split('\n')[1]!;
    for (const output of ['text', 'json', 'sarif']) {
      const r = await trustgate(['check', '-f', manifests, '--kubeconfig', cp.kubeconfig, '--output', output, '--timeout', '5']);
      expect({ output, code: r.code }).toEqual({ output, code: 2 });
      // The key holding the token is no certificate: refused as such, its value never read out.
      expect(r.stderr).toContain('ClusterImagePolicy/by-secret-key: spec.authorities[0].notation.trustStores[0].secretRef: Secret "acme-ca-secret" in namespace trustgate has no key "token" holding PEM or DER certificates');
      for (const text of [r.stdout, r.stderr]) {
        expect(text).not.toContain(TOKEN);
        expect(text).not.toContain(Buffer.from(TOKEN).toString('base64'));
        expect(text).not.toContain(caBody);
      }
    }
    await cp.kubectlOk(['delete', 'clusterimagepolicy', 'by-secret-key']);
    for (const output of ['text', 'json', 'sarif']) {
      const r = await trustgate(['check', '-f', manifests, '--kubeconfig', cp.kubeconfig, '--output', output, '--timeout', '5']);
      expect({ output, code: r.code }).toEqual({ output, code: 1 }); // resolved; then the registry is unreachable
      expect(r.stdout).toContain('by-secret');
      for (const text of [r.stdout, r.stderr]) {
        expect(text).not.toContain(TOKEN);
        expect(text).not.toContain(Buffer.from(TOKEN).toString('base64'));
        expect(text).not.toContain(caBody);
      }
    }
    await cp.kubectlOk(['delete', 'clusterimagepolicy', 'by-secret']);
    expect(readFileSync(manifests, 'utf8')).not.toContain(TOKEN);
  });
});
