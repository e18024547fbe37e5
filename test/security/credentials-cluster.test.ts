// Credentials on the real control plane (issue 9, items 1 and 12), one control plane for both:
// - a tenant, allowed only pods and ImagePolicy objects in its namespace, points an audit-mode
//   ImagePolicy at its own HTTPS server: the platform's credentialsSecret must never arrive there
//   (docs/adr/0005), through the chart, the policy informers and `trustgate serve` as deployed;
// - trustgate's ClusterRole lets it `get` every Secret (it reads the pull secrets of pods under
//   review, in their namespace); `pullSecrets.namespaces` limits that to listed namespaces, and
//   the API server's authorizer is asked what the ServiceAccount may then read.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ControlPlane, type Tenant } from '../support/control-plane.js';
import { CredentialRecorder } from '../support/credential-recorder.js';
import { freePort } from '../support/processes.js';
import { ServeProcess } from '../support/serve-process.js';
import { makeTls, type TlsFiles } from '../support/tls.js';
import { eventually } from '../support/eventually.js';

const CHART = path.resolve('charts/trustgate');
// The RBAC cases render a second release beside the installed one.
const RELEASE = 'rbac-check';
const SA = `system:serviceaccount:trustgate:${RELEASE}-trustgate`;
const REG = 'registry.example.com';
let cp: ControlPlane;
let tls: TlsFiles;
let serve: ServeProcess | undefined;
let tenant: Tenant;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-creds-cluster-'));
  [cp, tls] = await Promise.all([ControlPlane.start(), makeTls(dir)]);
  const port = await freePort();
  // The platform: the chart, allowing the registry's images, with cluster-wide credentials for it.
  await cp.installChart({ port, caPem: readFileSync(tls.caCert, 'utf8'), policies: [{ name: 'platform', spec: { images: [`${REG}/**`], action: 'allow' } }], extra: ['--set', 'config.credentialsSecret=platform-creds'] });
  const auth = Buffer.from(JSON.stringify({ auths: { [REG]: { auth: Buffer.from('platform:cluster-secret').toString('base64') } } })).toString('base64');
  await cp.kubectlOk(['apply', '-f', '-'], `apiVersion: v1
kind: Secret
metadata: {name: platform-creds, namespace: trustgate}
type: kubernetes.io/dockerconfigjson
data: {.dockerconfigjson: ${auth}}
`);
  const config = path.join(dir, 'trustgate.yaml');
  writeFileSync(config, `listen: "127.0.0.1:${port}"
tls: {certFile: ${tls.cert}, keyFile: ${tls.key}}
kubernetes: {kubeconfig: ${cp.kubeconfig}, credentialsSecret: {namespace: trustgate, name: platform-creds}}
defaultAction: deny
`);
  serve = await ServeProcess.start(config, tls.caCert);
  await serve.waitReady();
  tenant = await cp.tenant('team-a', 'alice');
  await cp.kubectlOk(['label', 'namespace', 'team-a', 'trustgate.dev/enforce=true']);
  for (const ns of ['team-b', 'team-c']) await cp.kubectlOk(['create', 'namespace', ns]);
});

afterAll(async () => {
  await serve?.stop();
  await cp?.stop();
});

describe('a tenant\'s audit-mode ImagePolicy naming its own server', () => {
  it('receives no cluster credential for the tenant\'s pods, nor does the Bearer realm it names', async () => {
    const realm = new CredentialRecorder(tls);
    const realmPort = await realm.listen();
    const server = new CredentialRecorder(tls);
    const serverPort = await server.listen();
    server.challenge = `Bearer realm="https://localhost:${realmPort}/token",service="exfil"`;
    try {
      const ca = readFileSync(tls.caCert, 'utf8').trim().split('\n').map((l) => `      ${l}`).join('\n');
      const created = await tenant.kubectl(['apply', '-f', '-'], `apiVersion: trustgate.dev/v1alpha1
kind: ImagePolicy
metadata: {name: exfil}
spec:
  images: ["${REG}/**"]
  mode: audit
  trust:
    trustOnFirstUse: true
    server: https://127.0.0.1:${serverPort}
    caBundle: |
${ca}
`);
      expect(created.stderr).toBe('');
      await eventually(() => tenant.kubectl(['get', 'imagepolicy', 'exfil', '-o', 'jsonpath={.status.accepted}']).then((r) => r.stdout), (v) => v === 'true', 'ImagePolicy accepted');
      const pod = await tenant.kubectl(['run', 'app', `--image=${REG}/team/app:1.0`, '--restart=Never']);
      expect(pod.code).toBe(0); // admitted: the cluster allows it, the tenant's policy only audits
      expect(server.received.length + realm.received.length).toBeGreaterThan(0); // it was asked
      const sent = [...server.credentials(), ...realm.credentials()];
      expect(sent.filter((c) => c.includes('cluster-secret'))).toEqual([]);
    } finally {
      await Promise.all([server.close(), realm.close()]);
    }
  });
});

interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: { resources?: string[]; resourceNames?: string[]; verbs?: string[] }[];
  data?: Record<string, string>;
}

async function render(values: string[]): Promise<{ text: string; manifests: Manifest[] }> {
  const r = await cp.helm(['template', RELEASE, CHART, '--namespace', 'trustgate', '--kube-version', '1.37.2', ...values]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return { text: r.stdout, manifests: parseAllDocuments(r.stdout).map((d) => d.toJSON() as Manifest).filter(Boolean) };
}

/** Installs the rendered RBAC objects only (nothing else is needed to ask the authorizer). */
async function applyRbac(manifests: Manifest[]): Promise<void> {
  const rbac = manifests.filter((m) => /^(ClusterRole|ClusterRoleBinding|Role|RoleBinding|ServiceAccount)$/.test(m.kind));
  await cp.kubectlOk(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rbac }));
}

const canGet = async (resource: string, namespace: string) => (await cp.kubectl(['auth', 'can-i', 'get', resource, '-n', namespace, `--as=${SA}`])).stdout.trim();

describe('pullSecrets.namespaces', () => {
  it('by default: get on secrets and serviceaccounts cluster-wide, through the ClusterRole only', async () => {
    const { manifests } = await render([]);
    const clusterRole = manifests.find((m) => m.kind === 'ClusterRole' && m.metadata.name === `${RELEASE}-trustgate`);
    expect(clusterRole?.rules).toContainEqual({ apiGroups: [''], resources: ['serviceaccounts', 'secrets'], verbs: ['get'] });
    // The audit's ClusterRole (docs/audit.md) reads no Secrets or ServiceAccounts of its own.
    const audit = manifests.find((m) => m.kind === 'ClusterRole' && m.metadata.name === `${RELEASE}-trustgate-audit`);
    expect(audit?.rules?.flatMap((r) => r.resources ?? [])).toEqual(['pods', 'namespaces', 'policyreports', 'clusterpolicyreports']);
    // Three Roles, all in trustgate's own namespace: its Notation trust stores (list/watch of
    // labelled ConfigMaps: trust-stores.test.ts), its TrustRecords (ADR 0013) and the audit's
    // Lease. By default none reads Secrets (trust store certificates are public: ConfigMaps hold
    // them), and none serviceaccounts.
    const roles = manifests.filter((m) => m.kind === 'Role');
    expect(roles.map((m) => [m.metadata.name, m.metadata.namespace]).sort()).toEqual([[`${RELEASE}-trustgate-audit-lease`, 'trustgate'], [`${RELEASE}-trustgate-trust-records`, 'trustgate'], [`${RELEASE}-trustgate-trust-stores`, 'trustgate']]);
    expect(roles.filter((m) => m.rules?.some((r) => r.resources?.some((x) => x === 'serviceaccounts' || x === 'secrets')))).toEqual([]);
  });

  it('trustStores.secrets=true: the trust stores\' Role alone lists and watches Secrets, in trustgate\'s namespace only', async () => {
    const { manifests } = await render(['--set', 'trustStores.secrets=true']);
    const roles = manifests.filter((m) => m.kind === 'Role' && m.rules?.some((r) => r.resources?.includes('secrets')));
    expect(roles.map((m) => [m.metadata.name, m.metadata.namespace])).toEqual([[`${RELEASE}-trustgate-trust-stores`, 'trustgate']]);
    expect(roles[0]!.rules!.filter((r) => r.resources?.includes('secrets')).flatMap((r) => r.verbs).sort()).toEqual(['list', 'watch']);
  });

  it('pullSecrets.namespaces: secrets are readable in the listed namespaces only, plus the credentials secret', async () => {
    const { manifests } = await render(['--set', 'pullSecrets.namespaces={team-a,team-b}', '--set', 'config.credentialsSecret=regcred', '--set', 'trustStores.secrets=false']);
    const clusterRoles = manifests.filter((m) => m.kind === 'ClusterRole');
    expect(clusterRoles.length).toBeGreaterThan(0);
    for (const clusterRole of clusterRoles) expect(clusterRole.rules?.flatMap((r) => r.resources ?? [])).not.toContain('secrets');
    const config = manifests.find((m) => m.kind === 'ConfigMap')?.data?.['config.yaml'] ?? '';
    expect(config).toContain('pullSecretNamespaces: ["team-a","team-b"]');

    await applyRbac(manifests);
    expect(await canGet('secrets/anything', 'team-a')).toBe('yes');
    expect(await canGet('serviceaccounts/default', 'team-b')).toBe('yes');
    expect(await canGet('secrets/anything', 'team-c')).toBe('no');
    expect(await canGet('serviceaccounts/default', 'team-c')).toBe('no');
    expect(await canGet('secrets/anything', 'kube-system')).toBe('no');
    // In its own namespace: the cluster-wide credentials secret, and nothing else (its TLS key
    // secret is mounted, never read through the API).
    expect(await canGet('secrets/regcred', 'trustgate')).toBe('yes');
    expect(await canGet('secrets/other', 'trustgate')).toBe('no');
    // Never list or watch Secrets anywhere, its own namespace included (trustStores.secrets=false);
    // trust stores come from ConfigMaps there only.
    for (const namespace of ['team-a', 'trustgate']) expect((await cp.kubectl(['auth', 'can-i', 'list', 'secrets', '-n', namespace, `--as=${SA}`])).stdout.trim()).toBe('no');
    expect((await cp.kubectl(['auth', 'can-i', 'watch', 'configmaps', '-n', 'trustgate', `--as=${SA}`])).stdout.trim()).toBe('yes');
    expect(config).toContain('trustStores: {namespace: "trustgate", secrets: false}');
  });

  it('refuses a namespace that is not a DNS-1123 label', async () => {
    const r = await cp.helm(['template', RELEASE, CHART, '--kube-version', '1.37.2', '--set', 'pullSecrets.namespaces={Team_A}']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/pullSecrets\/namespaces\/0.*Team_A/);
  });
});
