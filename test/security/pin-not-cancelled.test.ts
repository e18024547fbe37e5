// What an enforcing, mutating policy established — the pod runs the signed digest — must hold
// whatever else happens: a tenant's warn- or audit-mode ImagePolicy that fails must not drop the
// pin (the pod would run by tag: whatever the registry serves), and a later mutating webhook
// that strips the digest must meet /validate's NOT_PINNED. Cluster-level:
// test/security/podspec-cluster.test.ts.
import { decide, parseReview, type DecisionContext, type ImageVerifier } from '../../src/admission/index.js';
import { PolicySet, type Policy, type TrustSpec } from '../../src/policy/index.js';
import type { ImageReference } from '../../src/reference/index.js';
import { ScriptedVerifier } from '../support/fake-verifier.js';
import { policy, TOFU } from '../support/policies.js';
import { applyPatch, review, workload } from '../support/reviews.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D9 = `sha256:${'9'.repeat(64)}`;
const REG = 'registry.example.com';
const APP = `${REG}/team/app:1.0`;
const SIDECAR = `${REG}/team/sidecar:2`;

/** Answers for each policy from its own script, as policies with different trust servers would. */
class PerPolicyVerifier implements ImageVerifier {
  private readonly byTrust = new Map<TrustSpec, ScriptedVerifier>();
  constructor(entries: [Policy, Record<string, string>][]) {
    for (const [p, script] of entries) this.byTrust.set(p.trust, new ScriptedVerifier(script));
  }
  verify(ref: ImageReference, trust: TrustSpec) {
    return this.byTrust.get(trust)!.verify(ref);
  }
  peek(ref: ImageReference, trust: TrustSpec) {
    return this.byTrust.get(trust)!.peek(ref);
  }
}

const cluster = policy('signed', [`${REG}/**`], TOFU);

function ctx(policies: Policy[], scripts: Record<string, string>[], over: Partial<DecisionContext> = {}): DecisionContext {
  return {
    policies: new PolicySet(policies),
    verifier: new PerPolicyVerifier(policies.map((p, i) => [p, scripts[i] ?? {}])),
    defaultAction: 'deny',
    mutateWorkloads: false,
    deadlineMs: 2000,
    credentialsFor: () => undefined,
    ...over,
  };
}

const signedEverywhere = { [APP]: D1, [SIDECAR]: D2 };
const pod = (containers: { name: string; image: string }[], extra: Record<string, unknown> = {}) => workload('Pod', 'web', { containers, ...extra });
const imageOf = (object: Record<string, unknown>, patch: Parameters<typeof applyPatch>[1]) => (applyPatch(object, patch) as { spec: { containers: { image: string }[] } }).spec.containers[0]!.image;

describe('a failing warn/audit namespace policy never removes the cluster\'s pin', () => {
  it.each(['audit', 'warn'])('%s-mode ImagePolicy whose check fails: admitted, reported, and still pinned to the cluster-verified digest', async (mode) => {
    const tenant = policy('strict', [`${REG}/team/**`], { mode, ...TOFU }, 'team-a');
    const c = ctx([cluster, tenant], [signedEverywhere, {}]); // the tenant's check finds no signature
    const object = pod([{ name: 'app', image: APP }]);
    for (const attempt of ['verifying', 'cached']) {
      const d = await decide(parseReview(review('Pod', object)), 'mutate', c);
      expect([attempt, d.allowed, d.decision]).toEqual([attempt, true, mode]);
      expect(d.reasons).toContain('TAG_NOT_SIGNED');
      expect(imageOf(object, d.patch)).toBe(`${APP}@${D1}`);
    }
  });

  it('an audit-mode deny policy does not drop the pin either', async () => {
    const tenant = policy('no-app', [`${REG}/team/app`], { action: 'deny', mode: 'audit' }, 'team-a');
    const object = pod([{ name: 'app', image: APP }]);
    const d = await decide(parseReview(review('Pod', object)), 'mutate', ctx([cluster, tenant], [signedEverywhere]));
    expect(d).toMatchObject({ allowed: true, decision: 'audit' });
    expect(imageOf(object, d.patch)).toBe(`${APP}@${D1}`);
  });

  it('a non-enforcing policy that resolves another digest neither denies nor moves the pin', async () => {
    const tenant = policy('elsewhere', [`${REG}/team/**`], { mode: 'audit', ...TOFU }, 'team-a');
    const object = pod([{ name: 'app', image: APP }]);
    const d = await decide(parseReview(review('Pod', object)), 'mutate', ctx([cluster, tenant], [signedEverywhere, { [APP]: D9 }]));
    expect(d).toMatchObject({ allowed: true, decision: 'audit', reasons: ['DIGEST_CONFLICT'] });
    expect(imageOf(object, d.patch)).toBe(`${APP}@${D1}`);
  });

  it('two enforcing policies that disagree still deny (DIGEST_CONFLICT)', async () => {
    const tenant = policy('elsewhere', [`${REG}/team/**`], TOFU, 'team-a');
    const d = await decide(parseReview(review('Pod', pod([{ name: 'app', image: APP }]))), 'mutate', ctx([cluster, tenant], [signedEverywhere, { [APP]: D9 }]));
    expect(d).toMatchObject({ allowed: false, reasons: ['DIGEST_CONFLICT'] });
  });

  it('/validate accepts the pinned pod /mutate produced under a failing audit policy', async () => {
    const tenant = policy('strict', [`${REG}/team/**`], { mode: 'audit', ...TOFU }, 'team-a');
    const c = ctx([cluster, tenant], [signedEverywhere, {}]);
    const object = pod([{ name: 'app', image: APP }]);
    const pinned = applyPatch(object, (await decide(parseReview(review('Pod', object)), 'mutate', c)).patch);
    expect(await decide(parseReview(review('Pod', pinned)), 'validate', c)).toMatchObject({ allowed: true, decision: 'audit' });
  });
});

describe('/validate: an image an enforcing, mutating policy pins must arrive with its signed digest', () => {
  const c = () => ctx([cluster], [signedEverywhere]);

  it('denies a pod whose signed image arrives by tag (a later webhook stripped the digest), naming it NOT_PINNED', async () => {
    const d = await decide(parseReview(review('Pod', pod([{ name: 'app', image: `${APP}@${D1}` }, { name: 'side', image: SIDECAR }]))), 'validate', c());
    expect(d.allowed).toBe(false);
    expect(d.reasons).toEqual(['NOT_PINNED']);
    expect(d.message).toMatch(new RegExp(`^container "side" image "${SIDECAR}": NOT_PINNED: .*${D2}.*; required by ClusterImagePolicy "signed"; fix: `));
    expect(d.message.split('\n')).toHaveLength(1);
  });

  it('denies an image volume that arrives by tag', async () => {
    const object = pod([{ name: 'app', image: `${APP}@${D1}` }], { volumes: [{ name: 'data', image: { reference: SIDECAR } }] });
    expect((await decide(parseReview(review('Pod', object)), 'validate', c())).message).toMatch(/^volume "data" image ".*sidecar:2": NOT_PINNED/);
  });

  it('admits what /mutate produced, and images no enforcing mutating policy pins', async () => {
    const object = pod([{ name: 'app', image: APP }]);
    const pinned = applyPatch(object, (await decide(parseReview(review('Pod', object)), 'mutate', c())).patch);
    expect(await decide(parseReview(review('Pod', pinned)), 'validate', c())).toMatchObject({ allowed: true, decision: 'allow' });
    const noMutate = policy('signed', [`${REG}/**`], { mutate: false, ...TOFU });
    expect((await decide(parseReview(review('Pod', object)), 'validate', ctx([noMutate], [signedEverywhere]))).allowed).toBe(true);
    const warnOnly = policy('signed', [`${REG}/**`], { mode: 'warn', ...TOFU });
    expect(await decide(parseReview(review('Pod', object)), 'validate', ctx([warnOnly], [signedEverywhere]))).toMatchObject({ allowed: true, decision: 'allow' });
    const allow = policy('open', ['**'], { action: 'allow' });
    expect((await decide(parseReview(review('Pod', object)), 'validate', ctx([allow], [{}]))).allowed).toBe(true);
  });

  it('workload templates must arrive pinned only when mutateWorkloads rewrites them', async () => {
    const deployment = workload('Deployment', 'web', { containers: [{ name: 'app', image: APP }] });
    expect((await decide(parseReview(review('Deployment', deployment)), 'validate', c())).allowed).toBe(true);
    const rewriting = ctx([cluster], [signedEverywhere], { mutateWorkloads: true });
    expect((await decide(parseReview(review('Deployment', deployment)), 'validate', rewriting)).reasons).toEqual(['NOT_PINNED']);
    const patched = applyPatch(deployment, (await decide(parseReview(review('Deployment', deployment)), 'mutate', rewriting)).patch);
    expect((await decide(parseReview(review('Deployment', patched)), 'validate', rewriting)).allowed).toBe(true);
  });

  it('an UPDATE that strips the digest changes an image: /mutate pins it again and /validate refuses it stripped', async () => {
    const before = pod([{ name: 'app', image: `${APP}@${D1}` }]);
    const stripped = pod([{ name: 'app', image: APP }]);
    const update = review('Pod', stripped, { operation: 'UPDATE', oldObject: before });
    expect(imageOf(stripped, (await decide(parseReview(update), 'mutate', c())).patch)).toBe(`${APP}@${D1}`);
    expect((await decide(parseReview(update), 'validate', c())).reasons).toEqual(['NOT_PINNED']);
  });

  it('a pod created before trustgate (by tag) keeps working: UPDATEs that change no image are skipped', async () => {
    const old = pod([{ name: 'app', image: APP }]);
    const relabelled = structuredClone(old);
    (relabelled.metadata as Record<string, unknown>).labels = { tier: 'web' };
    for (const endpoint of ['mutate', 'validate'] as const) {
      expect(await decide(parseReview(review('Pod', relabelled, { operation: 'UPDATE', oldObject: old })), endpoint, c())).toMatchObject({ allowed: true, decision: 'skip' });
    }
  });

  it('a debug container added to such a pod needs its own digest, not one for the untouched app container', async () => {
    const old = pod([{ name: 'app', image: APP }]);
    const withDebug = pod([{ name: 'app', image: APP }], { ephemeralContainers: [{ name: 'debug', image: `${SIDECAR}@${D2}` }] });
    const update = review('Pod', withDebug, { operation: 'UPDATE', subResource: 'ephemeralcontainers', oldObject: old });
    expect((await decide(parseReview(update), 'validate', c())).allowed).toBe(true);
    const byTag = pod([{ name: 'app', image: APP }], { ephemeralContainers: [{ name: 'debug', image: SIDECAR }] });
    const d = await decide(parseReview(review('Pod', byTag, { operation: 'UPDATE', subResource: 'ephemeralcontainers', oldObject: old })), 'validate', c());
    expect(d.message).toMatch(/^container "debug" image ".*": NOT_PINNED/);
  });

  it('reinvocation: /mutate re-pins what a later webhook stripped, and leaves its own pin alone', async () => {
    const pinned = pod([{ name: 'app', image: `${APP}@${D1}` }]);
    // The first pass leaves the pinned image as it is (it may add trustgate's verified-by
    // annotation); a reinvocation on what it produced changes nothing.
    const first = (await decide(parseReview(review('Pod', pinned)), 'mutate', c())).patch;
    expect(imageOf(pinned, first)).toBe(`${APP}@${D1}`);
    const after = applyPatch(pinned, first);
    expect((await decide(parseReview(review('Pod', after)), 'mutate', c())).patch).toEqual([]);
    const stripped = pod([{ name: 'app', image: APP }], {});
    expect(imageOf(stripped, (await decide(parseReview(review('Pod', stripped)), 'mutate', c())).patch)).toBe(`${APP}@${D1}`);
  });
});
