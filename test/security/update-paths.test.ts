// Bypass class: UPDATE paths. An image admitted once may be changed later — `kubectl set image`
// on a pod or a Deployment, an ephemeral container added to a running pod — and an UPDATE that
// changes no image is let through without a review. The attacker's goal is an UPDATE that changes
// an image yet looks unchanged, or an operation trustgate skips that still changes something.
// Each case asserts the answer the API server gets. (An UPDATE carrying a deletionTimestamp is
// tested with its fix, issue 9 item 12.)
import { decide, parseReview, ReviewError, type Decision, type DecisionContext, type Endpoint } from '../../src/admission/index.js';
import { PolicySet } from '../../src/policy/index.js';
import { ScriptedVerifier } from '../support/fake-verifier.js';
import { policy, TOFU } from '../support/policies.js';
import { applyPatch, review, workload, type PodSpecLike } from '../support/reviews.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const SIGNED = 'registry.example.com/team/app:1.0';
const UNSIGNED = 'registry.example.com/team/app:latest';
const OTHER_SIGNED = 'registry.example.com/team/sidecar:1.0';
const D2 = `sha256:${'2'.repeat(64)}`;

// Whether an UPDATE is reviewed is the point, not how an image is verified: a scripted verifier
// answers "signed" for two tags and "not signed" for everything else.
function context(mutateWorkloads = false): DecisionContext & { verifier: ScriptedVerifier } {
  const verifier = new ScriptedVerifier({ [SIGNED]: D1, [OTHER_SIGNED]: D2 });
  return { policies: new PolicySet([policy('internal', ['registry.example.com/**'], TOFU)]), verifier, defaultAction: 'deny', mutateWorkloads, deadlineMs: 2000, credentialsFor: () => undefined };
}

function update(kind: string, before: PodSpecLike, after: PodSpecLike, options: { subResource?: string; dryRun?: boolean } = {}) {
  return review(kind, workload(kind, 'web', after), { operation: 'UPDATE', oldObject: workload(kind, 'web', before), ...options });
}

async function answer(body: Record<string, unknown>, endpoint: Endpoint, ctx = context()): Promise<Decision> {
  return decide(parseReview(body), endpoint, ctx);
}

const KINDS = ['Pod', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicationController'];

describe('an UPDATE that changes an image in place (kubectl set image)', () => {
  it.each(KINDS)('of a %s to an unsigned tag is denied by /validate', async (kind) => {
    const d = await answer(update(kind, { containers: [{ name: 'app', image: `${SIGNED}@${D1}` }] }, { containers: [{ name: 'app', image: UNSIGNED }] }), 'validate');
    expect(d.allowed).toBe(false);
    expect(d.reasons).toEqual(['TAG_NOT_SIGNED']);
  });

  it('of a pod to a signed tag is pinned by /mutate, like a CREATE', async () => {
    const body = update('Pod', { containers: [{ name: 'app', image: OTHER_SIGNED }] }, { containers: [{ name: 'app', image: SIGNED }] });
    const d = await answer(body, 'mutate');
    expect(d.allowed).toBe(true);
    const stored = applyPatch((body.request as { object: { spec: PodSpecLike } }).object, d.patch);
    expect(stored.spec.containers[0]!.image).toBe(`${SIGNED}@${D1}`);
  });

  it.each([
    ['an init container', { initContainers: [{ name: 'init', image: OTHER_SIGNED }], containers: [{ name: 'app', image: OTHER_SIGNED }] }, { initContainers: [{ name: 'init', image: UNSIGNED }], containers: [{ name: 'app', image: OTHER_SIGNED }] }],
    ['the second of two containers', { containers: [{ name: 'a', image: OTHER_SIGNED }, { name: 'b', image: OTHER_SIGNED }] }, { containers: [{ name: 'a', image: OTHER_SIGNED }, { name: 'b', image: UNSIGNED }] }],
    ['an added container', { containers: [{ name: 'a', image: OTHER_SIGNED }] }, { containers: [{ name: 'a', image: OTHER_SIGNED }, { name: 'b', image: UNSIGNED }] }],
  ] as [string, PodSpecLike, PodSpecLike][])('in %s is denied', async (_where, before, after) => {
    const d = await answer(update('Deployment', before, after), 'validate');
    expect(d.allowed).toBe(false);
    expect(d.reasons).toEqual(['TAG_NOT_SIGNED']);
  });
});

describe('an UPDATE that only moves image strings around is still reviewed', () => {
  // Both images were in the pod before; the unsigned one was admitted under an audit policy
  // (or before the policy existed). Moving it into another container is a change.
  it('swapping the same two strings between containers', async () => {
    const before = { containers: [{ name: 'a', image: SIGNED }, { name: 'b', image: UNSIGNED }] };
    const after = { containers: [{ name: 'a', image: UNSIGNED }, { name: 'b', image: SIGNED }] };
    const d = await answer(update('Deployment', before, after), 'validate');
    expect(d.allowed).toBe(false);
    expect(d.reasons).toEqual(['TAG_NOT_SIGNED']);
  });

  it('moving an image from an init container to an app container', async () => {
    const before = { initContainers: [{ name: 'i', image: UNSIGNED }], containers: [{ name: 'a', image: SIGNED }] };
    const after = { initContainers: [{ name: 'i', image: SIGNED }], containers: [{ name: 'a', image: UNSIGNED }] };
    const d = await answer(update('StatefulSet', before, after), 'validate');
    expect(d.allowed).toBe(false);
  });

  it('while an UPDATE that changes no image is let through unreviewed', async () => {
    const spec = { containers: [{ name: 'a', image: UNSIGNED }] };
    const ctx = context();
    const d = await answer(update('Deployment', spec, spec), 'validate', ctx);
    expect(d.decision).toBe('skip');
    expect(ctx.verifier.calls).toEqual([]);
  });
});

describe('ephemeral containers (kubectl debug)', () => {
  it.each(['mutate', 'validate'] as const)('an unsigned debug image added through pods/ephemeralcontainers is denied by /%s', async (endpoint) => {
    const before = { containers: [{ name: 'app', image: `${SIGNED}@${D1}` }] };
    const after = { ...before, ephemeralContainers: [{ name: 'debugger', image: 'registry.example.com/tools/busybox:latest' }] };
    const d = await answer(update('Pod', before, after, { subResource: 'ephemeralcontainers' }), endpoint);
    expect(d.allowed).toBe(false);
    expect(d.reasons).toEqual(['TAG_NOT_SIGNED']);
  });

  it('a signed debug image is pinned through the subresource', async () => {
    const before = { containers: [{ name: 'app', image: `${SIGNED}@${D1}` }] };
    const body = update('Pod', before, { ...before, ephemeralContainers: [{ name: 'debugger', image: OTHER_SIGNED }] }, { subResource: 'ephemeralcontainers' });
    const d = await answer(body, 'mutate');
    const stored = applyPatch((body.request as { object: { spec: PodSpecLike } }).object, d.patch);
    expect(stored.spec.ephemeralContainers?.[0]?.image).toBe(`${OTHER_SIGNED}@${D2}`);
  });
});

describe('an UPDATE whose old object is missing or malformed is reviewed as if everything changed', () => {
  const after = { containers: [{ name: 'app', image: UNSIGNED }] };
  it.each([
    ['missing', undefined],
    ['null', null],
    ['without a pod spec', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } }],
    ['with containers that are not a list', workload('Deployment', 'web', { containers: 'x' as never })],
    ['with an image that is not a string', workload('Deployment', 'web', { containers: [{ name: 'app', image: 42 as never }] })],
  ])('old object %s', async (_what, oldObject) => {
    const body = review('Deployment', workload('Deployment', 'web', after), { operation: 'UPDATE' });
    (body.request as Record<string, unknown>).oldObject = oldObject === undefined ? undefined : structuredClone(oldObject);
    const d = await answer(body, 'validate');
    expect(d.allowed).toBe(false);
    expect(d.reasons).toEqual(['TAG_NOT_SIGNED']);
  });

  it('an old object of another kind with the same images does not make a changed pod look unchanged', async () => {
    // The pod's images at /spec/... are compared with the old object's at the same pointers.
    const body = review('Pod', workload('Pod', 'web', after), { operation: 'UPDATE', oldObject: workload('Deployment', 'web', after) });
    const d = await answer(body, 'validate');
    expect(d.allowed).toBe(false);
  });
});

describe('an UPDATE or CREATE without an object is refused, not skipped', () => {
  it.each(['UPDATE', 'CREATE'])('%s with object null', (operation) => {
    const body = review('Pod', undefined, { operation, oldObject: workload('Pod', 'web', { containers: [{ name: 'app', image: UNSIGNED }] }) });
    (body.request as Record<string, unknown>).object = null;
    expect(() => parseReview(body)).toThrow(ReviewError);
    expect(() => parseReview(body)).toThrow(/request\.object: required for/);
  });
});

describe('dry runs are decided like real requests', () => {
  it.each(['mutate', 'validate'] as const)('a dryRun UPDATE to an unsigned image is denied by /%s', async (endpoint) => {
    const d = await answer(update('Pod', { containers: [{ name: 'app', image: SIGNED }] }, { containers: [{ name: 'app', image: UNSIGNED }] }, { dryRun: true }), endpoint);
    expect(d.allowed).toBe(false);
  });

  it('a dryRun CREATE of a signed pod shows the same pin a real one gets', async () => {
    const body = review('Pod', workload('Pod', 'web', { containers: [{ name: 'app', image: SIGNED }] }), { dryRun: true });
    const d = await answer(body, 'mutate');
    expect(applyPatch((body.request as { object: { spec: PodSpecLike } }).object, d.patch).spec.containers[0]!.image).toBe(`${SIGNED}@${D1}`);
  });
});

describe('operations that are not reviewed change nothing', () => {
  // kube-apiserver stores no object from a DELETE or CONNECT: the answer may be "allowed", but it
  // must carry no patch, and the same object as a CREATE or UPDATE is still denied.
  it.each(['DELETE', 'CONNECT'])('%s is skipped without a patch', async (operation) => {
    const pod = workload('Pod', 'web', { containers: [{ name: 'app', image: UNSIGNED }] });
    const ctx = context();
    const d = await answer(review('Pod', pod, { operation, oldObject: pod }), 'mutate', ctx);
    expect(d).toMatchObject({ allowed: true, decision: 'skip', patch: [] });
    expect(ctx.verifier.calls).toEqual([]);
  });

  it.each(['create', 'Update', 'PATCH', 'APPLY', ''])('an unknown operation %j is refused, not skipped', (operation) => {
    expect(() => parseReview(review('Pod', workload('Pod', 'web', { containers: [{ name: 'app', image: UNSIGNED }] }), { operation }))).toThrow(ReviewError);
  });
});
