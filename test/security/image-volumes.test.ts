// Image volumes (core/v1 `volumes[].image.reference`, GA and locked on in Kubernetes 1.37) are
// pulled by the kubelet exactly like a container image and their files run inside the pod: a
// signed container beside an unsigned image volume would run unsigned code. Each reviewed kind
// must verify and pin them like containers. Cluster-level: test/security/podspec-cluster.test.ts.
import { decide, parseReview, ORIGINAL_IMAGES_ANNOTATION, type DecisionContext } from '../../src/admission/index.js';
import { PolicySet } from '../../src/policy/index.js';
import { ScriptedVerifier } from '../support/fake-verifier.js';
import { policy, TOFU } from '../support/policies.js';
import { applyPatch, review, workload } from '../support/reviews.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const REG = 'registry.example.com';
const SIGNED = `${REG}/team/app:1.0`;
const SIGNED_DATA = `${REG}/team/data:2`;
const UNSIGNED = `${REG}/team/payload:1`;
const KINDS = ['Pod', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicationController'];

function ctx(over: Partial<DecisionContext> = {}): DecisionContext {
  return {
    policies: new PolicySet([policy('signed', [`${REG}/**`], TOFU)]),
    verifier: new ScriptedVerifier({ [SIGNED]: D1, [SIGNED_DATA]: D2 }),
    defaultAction: 'deny',
    mutateWorkloads: true,
    deadlineMs: 2000,
    credentialsFor: () => undefined,
    ...over,
  };
}

const imageVolume = (name: string, reference: string | undefined) => ({ name, image: { ...(reference !== undefined && { reference }), pullPolicy: 'IfNotPresent' } });

function withVolume(kind: string, reference: string | undefined, extra: Record<string, unknown>[] = []) {
  return workload(kind, 'web', {
    containers: [{ name: 'app', image: `${SIGNED}@${D1}` }],
    volumes: [{ name: 'scratch', emptyDir: {} }, ...extra, imageVolume('plugins', reference)],
  });
}

const decideOn = (body: Record<string, unknown>, endpoint: 'mutate' | 'validate' = 'mutate', c = ctx()) => decide(parseReview(body), endpoint, c);

describe('image volumes', () => {
  it.each(KINDS)('an unsigned image volume beside a signed container is denied in a %s, naming the volume', async (kind) => {
    for (const endpoint of ['mutate', 'validate'] as const) {
      const d = await decideOn(review(kind, withVolume(kind, UNSIGNED)), endpoint);
      expect(d.allowed).toBe(false);
      expect(d.message).toBe(
        `volume "plugins" image "${UNSIGNED}": TAG_NOT_SIGNED: tag "1" of ${REG}/team/payload is not signed; required by ClusterImagePolicy "signed"; fix: sign this tag (docker trust sign IMAGE:TAG) or deploy a signed tag`,
      );
    }
  });

  it.each(KINDS)('a signed image volume in a %s is pinned to its signed digest (mutateWorkloads), the original recorded', async (kind) => {
    const object = withVolume(kind, SIGNED_DATA);
    const d = await decideOn(review(kind, object));
    expect(d).toMatchObject({ allowed: true, decision: 'allow' });
    const patched = applyPatch(object, d.patch);
    const json = JSON.stringify(patched);
    expect(json).toContain(`"image":{"reference":"${SIGNED_DATA}@${D2}","pullPolicy":"IfNotPresent"}`);
    const annotations = (patched.metadata as { annotations: Record<string, string> }).annotations;
    expect(JSON.parse(annotations[ORIGINAL_IMAGES_ANNOTATION]!)).toEqual({ 'volume:plugins': SIGNED_DATA });
  });

  it('a pod\'s image volume is denied by the default action, by a deny policy and for an invalid reference', async () => {
    const other = 'other.example/x/tool:1';
    expect((await decideOn(review('Pod', withVolume('Pod', other)))).message).toMatch(/^volume "plugins" image "other.example\/x\/tool:1": NO_POLICY/);
    const denyPolicy = ctx({ policies: new PolicySet([policy('signed', [`${REG}/**`], TOFU), policy('no-payload', [`${REG}/team/payload`], { action: 'deny' })]) });
    expect((await decideOn(review('Pod', withVolume('Pod', UNSIGNED)), 'mutate', denyPolicy)).reasons).toContain('POLICY_DENIED');
    expect((await decideOn(review('Pod', withVolume('Pod', `${REG}/Team/Payload:1`)))).message).toMatch(/^volume "plugins" image ".*": INVALID_REFERENCE/);
  });

  it('a warn-mode policy warns naming the volume', async () => {
    const d = await decideOn(review('Pod', withVolume('Pod', UNSIGNED)), 'mutate', ctx({ policies: new PolicySet([policy('p', ['**'], { mode: 'warn', ...TOFU })]) }));
    expect(d.allowed).toBe(true);
    expect(d.warnings.join('\n')).toMatch(/trustgate: volume "plugins" image ".*payload:1" would be denied: TAG_NOT_SIGNED/);
  });

  it('a pod\'s image volume without a reference, or with a reference that is not a string, is refused', async () => {
    expect((await decideOn(review('Pod', withVolume('Pod', undefined)))).message).toMatch(/\/spec\/volumes\/1\/image\/reference is missing/);
    const bad = workload('Pod', 'web', { containers: [{ name: 'app', image: SIGNED }], volumes: [{ name: 'v', image: { reference: 7 } }] });
    expect(await decideOn(review('Pod', bad))).toMatchObject({ allowed: false, reasons: ['MALFORMED_OBJECT'] });
    const notAList = workload('Pod', 'web', { containers: [{ name: 'app', image: SIGNED }] });
    (notAList.spec as Record<string, unknown>).volumes = { plugins: { image: { reference: UNSIGNED } } };
    expect(await decideOn(review('Pod', notAList))).toMatchObject({ allowed: false, reasons: ['MALFORMED_OBJECT'] });
  });

  it('a template may leave the reference for later (as the API allows); the pod made from it is checked', async () => {
    const d = await decideOn(review('Deployment', withVolume('Deployment', undefined)));
    expect(d).toMatchObject({ allowed: true });
  });

  it('an UPDATE that changes only an image volume is reviewed', async () => {
    const before = withVolume('Deployment', SIGNED_DATA);
    const after = withVolume('Deployment', UNSIGNED);
    const d = await decideOn(review('Deployment', after, { operation: 'UPDATE', oldObject: before }), 'validate');
    expect(d.allowed).toBe(false);
    expect(d.message).toMatch(/volume "plugins"/);
  });

  it('volume and container names never collide in the original-images annotation', async () => {
    const object = workload('Pod', 'web', { containers: [{ name: 'plugins', image: SIGNED }], volumes: [imageVolume('plugins', SIGNED_DATA)] });
    const patched = applyPatch(object, (await decideOn(review('Pod', object))).patch);
    const annotations = (patched.metadata as { annotations: Record<string, string> }).annotations;
    expect(JSON.parse(annotations[ORIGINAL_IMAGES_ANNOTATION]!)).toEqual({ plugins: SIGNED, 'volume:plugins': SIGNED_DATA });
  });
});
