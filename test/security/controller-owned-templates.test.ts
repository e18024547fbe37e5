// Bypass class: ownerReferences and mutateWorkloads. /mutate leaves the template of an object a
// controller owns as written (a Deployment's ReplicaSet must keep matching its owner), so a
// tenant may claim a controller to keep a tag in a template. The claim must buy no review less:
// every image is still verified on both endpoints, and the pods made from it are pinned.
import { decide, parseReview, type DecisionContext } from '../../src/admission/index.js';
import { PolicySet } from '../../src/policy/index.js';
import { ScriptedVerifier } from '../support/fake-verifier.js';
import { policy, TOFU } from '../support/policies.js';
import { applyPatch, review, workload } from '../support/reviews.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const REG = 'registry.example.com';
const CLAIMED = { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'someone-else', uid: 'u', controller: true }] };

const ctx = (): DecisionContext => ({
  policies: new PolicySet([policy('signed', [`${REG}/**`], TOFU)]),
  verifier: new ScriptedVerifier({ [`${REG}/team/app:1.0`]: D1 }),
  defaultAction: 'deny',
  mutateWorkloads: true,
  deadlineMs: 2000,
  credentialsFor: () => undefined,
});

it.each(['ReplicaSet', 'Deployment', 'Job', 'StatefulSet'])('a %s claiming a controller still has an unsigned image denied, on create and update, on both endpoints', async (kind) => {
  const signed = workload(kind, 'x', { containers: [{ name: 'app', image: `${REG}/team/app:1.0` }] }, CLAIMED);
  const unsigned = workload(kind, 'x', { containers: [{ name: 'app', image: `${REG}/team/app:1.0` }], initContainers: [{ name: 'init', image: `${REG}/team/payload:1` }] }, CLAIMED);
  for (const body of [review(kind, unsigned), review(kind, unsigned, { operation: 'UPDATE', oldObject: signed })]) {
    for (const endpoint of ['mutate', 'validate'] as const) {
      const d = await decide(parseReview(body), endpoint, ctx());
      expect([kind, endpoint, d.allowed, d.reasons]).toEqual([kind, endpoint, false, ['TAG_NOT_SIGNED']]);
    }
  }
});

it('a pod claiming a controller is pinned all the same', async () => {
  const pod = workload('Pod', 'x', { containers: [{ name: 'app', image: `${REG}/team/app:1.0` }] }, { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u', controller: true }] });
  const d = await decide(parseReview(review('Pod', pod)), 'mutate', ctx());
  expect((applyPatch(pod, d.patch) as { spec: { containers: { image: string }[] } }).spec.containers[0]!.image).toBe(`${REG}/team/app:1.0@${D1}`);
});
