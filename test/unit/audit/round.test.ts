// An audit round (src/audit/round.ts) against a counted fake API: every running pod decided by
// the webhook's decide(), each image verified once per round whatever the pod count, bounded at
// maxPods, leadership checked before writing, and reports of namespaces no longer audited removed.
import { decide, type ReviewRequest } from '../../../src/admission/index.js';
import { DEFAULT_ROUND_BOUNDS, RoundVerifier, runRound, timestampsOf, TokenBucket, type AuditPod, type PolicyReportObject, type RoundIo } from '../../../src/audit/index.js';
import { PolicySet } from '../../../src/policy/index.js';
import { ScriptedVerifier } from '../../support/fake-verifier.js';
import { policy, TOFU } from '../../support/policies.js';

const A = `sha256:${'a'.repeat(64)}`;
const policies = new PolicySet([policy('signed', ['registry.test/**'], TOFU)]);

function podOf(namespace: string, i: number, image: string): AuditPod {
  return { namespace, name: `p${i}`, uid: `${namespace}-${i}`, object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${i}` }, spec: { containers: [{ name: 'app', image }] } } };
}

function fakeIo(pods: Record<string, AuditPod[]>, verifier: ScriptedVerifier) {
  const written = new Map<string, PolicyReportObject[]>();
  const state = { leading: true, cluster: undefined as PolicyReportObject | undefined, removedExcept: undefined as ReadonlySet<string> | undefined, podLimits: [] as number[] };
  const rate = new TokenBucket(1_000_000, 1_000_000);
  let round = new RoundVerifier(verifier, rate, 100_000);
  const io: RoundIo = {
    namespaces: (limit) => Promise.resolve({ names: Object.keys(pods).slice(0, limit), truncated: Object.keys(pods).length > limit }),
    pods: (namespace, limit) => {
      state.podLimits.push(limit);
      const all = pods[namespace] ?? [];
      return Promise.resolve({ pods: all.slice(0, limit), truncated: all.length > limit });
    },
    decide: (pod) => {
      const review: ReviewRequest = { uid: 'u', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: 'pods', subResource: '', namespace: pod.namespace, name: pod.name, operation: 'CREATE', object: pod.object, oldObject: undefined, dryRun: true };
      return decide(review, 'mutate', { policies, verifier: round, defaultAction: 'deny', mutateWorkloads: false, deadlineMs: 5000, credentialsFor: () => undefined });
    },
    // What the reports written so far say (as KubeAudit reads them back).
    timestamps: (namespace) => {
      const since = new Map<string, number>();
      for (const r of written.get(namespace) ?? []) timestampsOf(r, since, 100_000);
      return Promise.resolve(since);
    },
    writeNamespace: (namespace, reports) => Promise.resolve(void written.set(namespace, reports)),
    writeCluster: (report) => Promise.resolve(void (state.cluster = report)),
    removeOthers: (audited) => Promise.resolve(void (state.removedExcept = audited)),
    leading: () => state.leading,
  };
  return { io, written, state, newRound: () => (round = new RoundVerifier(verifier, rate, 100_000)), lookups: () => round.lookups };
}

it('2,000 pods of 200 images: each image verified once in the round, every pod reported', async () => {
  const script: Record<string, string> = {};
  for (let i = 0; i < 200; i++) script[`registry.test/app${i}:1.0`] = A;
  const verifier = new ScriptedVerifier(script);
  const pods: Record<string, AuditPod[]> = {};
  for (let i = 0; i < 2000; i++) (pods[`ns${i % 10}`] ??= []).push(podOf(`ns${i % 10}`, i, `registry.test/app${i % 200}:1.0@${A}`));
  const { io, written, state, lookups } = fakeIo(pods, verifier);
  const result = await runRound(io, DEFAULT_ROUND_BOUNDS, () => 0);
  expect(verifier.calls).toHaveLength(200);
  expect(lookups()).toBe(200);
  expect(result).toMatchObject({ pods: 2000, namespaces: 10, byStatus: { pass: 2000, fail: 0, warn: 0, error: 0 }, aborted: false });
  expect([...written.values()].flat().reduce((n, r) => n + r.results.length, 0)).toBe(2000);
  expect(state.cluster?.results).toHaveLength(10);
  expect(state.removedExcept).toEqual(new Set(Object.keys(pods)));
});

it('the next round verifies again (trust data changes between rounds), once per image', async () => {
  const verifier = new ScriptedVerifier({ 'registry.test/app:1.0': A });
  const pods = { team: Array.from({ length: 50 }, (_, i) => podOf('team', i, `registry.test/app:1.0@${A}`)) };
  const f = fakeIo(pods, verifier);
  await runRound(f.io, DEFAULT_ROUND_BOUNDS, () => 0);
  f.newRound();
  await runRound(f.io, DEFAULT_ROUND_BOUNDS, () => 0);
  expect(verifier.calls).toHaveLength(2);
});

it('stops at maxPods, each namespace cut at its fair share, says so, and deletes no report it did not redo', async () => {
  const verifier = new ScriptedVerifier({ 'registry.test/app:1.0': A });
  const pods = { a: Array.from({ length: 30 }, (_, i) => podOf('a', i, 'registry.test/app:1.0')), b: Array.from({ length: 30 }, (_, i) => podOf('b', i, 'registry.test/app:1.0')) };
  const { io, state, written } = fakeIo(pods, verifier);
  const result = await runRound(io, { ...DEFAULT_ROUND_BOUNDS, maxPods: 40 }, () => 0);
  expect(result.pods).toBe(40);
  expect(state.podLimits).toEqual([20, 20]);
  expect(written.get('b')![0]!.results).toHaveLength(20);
  expect(result.problems.map((p) => p.code)).toEqual(['ROUND_TRUNCATED']);
  expect(state.cluster?.results.some((r) => r.rule === 'ROUND_TRUNCATED' && r.result === 'error')).toBe(true);
  expect(state.removedExcept).toBeUndefined();
});

it('what a small namespace leaves of its share goes to the namespaces after it', async () => {
  const verifier = new ScriptedVerifier({ 'registry.test/app:1.0': A });
  const pods = { a: Array.from({ length: 5 }, (_, i) => podOf('a', i, 'registry.test/app:1.0')), b: Array.from({ length: 35 }, (_, i) => podOf('b', i, 'registry.test/app:1.0')) };
  const { io, state } = fakeIo(pods, verifier);
  const result = await runRound(io, { ...DEFAULT_ROUND_BOUNDS, maxPods: 40 }, () => 0);
  expect(state.podLimits).toEqual([20, 35]);
  expect(result).toMatchObject({ pods: 40, problems: [] });
});

it('writes nothing more once leadership is lost during the round', async () => {
  const verifier = new ScriptedVerifier({ 'registry.test/app:1.0': A });
  const pods = { a: [podOf('a', 1, 'registry.test/app:1.0')], b: [podOf('b', 1, 'registry.test/app:1.0')] };
  const f = fakeIo(pods, verifier);
  f.state.leading = false;
  const result = await runRound(f.io, DEFAULT_ROUND_BOUNDS, () => 0);
  expect(result.aborted).toBe(true);
  expect(f.written.size).toBe(0);
  expect(f.state.cluster).toBeUndefined();
});

it('a pod whose decision throws gets an error result; the round goes on', async () => {
  const verifier = new ScriptedVerifier({ 'registry.test/app:1.0': A });
  const pods = { a: [podOf('a', 1, `registry.test/app:1.0@${A}`), podOf('a', 2, `registry.test/app:1.0@${A}`)] };
  const f = fakeIo(pods, verifier);
  const io: RoundIo = { ...f.io, decide: (pod) => (pod.name === 'p1' ? Promise.reject(new Error('boom')) : f.io.decide(pod)) };
  const result = await runRound(io, DEFAULT_ROUND_BOUNDS, () => 0);
  expect(result.byStatus).toMatchObject({ error: 1, pass: 1 });
  expect(f.written.get('a')![0]!.results[0]).toMatchObject({ result: 'error', rule: 'AUDIT_FAILED' });
});

it('counts the repositories only Notary verified (the DCT-only count of running workloads)', async () => {
  const verifier = new ScriptedVerifier({ 'registry.test/a:1': A, 'registry.test/b:1': A });
  const pods = { a: [podOf('a', 1, `registry.test/a:1@${A}`), podOf('a', 2, `registry.test/b:1@${A}`), podOf('a', 3, `registry.test/b:1@${A}`)] };
  const result = await runRound(fakeIo(pods, verifier).io, DEFAULT_ROUND_BOUNDS, () => 0);
  expect(result.dctOnly).toBe(2);
  expect(result.byKind).toEqual({ notary: 3 });
});

it('a namespace whose reports cannot be written is named in the cluster report; the others are still written', async () => {
  const verifier = new ScriptedVerifier({ 'registry.test/app:1.0': A });
  const pods = { a: [podOf('a', 1, `registry.test/app:1.0@${A}`)], b: [podOf('b', 1, `registry.test/app:1.0@${A}`)] };
  const f = fakeIo(pods, verifier);
  const io: RoundIo = { ...f.io, writeNamespace: (namespace, reports) => (namespace === 'a' ? Promise.reject(new Error('admission webhook denied the request')) : f.io.writeNamespace(namespace, reports)) };
  const result = await runRound(io, DEFAULT_ROUND_BOUNDS, () => 0);
  expect(result.problems.map((p) => p.code)).toEqual(['WRITE_FAILED']);
  expect([...f.written.keys()]).toEqual(['b']);
  expect(f.state.cluster?.results.find((r) => r.rule === 'WRITE_FAILED')?.message).toContain('namespace a');
});

it('counts as new failures only fail results the reports did not hold: a new leader or a restart does not count old ones again', async () => {
  const verifier = new ScriptedVerifier({ 'registry.test/app:1.0': A });
  const pods: Record<string, AuditPod[]> = { a: [podOf('a', 1, 'registry.test/unsigned:1'), podOf('a', 2, `registry.test/app:1.0@${A}`)] };
  const f = fakeIo(pods, verifier);
  expect((await runRound(f.io, DEFAULT_ROUND_BOUNDS, () => 1_000_000)).newFailures).toBe(1);
  // Another replica (a fresh process: nothing in memory) reads the same reports.
  const other = fakeIo(pods, verifier);
  for (const [ns, reports] of f.written) other.written.set(ns, reports);
  expect((await runRound(other.io, DEFAULT_ROUND_BOUNDS, () => 2_000_000)).newFailures).toBe(0);
  pods.a!.push(podOf('a', 3, 'registry.test/other-unsigned:1'));
  expect((await runRound(other.io, DEFAULT_ROUND_BOUNDS, () => 3_000_000)).newFailures).toBe(1);
});

it('a namespace whose pods take longer than namespaceMs (a tenant\'s trust server that stalls): the rest get an error result, and the next namespace is audited', async () => {
  const verifier = new ScriptedVerifier({ 'registry.test/slow:1.0': A, 'registry.test/ok:1.0': A });
  const pods: Record<string, AuditPod[]> = {
    'a-slow': Array.from({ length: 50 }, (_, i) => podOf('a-slow', i, `registry.test/slow:1.0@${A}`)),
    'b-next': [podOf('b-next', 0, `registry.test/ok:1.0@${A}`)],
  };
  const { io, written } = fakeIo(pods, verifier);
  let clock = 0;
  const decideOne = (pod: AuditPod) => io.decide(pod);
  // Every decision in a-slow costs 10 s of the round's clock (each waiting out a deadline).
  const slowIo: RoundIo = { ...io, decide: async (pod) => {
    if (pod.namespace === 'a-slow') clock += 10_000;
    return decideOne(pod);
  } };
  const result = await runRound(slowIo, { ...DEFAULT_ROUND_BOUNDS, concurrency: 1, namespaceMs: 60_000 }, () => clock);
  const slow = (written.get('a-slow') ?? []).flatMap((r) => r.results);
  // Six decided within the 60 s (0, 10, …, 50 s), the other 44 not started: one error each.
  expect(slow.filter((r) => r.result === 'pass')).toHaveLength(6);
  const skipped = slow.filter((r) => r.rule === 'AUDIT_TIME_SPENT');
  expect(skipped).toHaveLength(44);
  expect(skipped[0]!.message).toMatch(/not audited this round: namespace a-slow took its 60 s/);
  expect((written.get('b-next') ?? []).flatMap((r) => r.results).map((r) => r.result)).toEqual(['pass']);
  expect(result.byStatus).toMatchObject({ pass: 7, error: 44 });
});
