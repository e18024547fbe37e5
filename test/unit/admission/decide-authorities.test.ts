// A verify policy with several authorities (migration mode, docs/migration.md): every authority
// is evaluated, `require: any` passes on one, `all` on every one, those that pass must agree on
// the digest, and the decision records which kinds verified each image.
import { decide, parseReview, VERIFIED_BY_ANNOTATION, type DecisionContext, type ImageVerifier } from '../../../src/admission/index.js';
import { parsePolicy, PolicySet, type Policy } from '../../../src/policy/index.js';
import { TrustKind, type NotarySpec } from '../../../src/trust/index.js';
import { KindsVerifier } from '../../support/fake-verifier.js';
import { withAuthorities } from '../../support/policies.js';
import { applyPatch, review, workload } from '../../support/reviews.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const REG = 'registry.example.com';
const APP = `${REG}/team/app:1.0`;
const BOTH = [{ name: 'dct', kind: TrustKind.NOTARY }, { name: 'sig', kind: TrustKind.COSIGN }];

function ctx(policy: Policy, verifier: KindsVerifier, deadlineMs = 2000): DecisionContext {
  return { policies: new PolicySet([policy]), verifier, defaultAction: 'deny', mutateWorkloads: false, deadlineMs, credentialsFor: () => undefined };
}

const pod = (image = APP) => workload('Pod', 'web', { containers: [{ name: 'app', image }] });
const run = (c: DecisionContext, endpoint: 'mutate' | 'validate' = 'mutate', object = pod()) => decide(parseReview(review('Pod', object)), endpoint, c);

describe('require: any', () => {
  it('admits when one authority verifies, and records only that kind', async () => {
    const verifier = new KindsVerifier({ notary: {}, cosign: { [APP]: D1 } });
    const d = await run(ctx(withAuthorities('migrating', [`${REG}/**`], BOTH), verifier));
    expect(d).toMatchObject({ allowed: true, decision: 'allow', kinds: ['cosign'] });
    expect(d.containers[0]!.kinds).toEqual(['cosign']);
    expect((applyPatch(pod(), d.patch) as any).spec.containers[0].image).toBe(`${APP}@${D1}`);
  });

  it('evaluates every authority, and records both kinds when both verify', async () => {
    const verifier = new KindsVerifier({ notary: { [APP]: D1 }, cosign: { [APP]: D1 } });
    const d = await run(ctx(withAuthorities('migrating', [`${REG}/**`], BOTH), verifier));
    expect(d.kinds).toEqual(['notary', 'cosign']);
    expect(verifier.byKind.notary!.calls).toEqual([APP]);
    expect(verifier.byKind.cosign!.calls).toEqual([APP]);
    const patched = applyPatch(pod(), d.patch) as any;
    expect(patched.metadata.annotations[VERIFIED_BY_ANNOTATION]).toBe('notary,cosign');
  });

  it('denies when none verifies, listing each authority\'s reason', async () => {
    const verifier = new KindsVerifier({ notary: {}, cosign: {} });
    const d = await run(ctx(withAuthorities('migrating', [`${REG}/**`], BOTH), verifier));
    expect(d.allowed).toBe(false);
    expect(d.message).toContain('TAG_NOT_SIGNED: no authority verified it: authority "dct" (notary): TAG_NOT_SIGNED: tag "1.0" of registry.example.com/team/app is not signed; authority "sig" (cosign): TAG_NOT_SIGNED:');
    expect(d.message).toContain('required by ClusterImagePolicy "migrating"');
    expect(d.kinds).toEqual([]);
  });

  it('denies DIGEST_CONFLICT when the authorities that verify name different digests', async () => {
    const verifier = new KindsVerifier({ notary: { [APP]: D1 }, cosign: { [APP]: D2 } });
    const d = await run(ctx(withAuthorities('migrating', [`${REG}/**`], BOTH), verifier));
    expect(d.allowed).toBe(false);
    expect(d.reasons).toEqual(['DIGEST_CONFLICT']);
    expect(d.message).toContain(`DIGEST_CONFLICT: authority "dct" (notary) resolves ${APP} to ${D1}, authority "sig" (cosign) to ${D2}`);
    expect(d.patch).toEqual([]);
  });

  it('reports a conflict in warn mode without denying', async () => {
    const verifier = new KindsVerifier({ notary: { [APP]: D1 }, cosign: { [APP]: D2 } });
    const d = await run(ctx(withAuthorities('migrating', [`${REG}/**`], BOTH, { mode: 'warn' }), verifier));
    expect(d).toMatchObject({ allowed: true, decision: 'warn', patch: [] });
    expect(d.warnings[0]).toMatch(/would be denied: DIGEST_CONFLICT/);
  });
});

describe('require: all', () => {
  it('admits only when every authority verifies', async () => {
    const both = new KindsVerifier({ notary: { [APP]: D1 }, cosign: { [APP]: D1 } });
    expect(await run(ctx(withAuthorities('strict', [`${REG}/**`], BOTH, { require: 'all' }), both))).toMatchObject({ allowed: true, kinds: ['notary', 'cosign'] });
    const one = new KindsVerifier({ notary: { [APP]: D1 }, cosign: {} });
    const d = await run(ctx(withAuthorities('strict', [`${REG}/**`], BOTH, { require: 'all' }), one));
    expect(d.allowed).toBe(false);
    expect(d.message).toContain('TAG_NOT_SIGNED: every authority must verify it (require: all): authority "sig" (cosign): TAG_NOT_SIGNED');
    expect(d.message).not.toContain('authority "dct"');
  });

  it('a kind with no verifier fails its authority, closed', async () => {
    const verifier = new KindsVerifier({ notary: { [APP]: D1 } });
    const d = await run(ctx(withAuthorities('strict', [`${REG}/**`], BOTH, { require: 'all' }), verifier));
    expect(d.allowed).toBe(false);
    expect(d.message).toMatch(/INVALID_OPTION: every authority must verify it \(require: all\): authority "sig" \(cosign\): INVALID_OPTION: no verifier for trust kind "cosign"/);
  });
});

describe('every authority under the review deadline', () => {
  it('runs the authorities in parallel: two 150 ms verifications fit a 250 ms deadline', async () => {
    const verifier = new KindsVerifier({ notary: { [APP]: D1 }, cosign: { [APP]: D1 } }, { notary: 150, cosign: 150 });
    const d = await run(ctx(withAuthorities('strict', [`${REG}/**`], BOTH, { require: 'all' }), verifier, 250));
    expect(d).toMatchObject({ allowed: true, kinds: ['notary', 'cosign'] });
  });

  it('names the authority that did not finish; with any, one that did is enough', async () => {
    const slowCosign = () => new KindsVerifier({ notary: { [APP]: D1 }, cosign: { [APP]: D1 } }, { cosign: 1000 });
    const all = await run(ctx(withAuthorities('strict', [`${REG}/**`], BOTH, { require: 'all' }), slowCosign(), 50));
    expect(all.message).toMatch(/authority "sig" \(cosign\): TIMEOUT: verification of registry.example.com\/team\/app:1.0 did not finish within 50 ms/);
    const any = await run(ctx(withAuthorities('migrating', [`${REG}/**`], BOTH), slowCosign(), 50));
    expect(any).toMatchObject({ allowed: true, kinds: ['notary'] });
  });

  it('answers a review from the cache alone once every authority\'s answer is known', async () => {
    const verifier = new KindsVerifier({ notary: { [APP]: D1 }, cosign: { [APP]: D1 } });
    const c = ctx(withAuthorities('migrating', [`${REG}/**`], BOTH), verifier);
    await run(c);
    const second = await run(c);
    expect(second.kinds).toEqual(['notary', 'cosign']);
    // peek answered: no second verification of either kind.
    expect(verifier.byKind.notary!.calls).toHaveLength(1);
    expect(verifier.byKind.cosign!.calls).toHaveLength(1);
  });
});

describe('kinds recorded', () => {
  it('a v1alpha1 trust policy records notary, and annotates the pods it pins', async () => {
    const verifier = new KindsVerifier({ notary: { [APP]: D1 } });
    const d = await run(ctx(withAuthorities('dct', [`${REG}/**`], [BOTH[0]!]), verifier));
    expect(d.kinds).toEqual(['notary']);
    const op = d.patch.find((p) => p.path === `/metadata/annotations`);
    expect(op?.value).toMatchObject({ [VERIFIED_BY_ANNOTATION]: 'notary' });
  });

  it('escapes the annotation key when the pod has annotations already', async () => {
    const verifier = new KindsVerifier({ notary: { [APP]: D1 } });
    const object = workload('Pod', 'web', { containers: [{ name: 'app', image: APP }] }, { annotations: { keep: 'me' } });
    const d = await run(ctx(withAuthorities('dct', [`${REG}/**`], [BOTH[0]!]), verifier), 'mutate', object);
    expect(d.patch.map((p) => p.path)).toContain('/metadata/annotations/trustgate.dev~1verified-by');
    expect((applyPatch(object, d.patch) as any).metadata.annotations).toMatchObject({ keep: 'me', [VERIFIED_BY_ANNOTATION]: 'notary' });
  });

  it('an image arriving pinned is labelled too; /validate never patches', async () => {
    const verifier = new KindsVerifier({ notary: { [APP]: D1 } });
    const c = ctx(withAuthorities('dct', [`${REG}/**`], [BOTH[0]!]), verifier);
    const object = pod(`${APP}@${D1}`);
    const d = await run(c, 'mutate', object);
    expect(d.patch.filter((p) => p.path.includes('/containers/'))).toEqual([]);
    expect((applyPatch(object, d.patch) as any).metadata.annotations[VERIFIED_BY_ANNOTATION]).toBe('notary');
    expect((await run(c, 'validate', pod(`${APP}@${D1}`))).patch).toEqual([]);
    expect((await run(c, 'validate', pod(`${APP}@${D1}`))).kinds).toEqual(['notary']);
  });
});

describe('credentials per authority (docs/adr/0005)', () => {
  it('an ImagePolicy authority with its own server gets only the namespace\'s credentials; the others the cluster\'s too', async () => {
    const tenant = parsePolicy({
      apiVersion: 'trustgate.dev/v1alpha1', kind: 'ImagePolicy', metadata: { name: 't', namespace: 'team-a' },
      spec: { images: ['**'], authorities: [{ name: 'cluster-server', notary: { trustOnFirstUse: true } }, { name: 'own', notary: { server: 'https://notary.evil.test', trustOnFirstUse: true } }] },
    }, 'test');
    const scripted = new KindsVerifier({ notary: { [APP]: D1 } });
    const given = new Set<string>();
    const recording: ImageVerifier = {
      verify: (ref, spec, credentials, namespace, signal) => {
        given.add(`${(spec as NotarySpec).server ?? 'default'}=${credentials?.username ?? 'none'}`);
        return scripted.verify(ref, spec, credentials, namespace, signal);
      },
      peek: (ref, spec) => scripted.peek(ref, spec),
    };
    const cluster = withAuthorities('dct', [`${REG}/**`], [BOTH[0]!]);
    const c: DecisionContext = { ...ctx(cluster, scripted), verifier: recording, policies: new PolicySet([cluster, tenant]), credentialsFor: (_ref, scope) => ({ username: scope, password: 'x' }) };
    expect((await run(c)).allowed).toBe(true);
    expect([...given].sort()).toEqual(['default=cluster', 'https://notary.evil.test=namespace']);
  });
});
