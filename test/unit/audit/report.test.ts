// Report building: the webhook's decision for a running pod becomes one PolicyReport result per
// container image (wgpolicyk8s.io/v1alpha2), with its status, reason code, policy and the kinds
// that verified it; the flags admission cannot see; summaries; and splitting under a bound.
import { decide, type Decision } from '../../../src/admission/index.js';
import { AuditCode, clusterReport, findingsOf, MAX_RESULTS_PER_POD, namespaceReports, sameContent, timestampsOf, type Finding } from '../../../src/audit/index.js';
import { PolicySet } from '../../../src/policy/index.js';
import { ScriptedVerifier } from '../../support/fake-verifier.js';
import { policy, TOFU } from '../../support/policies.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const script = { 'registry.test/team/app:1.0': A, 'registry.test/team/side:2': A, 'registry.test/down/x:1': 'UNREACHABLE' };
const policies = new PolicySet([
  policy('signed', ['registry.test/team/**'], TOFU),
  policy('outage', ['registry.test/down/**'], TOFU),
  policy('soft', ['registry.test/soft/**'], { ...TOFU, mode: 'warn' }),
  policy('open', ['registry.test/open/**'], { action: 'allow' }),
]);
const pod = { namespace: 'team', name: 'web', uid: 'uid-1' };

async function decisionFor(containers: { name: string; image: string }[]): Promise<Decision> {
  return decide(
    { uid: 'u', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: 'pods', subResource: '', namespace: 'team', name: 'web', operation: 'CREATE', object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers } }, oldObject: undefined, dryRun: true },
    'mutate',
    { policies, verifier: new ScriptedVerifier(script), defaultAction: 'deny', mutateWorkloads: false, deadlineMs: 5000, credentialsFor: () => undefined },
  );
}

const findings = async (containers: { name: string; image: string }[]) => findingsOf(pod, await decisionFor(containers));

describe('a result per container image', () => {
  it('pass for a pinned signed image, with the kinds that verified it and its digest', async () => {
    const [f] = await findings([{ name: 'app', image: `registry.test/team/app:1.0@${A}` }]);
    expect(f).toMatchObject({ status: 'pass', code: AuditCode.VERIFIED, kinds: ['notary'], digest: A, byTag: false, stalePin: false, notAdmitted: false, container: 'app' });
  });

  it('fail with the denial code and the policy for an unsigned image', async () => {
    const [f] = await findings([{ name: 'app', image: 'registry.test/team/unsigned:1' }]);
    expect(f).toMatchObject({ status: 'fail', code: 'TAG_NOT_SIGNED', policy: 'ClusterImagePolicy "signed"', kinds: [] });
  });

  it('fail NO_POLICY where no policy covers the image and the default is deny', async () => {
    const [f] = await findings([{ name: 'app', image: 'elsewhere.test/x:1' }]);
    expect(f).toMatchObject({ status: 'fail', code: 'NO_POLICY' });
  });

  it('error, not fail, when the trust server could not be asked', async () => {
    const [f] = await findings([{ name: 'app', image: 'registry.test/down/x:1' }]);
    expect(f).toMatchObject({ status: 'error', code: 'UNREACHABLE' });
  });

  it('warn for a warn-mode policy, pass ALLOWED for an allow policy', async () => {
    const [soft, open] = await findings([{ name: 'a', image: 'registry.test/soft/x:1' }, { name: 'b', image: 'registry.test/open/x:1' }]);
    expect(soft).toMatchObject({ status: 'warn', code: 'TAG_NOT_SIGNED', policy: 'ClusterImagePolicy "soft"' });
    expect(open).toMatchObject({ status: 'pass', code: AuditCode.ALLOWED, kinds: [] });
  });

  it('flags a signed image running by tag: admission would have pinned it (the pod never went through admission)', async () => {
    const [f] = await findings([{ name: 'app', image: 'registry.test/team/app:1.0' }]);
    expect(f).toMatchObject({ status: 'warn', code: AuditCode.NOT_ADMITTED, byTag: true, notAdmitted: true, policy: 'ClusterImagePolicy "signed"' });
    expect(f!.message).toContain(`registry.test/team/app:1.0@${A}`);
  });

  it('flags a stale pin: the digest pinned is no longer the signed digest of its tag', async () => {
    const [f] = await findings([{ name: 'app', image: `registry.test/team/app:1.0@${B}` }]);
    expect(f).toMatchObject({ status: 'fail', code: 'DIGEST_NOT_SIGNED', stalePin: true, byTag: false });
  });

  it('one result for each container, init and app alike', async () => {
    const all = await findings([{ name: 'app', image: `registry.test/team/app:1.0@${A}` }, { name: 'side', image: 'registry.test/team/unsigned:1' }]);
    expect(all.map((f) => [f.container, f.status])).toEqual([['app', 'pass'], ['side', 'fail']]);
  });

  it('a pod with more containers than MAX_RESULTS_PER_POD keeps its failures and sums up the rest', async () => {
    const containers = Array.from({ length: 300 }, (_, i) => ({ name: `c${i}`, image: i === 299 ? 'registry.test/team/unsigned:1' : `registry.test/team/app:1.0@${A}` }));
    const all = await findings(containers);
    expect(all).toHaveLength(MAX_RESULTS_PER_POD);
    expect(all[0]).toMatchObject({ status: 'fail', container: 'c299' });
    expect(all.at(-1)).toMatchObject({ code: AuditCode.RESULTS_OMITTED, status: 'pass' });
    expect(all.at(-1)!.message).toContain(`${300 - MAX_RESULTS_PER_POD + 1} more images`);
  });
});

describe('PolicyReport objects', () => {
  const finding = (i: number, status: Finding['status'], image = `registry.test/team/app:1.0@${A}`): Finding => ({
    pod: { namespace: 'team', name: `pod-${String(i).padStart(4, '0')}`, uid: `uid-${i}` }, container: 'app', containerType: 'containers', image, status,
    code: status === 'pass' ? 'VERIFIED' : 'TAG_NOT_SIGNED', policy: 'ClusterImagePolicy "signed"', message: 'm', kinds: status === 'pass' ? ['notary'] : [], digest: undefined,
    repository: 'registry.test/team/app', byTag: status !== 'pass', stalePin: false, notAdmitted: false,
  });

  it('is wgpolicyk8s.io/v1alpha2, with the result, the reason as rule, the pod as resource and the flags as properties', () => {
    const [report] = namespaceReports('team', [finding(1, 'fail')], 1_700_000_000_000, () => undefined);
    expect(report).toMatchObject({ apiVersion: 'wgpolicyk8s.io/v1alpha2', kind: 'PolicyReport', metadata: { name: 'trustgate-audit-0', namespace: 'team', labels: { 'app.kubernetes.io/managed-by': 'trustgate' } } });
    expect(report!.results[0]).toMatchObject({
      policy: 'ClusterImagePolicy "signed"', rule: 'TAG_NOT_SIGNED', result: 'fail', source: 'trustgate', severity: 'high', timestamp: { seconds: 1_700_000_000, nanos: 0 },
      resources: [{ apiVersion: 'v1', kind: 'Pod', name: 'pod-0001', namespace: 'team', uid: 'uid-1' }],
      properties: { code: 'TAG_NOT_SIGNED', container: 'app', byTag: 'true' },
    });
  });

  it('counts every status in the summary, worst first in the results', () => {
    const [report] = namespaceReports('team', [finding(1, 'pass'), finding(2, 'fail'), finding(3, 'warn'), finding(4, 'error'), finding(5, 'pass')], 0, () => undefined);
    expect(report!.summary).toEqual({ pass: 2, fail: 1, warn: 1, error: 1, skip: 0 });
    expect(report!.results.map((r) => r.result)).toEqual(['fail', 'error', 'warn', 'pass', 'pass']);
    expect(report!.results.find((r) => r.result === 'pass')!.properties.verifiedBy).toBe('notary');
  });

  it('splits a namespace over several objects under the result bound, the summaries adding up', () => {
    const many = Array.from({ length: 1001 }, (_, i) => finding(i, i % 10 === 0 ? 'fail' : 'pass'));
    const reports = namespaceReports('team', many, 0, () => undefined, { maxResults: 200, maxBytes: 10 * 1024 * 1024 });
    expect(reports.map((r) => r.metadata.name)).toEqual(['trustgate-audit-0', 'trustgate-audit-1', 'trustgate-audit-2', 'trustgate-audit-3', 'trustgate-audit-4', 'trustgate-audit-5']);
    expect(reports.every((r) => r.results.length <= 200)).toBe(true);
    const total = reports.reduce((n, r) => n + r.summary.fail + r.summary.pass, 0);
    expect(total).toBe(1001);
    expect(reports[0]!.summary.fail).toBe(101); // failures first
  });

  it('splits under the byte bound too, whatever the result count allows', () => {
    const long = 'registry.test/team/' + 'x'.repeat(480);
    const many = Array.from({ length: 100 }, (_, i) => finding(i, 'fail', long));
    const maxBytes = 16 * 1024;
    const reports = namespaceReports('team', many, 0, () => undefined, { maxResults: 1000, maxBytes });
    expect(reports.length).toBeGreaterThan(1);
    for (const r of reports) expect(Buffer.byteLength(JSON.stringify(r))).toBeLessThanOrEqual(maxBytes);
  });

  it('keeps the first-found time of an unchanged result, so an unchanged report is not rewritten', () => {
    const first = namespaceReports('team', [finding(1, 'fail')], 1_000_000, () => undefined);
    const since = new Map<string, number>();
    timestampsOf(first[0]!, since, 100);
    const later = namespaceReports('team', [finding(1, 'fail')], 9_000_000, (key) => since.get(key));
    expect(later[0]!.results[0]!.timestamp.seconds).toBe(1000);
    expect(sameContent(first[0]!, later[0]!)).toBe(true);
    const changed = namespaceReports('team', [finding(1, 'pass')], 9_000_000, (key) => since.get(key));
    expect(changed[0]!.results[0]!.timestamp.seconds).toBe(9000);
    expect(sameContent(first[0]!, changed[0]!)).toBe(false);
  });

  it('writes an empty report for a namespace without running pods (it was audited)', () => {
    const reports = namespaceReports('empty', [], 0, () => undefined);
    expect(reports).toHaveLength(1);
    expect(reports[0]!.summary).toEqual({ pass: 0, fail: 0, warn: 0, error: 0, skip: 0 });
  });

  it('the ClusterPolicyReport has a result per namespace with its worst status, and the round\'s problems as errors', () => {
    const report = clusterReport(
      [{ namespace: 'a', pods: 2, summary: { pass: 2, fail: 0, warn: 0, error: 0, skip: 0 } }, { namespace: 'b', pods: 3, summary: { pass: 1, fail: 2, warn: 0, error: 0, skip: 0 } }],
      [{ code: 'ROUND_TRUNCATED', message: 'more than 10 pods' }],
      0,
    );
    expect(report).toMatchObject({ kind: 'ClusterPolicyReport', metadata: { name: 'trustgate-audit' } });
    expect(report.results.map((r) => [r.rule, r.result, r.resources[0]?.name])).toEqual([['ROUND_TRUNCATED', 'error', undefined], ['NAMESPACE', 'fail', 'b'], ['NAMESPACE', 'pass', 'a']]);
    expect(report.summary).toEqual({ pass: 1, fail: 1, warn: 0, error: 1, skip: 0 });
  });
});

it('an unchanged report read back from the API server (keys re-ordered) counts as the same', () => {
  const [report] = namespaceReports('team', [], 0, () => undefined);
  const reordered = JSON.parse(JSON.stringify({ summary: { skip: 0, warn: 0, pass: 0, fail: 0, error: 0 }, results: report!.results })) as typeof report;
  expect(sameContent(report!, reordered!)).toBe(true);
});
