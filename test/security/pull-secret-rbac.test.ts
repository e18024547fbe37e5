// Issue 9, item 12: trustgate's ClusterRole lets it `get` every Secret in the cluster (it reads
// the pull secrets of pods under review, in their namespace). `pullSecrets.namespaces` limits that
// to listed namespaces: the chart renders Roles there instead, and the real API server's
// authorizer is asked what trustgate's ServiceAccount may then read.
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ControlPlane } from '../support/control-plane.js';

const CHART = path.resolve('charts/trustgate');
const SA = 'system:serviceaccount:trustgate:trustgate';
let cp: ControlPlane;

beforeAll(async () => {
  cp = await ControlPlane.start();
  await cp.kubectlOk(['apply', '-f', path.join(CHART, 'crds')]);
  for (const ns of ['trustgate', 'team-a', 'team-b', 'team-c']) await cp.kubectlOk(['create', 'namespace', ns]);
});

afterAll(async () => {
  await cp?.stop();
});

interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: { resources?: string[]; resourceNames?: string[]; verbs?: string[] }[];
  data?: Record<string, string>;
}

async function render(values: string[]): Promise<{ text: string; manifests: Manifest[] }> {
  const r = await cp.helm(['template', 'trustgate', CHART, '--namespace', 'trustgate', '--kube-version', '1.37.2', ...values]);
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

it('by default: get on secrets and serviceaccounts cluster-wide, through the ClusterRole only', async () => {
  const { manifests } = await render([]);
  const clusterRole = manifests.find((m) => m.kind === 'ClusterRole');
  expect(clusterRole?.rules).toContainEqual({ apiGroups: [''], resources: ['serviceaccounts', 'secrets'], verbs: ['get'] });
  expect(manifests.filter((m) => m.kind === 'Role')).toEqual([]);
});

it('pullSecrets.namespaces: secrets are readable in the listed namespaces only, plus the credentials secret', async () => {
  const { manifests } = await render(['--set', 'pullSecrets.namespaces={team-a,team-b}', '--set', 'config.credentialsSecret=regcred']);
  const clusterRole = manifests.find((m) => m.kind === 'ClusterRole');
  expect(clusterRole?.rules?.flatMap((r) => r.resources ?? [])).not.toContain('secrets');
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
  // Never list or watch anywhere.
  expect((await cp.kubectl(['auth', 'can-i', 'list', 'secrets', '-n', 'team-a', `--as=${SA}`])).stdout.trim()).toBe('no');
});

it('refuses a namespace that is not a DNS-1123 label', async () => {
  const r = await cp.helm(['template', 'trustgate', CHART, '--kube-version', '1.37.2', '--set', 'pullSecrets.namespaces={Team_A}']);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/pullSecrets\.namespaces/);
});
