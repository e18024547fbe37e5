// A tenant who may write PolicyReports in its own namespace (audit-tenant.test.ts: some clusters
// allow it, for the tenant's own tools) against the audit's memory. The audit reads back every
// PolicyReport carrying trustgate's labels, in its namespace (first-found times, what changed)
// and cluster-wide (reports of namespaces no longer audited): anyone can put those labels on a
// report of their own. A report may hold up to etcd's request limit (~1.5 MiB), and the audit
// read up to 1,000 of a namespace's, and 500 cluster-wide, in ONE list answer: 320 reports of
// 1 MiB were one 320 MiB answer, parsed at once by the replica that also answers admission.
// The real kube-apiserver, and `trustgate serve` as a process with the heap of the chart's
// 256 MiB memory limit.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ControlPlane, type Tenant } from '../support/control-plane.js';
import { freePort } from '../support/processes.js';
import { ServeProcess } from '../support/serve-process.js';
import { makeTls } from '../support/tls.js';

const REPORTS = 320;
const MESSAGE_BYTES = 1024 * 1024;
let cp: ControlPlane;
let tenant: Tenant;
let serve: ServeProcess;

beforeAll(async () => {
  cp = await ControlPlane.start();
  await cp.installPolicyReportCrds();
  await cp.kubectlOk(['create', 'namespace', 'trustgate']);
  tenant = await cp.tenant('team-a', 'alice');
  await cp.allowPolicyReports('team-a', 'alice');
  await cp.kubectlOk(['label', 'namespace', 'team-a', 'trustgate.dev/enforce=true']);
  // The tenant's reports: trustgate's labels, one result of 1 MiB each, written 10 at a time.
  const report = (i: number) => ({
    apiVersion: 'wgpolicyk8s.io/v1alpha2', kind: 'PolicyReport',
    metadata: { name: `mine-${i}`, labels: { 'app.kubernetes.io/managed-by': 'trustgate', 'trustgate.dev/report': 'audit' } },
    summary: { pass: 1, fail: 0, warn: 0, error: 0, skip: 0 },
    results: [{ policy: 'p', rule: 'VERIFIED', result: 'pass', source: 'trustgate', message: String(i % 10).repeat(MESSAGE_BYTES), resources: [{ apiVersion: 'v1', kind: 'Pod', name: 'x', namespace: 'team-a', uid: `u${i}` }], timestamp: { seconds: 1, nanos: 0 } }],
  });
  for (let i = 0; i < REPORTS; i += 10) {
    const items = Array.from({ length: 10 }, (_, j) => report(i + j));
    const r = await tenant.kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
    expect(r.stderr).toBe('');
  }
  const dir = cp.dir;
  const tls = await makeTls(dir);
  writeFileSync(path.join(dir, 'policies.yaml'), 'apiVersion: trustgate.dev/v1alpha1\nkind: ClusterImagePolicy\nmetadata: {name: all}\nspec: {images: ["**"], action: allow}\n');
  const config = path.join(dir, 'serve.yaml');
  writeFileSync(config, `listen: "127.0.0.1:${await freePort()}"
tls: {certFile: ${tls.cert}, keyFile: ${tls.key}}
policies: {files: [policies.yaml]}
kubernetes: {kubeconfig: ${cp.kubeconfig}, policies: false, pullSecrets: false, events: false}
audit: {intervalSeconds: 2, leaseNamespace: trustgate, leaseDurationSeconds: 4}
`);
  // The heap the chart's limit leaves (resources.limits.memory: 256Mi, charts/trustgate/values.yaml).
  serve = await ServeProcess.start(config, tls.caCert, true, { NODE_OPTIONS: '--max-old-space-size=256' });
  await serve.waitReady(30_000);
}, 600_000);

afterAll(async () => {
  await serve?.stop();
  await cp?.stop();
});

it('320 reports of 1 MiB under trustgate\'s labels: the audit rounds finish, the server stays up, and the tenant\'s reports are gone', async () => {
  // Two rounds: the first reads the namespace's reports back and deletes the tenant's; both list cluster-wide.
  const first = await serve.waitForLog(/audit round finished/, 300_000);
  expect(first).toMatch(/"namespaces":1\b/);
  await serve.waitForLog(/audit round finished/, 120_000, serve.lines.indexOf(first) + 1);
  expect((await serve.request('GET', '/healthz')).status).toBe(200);
  const left = await cp.kubectlOk(['get', 'policyreports.wgpolicyk8s.io', '-n', 'team-a', '-o', 'name', '--chunk-size=10']);
  expect(left.trim().split('\n')).toEqual(['policyreport.wgpolicyk8s.io/trustgate-audit-0']);
});
