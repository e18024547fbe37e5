// A tenant against the audit's bounds (docs/audit.md "Bounded load"), in-process with the real
// decide(), RoundVerifier and report building over a counted fake API: thousands of pods naming
// thousands of distinct images cannot make a round unbounded (pods per round, verifications per
// round, results per pod, results and bytes per report object), cannot starve the namespaces
// after its own, and hostile pod fields (huge image names, thousands of containers, control
// characters) neither crash the round nor blow a report object's size.
import { decide, type ReviewRequest } from '../../src/admission/index.js';
import { DEFAULT_ROUND_BOUNDS, MAX_RESULTS_PER_POD, RoundVerifier, runRound, TokenBucket, type AuditPod, type PolicyReportObject, type RoundIo } from '../../src/audit/index.js';
import { PolicySet } from '../../src/policy/index.js';
import { ScriptedVerifier } from '../support/fake-verifier.js';
import { policy, TOFU } from '../support/policies.js';

const A = `sha256:${'a'.repeat(64)}`;
const policies = new PolicySet([policy('signed', ['registry.test/**'], TOFU)]);
const bounds = { ...DEFAULT_ROUND_BOUNDS, maxPods: 1000, report: { maxResults: 200, maxBytes: 256 * 1024 } };
const MAX_VERIFICATIONS = 2000;

function podOf(namespace: string, name: string, containers: { name: string; image: string }[]): AuditPod {
  return { namespace, name, uid: `${namespace}/${name}`, object: { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers } } };
}

/** A counted fake API over `pods`, deciding with the real decide() through a RoundVerifier. */
function cluster(pods: Record<string, AuditPod[]>, verifier: ScriptedVerifier) {
  const written = new Map<string, PolicyReportObject[]>();
  const round = new RoundVerifier(verifier, new TokenBucket(1_000_000, 1_000_000), MAX_VERIFICATIONS);
  const listed = { pods: 0 };
  let cluster: PolicyReportObject | undefined;
  const io: RoundIo = {
    namespaces: (limit) => Promise.resolve({ names: Object.keys(pods).sort().slice(0, limit), truncated: false }),
    pods: (namespace, limit) => {
      const all = pods[namespace] ?? [];
      listed.pods += Math.min(limit, all.length);
      return Promise.resolve({ pods: all.slice(0, limit), truncated: all.length > limit });
    },
    decide: (pod) => {
      const review: ReviewRequest = { uid: 'u', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: 'pods', subResource: '', namespace: pod.namespace, name: pod.name, operation: 'CREATE', object: pod.object, oldObject: undefined, dryRun: true };
      return decide(review, 'mutate', { policies, verifier: round, defaultAction: 'deny', mutateWorkloads: false, deadlineMs: 60_000, credentialsFor: () => undefined });
    },
    timestamps: () => Promise.resolve(new Map<string, number>()),
    writeNamespace: (namespace, reports) => Promise.resolve(void written.set(namespace, reports)),
    writeCluster: (report) => Promise.resolve(void (cluster = report)),
    removeOthers: () => Promise.resolve(),
    leading: () => true,
    namespaceStarted: (_namespace, left) => round.startNamespace(left),
    problems: () => (round.refused > 0 ? [{ code: 'VERIFICATIONS_TRUNCATED', message: `${round.refused} refused` }] : []),
  };
  return { io, written, listed, round, cluster: () => cluster };
}

function expectWithinBounds(written: Map<string, PolicyReportObject[]>): void {
  for (const reports of written.values()) {
    for (const r of reports) {
      expect(r.results.length).toBeLessThanOrEqual(bounds.report.maxResults);
      expect(Buffer.byteLength(JSON.stringify(r))).toBeLessThanOrEqual(bounds.report.maxBytes);
    }
  }
}

it('a tenant with 5,000 pods of 32 distinct images each: the round stays bounded and the next namespace is still audited', async () => {
  const verifier = new ScriptedVerifier({ 'registry.test/victim/app:1': A });
  const flood = Array.from({ length: 5000 }, (_, p) => podOf('aaa-flood', `p${p}`, Array.from({ length: 32 }, (_, c) => ({ name: `c${c}`, image: `registry.test/flood/i${p}-${c}:1` }))));
  const victim = [podOf('victim', 'web', [{ name: 'app', image: `registry.test/victim/app:1@${A}` }]), podOf('victim', 'bad', [{ name: 'app', image: 'registry.test/victim/unsigned:1' }])];
  const c = cluster({ 'aaa-flood': flood, victim }, verifier);
  const result = await runRound(c.io, bounds, () => 0);

  expect(c.listed.pods).toBeLessThanOrEqual(bounds.maxPods);
  expect(result.pods).toBeLessThanOrEqual(bounds.maxPods);
  // At most MAX_VERIFICATIONS distinct verifications started, whatever the tenant names.
  expect(verifier.calls.length).toBeLessThanOrEqual(MAX_VERIFICATIONS);
  expect(c.round.refused).toBeGreaterThan(0);
  // The victim namespace, after the flood in name order, still gets its results.
  const victimResults = c.written.get('victim')!.flatMap((r) => r.results);
  expect(victimResults.map((r) => [r.resources[0]!.name, r.result])).toEqual([['bad', 'fail'], ['web', 'pass']]);
  expectWithinBounds(c.written);
  expect(c.cluster()!.results.map((r) => r.rule)).toEqual(expect.arrayContaining(['ROUND_TRUNCATED', 'VERIFICATIONS_TRUNCATED']));
});

it('hostile pod fields: thousands of containers and huge image names are bounded per result and per object', async () => {
  const verifier = new ScriptedVerifier({});
  const huge = `registry.test/${'x'.repeat(200_000)}:1`;
  const pods = {
    team: [
      podOf('team', 'many', Array.from({ length: 5000 }, (_, i) => ({ name: `c${i}`, image: `registry.test/same/img:${i % 3}` }))),
      podOf('team', 'huge', Array.from({ length: 40 }, (_, i) => ({ name: `n${'y'.repeat(10_000)}${i}`, image: `${huge}${i}` }))),
      podOf('team', 'controls', [{ name: 'a\u0000\u001b[31mb', image: 'registry.test/a\nb\u2028c:1' }]),
      podOf('team', 'bad-object', [{ name: 'x', image: 42 as unknown as string }]),
    ],
  };
  const c = cluster(pods, verifier);
  const result = await runRound(c.io, bounds, () => 0);
  expect(result.pods).toBe(4);
  const results = c.written.get('team')!.flatMap((r) => r.results);
  const perPod = (name: string) => results.filter((r) => r.resources[0]!.name === name);
  expect(perPod('many').length).toBeLessThanOrEqual(MAX_RESULTS_PER_POD);
  expect(perPod('huge').length).toBeLessThanOrEqual(MAX_RESULTS_PER_POD);
  for (const r of results) {
    expect((r.properties.image ?? '').length).toBeLessThanOrEqual(513);
    expect((r.properties.container ?? '').length).toBeLessThanOrEqual(254);
    expect(r.message.length).toBeLessThanOrEqual(1025);
    // Nothing a terminal would act on reaches `kubectl get -o yaml`: control characters escaped.
    // eslint-disable-next-line no-control-regex
    for (const text of [r.message, r.policy, ...Object.values(r.properties)]) expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
  }
  expect(perPod('bad-object')).toMatchObject([{ result: 'fail', rule: 'MALFORMED_OBJECT' }]);
  expectWithinBounds(c.written);
  // Verified once per distinct image, not per container.
  expect(verifier.calls.filter((c) => c.startsWith('registry.test/same/'))).toHaveLength(3);
});

it('one namespace of 400 pods with 32 failing containers each: its reports hold the worst results up to the bound, and say how many more', async () => {
  const verifier = new ScriptedVerifier({});
  const pods = { team: Array.from({ length: 400 }, (_, p) => podOf('team', `p${p}`, Array.from({ length: 32 }, (_, c) => ({ name: `c${c}`, image: `registry.test/same/unsigned:${c % 4}` })))) };
  const c = cluster(pods, verifier);
  const result = await runRound(c.io, { ...bounds, maxResultsPerNamespace: 2000 }, () => 0);
  expect(result.byStatus.fail).toBe(400 * 32);
  const reports = c.written.get('team')!;
  const results = reports.flatMap((r) => r.results);
  expect(results).toHaveLength(2001);
  expect(reports.length).toBeLessThanOrEqual(Math.ceil(2001 / bounds.report.maxResults));
  expect(results.find((r) => r.rule === 'RESULTS_OMITTED')).toMatchObject({ result: 'fail', resources: [{ kind: 'Namespace', name: 'team' }] });
  expect(results.find((r) => r.rule === 'RESULTS_OMITTED')!.message).toContain(`${400 * 32 - 2000} more results`);
  // The cluster report counts them all.
  expect(c.cluster()!.results.find((r) => r.rule === 'NAMESPACE')!.properties.fail).toBe(String(400 * 32));
  expectWithinBounds(c.written);
});
