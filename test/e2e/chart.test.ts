// Chart checks on the real API server: helm lint, and helm template for several value sets
// applied with kubectl apply --dry-run=server (CRDs first, so the policies validate too).
import { ControlPlane } from '../support/control-plane.js';
import path from 'node:path';
import { run } from '../support/processes.js';

const CHART = path.resolve('charts/trustgate');
let cp: ControlPlane;

beforeAll(async () => {
  cp = await ControlPlane.start();
  await cp.kubectlOk(['apply', '-f', path.join(CHART, 'crds')]);
  await cp.kubectlOk(['create', 'namespace', 'trustgate']);
});

afterAll(async () => {
  await cp?.stop();
});

it('passes helm lint', async () => {
  const r = await cp.helm(['lint', '--strict', CHART]);
  expect(r.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
});

describe.each<[string, string[]]>([
  ['the defaults', []],
  ['cluster-wide scope with exclusions', ['--set', 'scope=clusterWide', '--set', 'excludedNamespaces={monitoring,ci}']],
  ['cert-manager', ['--set', 'tls.certManager.enabled=true']],
  ['pull secrets read only in listed namespaces', ['--set', 'pullSecrets.namespaces={trustgate,default}', '--set', 'config.credentialsSecret=regcred']],
  ['a certificate you provide', ['--set', 'tls.existingSecret=my-serving-cert', '--set', 'tls.caBundle=Zm9v']],
  ['webhook.url for a trustgate outside the cluster', ['--set', 'webhook.url=https://127.0.0.1:8443', '--set', 'webhook.caBundle=Zm9v']],
  ['everything optional on', ['--set', 'metrics.serviceMonitor.enabled=true', '--set', 'networkPolicy.enabled=true', '--set', 'config.mutateWorkloads=true', '--set', 'priorityClassName=system-cluster-critical', '--set', 'config.credentialsSecret=regcred', '--set', 'image.digest=sha256:' + 'a'.repeat(64)]],
])('with %s', (_name, values) => {
  it('renders manifests the API server accepts', async () => {
    const rendered = await cp.helm(['template', 'trustgate', CHART, '--namespace', 'trustgate', '--kube-version', '1.37.2', ...values]);
    expect(rendered.stderr).toBe('');
    // cert-manager and prometheus-operator kinds have no CRDs here: check everything else.
    const docs = rendered.stdout.split(/^---$/m).filter((d) => d.trim() && !/^kind: (Certificate|Issuer|ServiceMonitor)$/m.test(d));
    const r = await cp.kubectl(['apply', '--dry-run=server', '-f', '-'], docs.join('\n---\n'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

it('keeps the review deadline under the webhook timeout, and spreads replicas by node (required) and zone (preferred)', async () => {
  const r = await cp.helm(['template', 'trustgate', CHART, '--namespace', 'trustgate', '--kube-version', '1.37.2']);
  expect(r.stdout.match(/timeoutSeconds: (\d+)/g)).toEqual(['timeoutSeconds: 10', 'timeoutSeconds: 10']);
  expect(r.stdout).toMatch(/^ {4}deadlineSeconds: 8$/m);
  const spread = [...r.stdout.matchAll(/topologyKey: (\S+)\n\s+whenUnsatisfiable: (\S+)\n\s+nodeTaintsPolicy: Honor\n\s+matchLabelKeys: \[pod-template-hash\]/g)].map((m) => `${m[1]} ${m[2]}`);
  expect(spread).toEqual(['kubernetes.io/hostname DoNotSchedule', 'topology.kubernetes.io/zone ScheduleAnyway']);
});

it('runs its own image as repository:tag@digest once the release pins it, and warns until then', async () => {
  const { mkdtempSync, cpSync } = await import('node:fs');
  const install = (chart: string) => cp.helm(['install', '--dry-run=server', 'trustgate', chart, '--namespace', 'trustgate']);
  const unpinned = await install(CHART);
  expect(unpinned.stdout).toMatch(/image: ghcr.io\/trustgate\/trustgate:0\.1\.0\n/);
  expect(unpinned.stdout).toMatch(/WARNING: trustgate's own image is not pinned by digest \(ghcr.io\/trustgate\/trustgate:0\.1\.0\)/);
  // The generated certificate is new on every render without the cluster: said where it is rendered, and after install.
  expect(unpinned.stdout).toContain('Rendering with helm template or a GitOps tool (Argo CD) makes a new CA and key on every render');
  expect((await cp.helm(['template', 'trustgate', CHART, '--namespace', 'trustgate', '--kube-version', '1.37.2'])).stdout).toContain('lookup sees nothing and each\n# render makes a new CA and key');
  const chart = path.join(mkdtempSync(path.join(cp.dir, 'chart-')), 'trustgate');
  cpSync(CHART, chart, { recursive: true });
  const digest = `sha256:${'c'.repeat(64)}`;
  expect((await run('bash', ['scripts/pin-chart-image.sh', 'sha256:nothex', path.join(chart, 'values.yaml')])).code).toBe(2);
  expect((await run('bash', ['scripts/pin-chart-image.sh', digest, path.join(chart, 'values.yaml')])).code).toBe(0);
  const pinned = await install(chart);
  expect(pinned.stdout).toContain(`image: ghcr.io/trustgate/trustgate:0.1.0@${digest}\n`);
  expect(pinned.stdout).not.toContain('WARNING');
});

it('refuses invalid values through values.schema.json', async () => {
  // Three webhook calls of timeoutSeconds each must fit kube-apiserver's 60 s; trustgate's deadline must end before the call does.
  for (const bad of [['--set', 'webhook.timeoutSeconds=16'], ['--set', 'config.deadlineSeconds=10'], ['--set', 'webhook.timeoutSeconds=5', '--set', 'config.deadlineSeconds=5']]) {
    const r = await cp.helm(['template', 'trustgate', CHART, '--kube-version', '1.37.2', ...bad]);
    expect([bad, r.code !== 0]).toEqual([bad, true]);
    expect(r.stderr).toMatch(/at '\/(webhook\/timeoutSeconds|config\/deadlineSeconds)': maximum/);
  }
  for (const bad of [['--set', 'scope=everywhere'], ['--set', 'webhook.timeoutSeconds=31'], ['--set', 'config.defaultAction=maybe'], ['--set', 'unknownKey=1']]) {
    const r = await cp.helm(['template', 'trustgate', CHART, '--kube-version', '1.37.2', ...bad]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/values don't meet the specifications of the schema|Additional property|value must be|additional properties/i);
  }
  const providedWithoutCa = await cp.helm(['template', 'trustgate', CHART, '--kube-version', '1.37.2', '--set', 'tls.existingSecret=x']);
  expect(providedWithoutCa.stderr).toMatch(/tls.caBundle \(the base64 PEM CA of tls.existingSecret's certificate\) is required with tls.existingSecret/);
  const missingCa = await cp.helm(['template', 'trustgate', CHART, '--kube-version', '1.37.2', '--set', 'webhook.url=https://x']);
  expect(missingCa.stderr).toMatch(/webhook.caBundle is required with webhook.url/);
});

it('kubectl apply -f deploy/trustgate.yaml applies every object of it (cert-manager kinds aside)', async () => {
  const { readFileSync } = await import('node:fs');
  // Whole, for real: only cert-manager's kinds are left out (its CRDs are not installed here).
  const docs = readFileSync('deploy/trustgate.yaml', 'utf8').split(/^---$/m).filter((d) => /^kind: /m.test(d) && !/^kind: (Certificate|Issuer)$/m.test(d));
  const r = await cp.kubectl(['apply', '-f', '-'], docs.join('\n---\n'));
  // The namespace and the chart's CRDs exist already (beforeAll), made without kubectl apply: it says so, and that is all.
  expect(r.stderr.split('\n').filter((l) => l && !/^Warning: resource \S+ is missing the kubectl.kubernetes.io\/last-applied-configuration annotation/.test(l))).toEqual([]);
  expect(r.code).toBe(0);
  // One line per object: both CRDs among them (run together, kubectl saw only the last one).
  expect(r.stdout.trim().split('\n')).toHaveLength(docs.length);
  expect(r.stdout).toContain('customresourcedefinition.apiextensions.k8s.io/clusterimagepolicies.trustgate.dev');
  expect(r.stdout).toContain('customresourcedefinition.apiextensions.k8s.io/imagepolicies.trustgate.dev');
});

it('deploy/trustgate.yaml is what scripts/render-deploy.sh renders from the chart', async () => {
  const { readFileSync } = await import('node:fs');
  const fresh = path.join(cp.dir, 'trustgate.yaml');
  const r = await run('bash', ['scripts/render-deploy.sh', fresh]);
  expect(r.code).toBe(0);
  expect(readFileSync(fresh, 'utf8')).toBe(readFileSync('deploy/trustgate.yaml', 'utf8'));
});
