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

it('refuses invalid values through values.schema.json', async () => {
  for (const bad of [['--set', 'scope=everywhere'], ['--set', 'webhook.timeoutSeconds=31'], ['--set', 'config.defaultAction=maybe'], ['--set', 'unknownKey=1']]) {
    const r = await cp.helm(['template', 'trustgate', CHART, '--kube-version', '1.37.2', ...bad]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/values don't meet the specifications of the schema|Additional property|value must be|additional properties/i);
  }
  const missingCa = await cp.helm(['template', 'trustgate', CHART, '--kube-version', '1.37.2', '--set', 'webhook.url=https://x']);
  expect(missingCa.stderr).toMatch(/webhook.caBundle is required with webhook.url/);
});

it('the API server accepts deploy/trustgate.yaml (kubectl apply --dry-run=server; cert-manager kinds aside)', async () => {
  const { readFileSync } = await import('node:fs');
  const docs = readFileSync('deploy/trustgate.yaml', 'utf8').split(/^---$/m).filter((d) => d.trim() && !/^kind: (Certificate|Issuer|Namespace|CustomResourceDefinition)$/m.test(d));
  const r = await cp.kubectl(['apply', '--dry-run=server', '-f', '-'], docs.join('\n---\n'));
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
});

it('deploy/trustgate.yaml is what scripts/render-deploy.sh renders from the chart', async () => {
  const { readFileSync } = await import('node:fs');
  const fresh = path.join(cp.dir, 'trustgate.yaml');
  const r = await run('bash', ['scripts/render-deploy.sh', fresh]);
  expect(r.code).toBe(0);
  expect(readFileSync(fresh, 'utf8')).toBe(readFileSync('deploy/trustgate.yaml', 'utf8'));
});
