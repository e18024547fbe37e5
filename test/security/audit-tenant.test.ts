// A tenant against the audit on the real control plane (docs/security.md): the chart installed
// with helm, `trustgate serve` as a process auditing every 2 s, Debian's notary-server, and a
// tenant user whose RBAC allows pods (and, here, PolicyReports) in its own namespace only.
// - the audit never influences admission: a fake PolicyReport saying "pass" admits nothing, and is
//   overwritten by the next round;
// - the Lease: no tenant may write it, and even a forged one (renewed in the year 2999, a year
//   long) stops the audit for no longer than one lease duration;
// - hostile pod fields (hundreds of containers, a 100,000-character image) are reported within
//   bounds, in objects the API server accepts, and the server stays up.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ControlPlane, type Tenant } from '../support/control-plane.js';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/processes.js';
import { ServeProcess } from '../support/serve-process.js';
import { TrustStack } from '../support/stack.js';

const SA = 'system:serviceaccount:trustgate:trustgate';
let cp: ControlPlane;
let stack: TrustStack;
let tenant: Tenant;
let serve: ServeProcess;
let gun: string;

interface Result { result: string; rule: string; resources: { name: string }[]; properties: Record<string, string>; message: string }
interface Report { metadata: { name: string; labels?: Record<string, string> }; results?: Result[] }

async function reports(namespace: string): Promise<Report[]> {
  return (JSON.parse(await cp.kubectlOk(['get', 'policyreports.wgpolicyk8s.io', '-n', namespace, '-o', 'json'])) as { items: Report[] }).items;
}
const resultsOf = (all: Report[], pod: string) => all.flatMap((r) => r.results ?? []).filter((r) => r.resources[0]?.name === pod);
const holder = () => cp.kubectlOk(['get', 'lease', 'trustgate-audit', '-n', 'trustgate', '-o', 'jsonpath={.spec.holderIdentity}']);

beforeAll(async () => {
  [cp, stack] = await Promise.all([ControlPlane.start(), TrustStack.start()]);
  gun = `${stack.registry}/team/app`;
  await stack.pushImage('team/app', 'unsigned', 'audit-tenant: never signed');
  const port = await freePort();
  const policies = [{ name: 'signed-images', spec: { images: [`${stack.registry}/**`], trust: { server: stack.notaryUrl, caBundle: readFileSync(stack.tls.caCert, 'utf8'), trustOnFirstUse: true } } }];
  await cp.installChart({ port, caPem: readFileSync(stack.tls.caCert, 'utf8'), policies });
  await cp.kubectlOk(['wait', '--for=condition=Established', 'crd/policyreports.wgpolicyk8s.io', '--timeout=60s']);
  tenant = await cp.tenant('team-a', 'alice');
  // A cluster that lets tenants write PolicyReports in their own namespace (some do, for their own tools).
  await cp.allowPolicyReports('team-a', 'alice');
  // Before the namespace is reviewed: pods admission never sees, some of them hostile.
  const pod = (name: string, containers: { name: string; image: string }[]) => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers } });
  expect((await tenant.kubectl(['run', 'unsigned', `--image=${gun}:unsigned`, '--restart=Never'])).code).toBe(0);
  expect((await tenant.kubectl(['apply', '-f', '-'], pod('many', Array.from({ length: 300 }, (_, i) => ({ name: `c${i}`, image: `${gun}:unsigned` }))))).code).toBe(0);
  expect((await tenant.kubectl(['apply', '-f', '-'], pod('huge', [{ name: 'app', image: `${stack.registry}/${'x'.repeat(100_000)}:1` }]))).code).toBe(0);
  await cp.kubectlOk(['label', 'namespace', 'team-a', 'trustgate.dev/enforce=true']);
  const config = path.join(stack.dir, 'audit-tenant.yaml');
  writeFileSync(config, `listen: "127.0.0.1:${port}"
tls: {certFile: ${stack.tls.cert}, keyFile: ${stack.tls.key}}
kubernetes: {kubeconfig: ${cp.kubeconfig}, pullSecrets: false, events: false}
cache: {maxTtlSeconds: 0, negativeTtlSeconds: 0}
audit: {intervalSeconds: 2, leaseNamespace: trustgate, leaseDurationSeconds: 4}
defaultAction: deny
`);
  serve = await ServeProcess.start(config, stack.tls.caCert);
  await serve.waitReady(30_000);
  await eventually(async () => resultsOf(await reports('team-a'), 'unsigned'), (r) => r.length > 0, 'the first round', 60_000);
}, 300_000);

afterAll(async () => {
  await serve?.stop();
  await stack?.stop();
  await cp?.stop();
});

it('only trustgate may write the audit Lease, and only in its own namespace; no tenant may write the ClusterPolicyReport', async () => {
  const can = async (as: string, verb: string, resource: string, namespace?: string) =>
    (await cp.kubectl(['auth', 'can-i', verb, resource, `--as=${as}`, ...(namespace ? ['-n', namespace] : [])])).stdout.trim();
  expect(await can(SA, 'update', 'leases/trustgate-audit', 'trustgate')).toBe('yes');
  expect(await can(SA, 'update', 'leases/kube-scheduler', 'trustgate')).toBe('no');
  expect(await can(SA, 'create', 'leases', 'team-a')).toBe('no');
  expect(await can(SA, 'update', 'policyreports.wgpolicyk8s.io', 'team-a')).toBe('yes');
  expect(await can(SA, 'list', 'secrets', 'team-a')).toBe('no');
  expect(await can('alice', 'update', 'leases', 'trustgate')).toBe('no');
  expect(await can('alice', 'create', 'leases', 'trustgate')).toBe('no');
  expect(await can('alice', 'update', 'clusterpolicyreports.wgpolicyk8s.io')).toBe('no');
});

it('a fake PolicyReport under trustgate\'s name admits nothing and is overwritten by the next round', async () => {
  const fake = {
    apiVersion: 'wgpolicyk8s.io/v1alpha2', kind: 'PolicyReport', metadata: { name: 'trustgate-audit-0' },
    summary: { pass: 1, fail: 0, warn: 0, error: 0, skip: 0 },
    results: [{ policy: 'ClusterImagePolicy "signed-images"', rule: 'VERIFIED', result: 'pass', source: 'trustgate', resources: [{ apiVersion: 'v1', kind: 'Pod', name: 'unsigned', namespace: 'team-a' }], properties: { code: 'VERIFIED' } }],
  };
  // An unconditional update (no resourceVersion) of the object trustgate wrote, its labels dropped.
  const r = await tenant.kubectl(['replace', '-f', '-'], JSON.stringify(fake));
  expect(r.code).toBe(0);
  // Admission does not read reports: the same unsigned image is still denied.
  const denied = await tenant.kubectl(['run', 'again', `--image=${gun}:unsigned`, '--restart=Never']);
  expect(denied.code).not.toBe(0);
  expect(denied.stderr).toMatch(/denied the request: .*NO_TRUST_DATA/);
  // The next round writes what it finds over it.
  const after = await eventually(() => reports('team-a'), (all) => resultsOf(all, 'unsigned').some((x) => x.result === 'fail'), 'the fake report overwritten', 60_000);
  expect(resultsOf(after, 'unsigned').map((x) => x.result)).toEqual(['fail']);
  expect(after.find((x) => x.metadata.name === 'trustgate-audit-0')?.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('trustgate');
});

it('hostile pods are reported within bounds, in objects the API server accepted, and the server stays up', async () => {
  const all = await eventually(() => reports('team-a'), (r) => resultsOf(r, 'many').length > 0 && resultsOf(r, 'huge').length > 0, 'the hostile pods reported', 60_000);
  const many = resultsOf(all, 'many');
  expect(many.length).toBeLessThanOrEqual(32);
  expect(many.some((x) => x.rule === 'RESULTS_OMITTED')).toBe(true);
  const huge = resultsOf(all, 'huge');
  expect(huge).toHaveLength(1);
  expect(huge[0]!.properties.image!.length).toBeLessThanOrEqual(513);
  expect(huge[0]!.message.length).toBeLessThanOrEqual(1025);
  expect((await serve.request('GET', '/healthz')).status).toBe(200);
});

it('a forged Lease (renewed in 2999, a year long) stops the audit for no longer than one lease duration', async () => {
  const ours = await eventually(holder, (h) => h !== '', 'trustgate holding the Lease', 30_000);
  const lease = JSON.parse(await cp.kubectlOk(['get', 'lease', 'trustgate-audit', '-n', 'trustgate', '-o', 'json'])) as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
  // Unconditional (trustgate renews every 1.3 s: a resourceVersion read first may be stale by the write).
  delete lease.metadata.resourceVersion;
  lease.spec = { ...lease.spec, holderIdentity: 'intruder', leaseDurationSeconds: 31_536_000, renewTime: '2999-01-01T00:00:00.000000Z', acquireTime: '2999-01-01T00:00:00.000000Z' };
  await cp.kubectlOk(['replace', '-f', '-'], JSON.stringify(lease));
  expect(await holder()).toBe('intruder');
  await eventually(holder, (h) => h === ours, 'trustgate taking the Lease back', 60_000);
  // And it audits again: a report deleted is written again.
  await cp.kubectlOk(['delete', 'policyreport', 'trustgate-audit-0', '-n', 'team-a']);
  await eventually(async () => resultsOf(await reports('team-a'), 'unsigned'), (r) => r.length > 0, 'the report written again', 60_000);
});
