// DEFENCE: /mutate writes `trustgate.dev/verified-by` on every object it reviews from the kinds
// that verified EVERY image, pinned now or arriving pinned, and replaces or removes the value
// the object arrived with (src/admission/decide.ts verifiedByLabel). The attack it closes:
// `trustgate.dev/verified-by` is what docs/migration.md step 3 tells
// operators to query to find the pods that rest on Docker Content Trust alone before the Notary
// authority is dropped. It is written only from the images /mutate PINS in this review:
// - an image that arrives already pinned (`name:tag@sha256:…`, as GitOps tools write it) is
//   verified but never counted, so a pod author's own `verified-by: cosign` stays as written;
// - a pod with one image pinned now (cosign) and one arriving pinned (Notary only) is labelled
//   `cosign`, hiding the DCT-only image.
import { decide, parseReview, type DecisionContext } from '../../src/admission/index.js';
import { PolicySet } from '../../src/policy/index.js';
import { TrustKind } from '../../src/trust/index.js';
import { KindsVerifier } from '../support/fake-verifier.js';
import { withAuthorities } from '../support/policies.js';
import { applyPatch, review, workload } from '../support/reviews.js';

const DCT_ONLY = 'registry.example.com/team/legacy';
const BOTH = 'registry.example.com/team/app';
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

function context(): DecisionContext {
  const cluster = withAuthorities('migrating', ['registry.example.com/**'], [{ name: 'dct', kind: TrustKind.NOTARY }, { name: 'sig', kind: TrustKind.COSIGN }]);
  const verifier = new KindsVerifier({
    [TrustKind.NOTARY]: { [`${DCT_ONLY}:1.0`]: D1, [`${BOTH}:2.0`]: D2 },
    [TrustKind.COSIGN]: { [`${BOTH}:2.0`]: D2 },
  });
  return { policies: new PolicySet([cluster]), verifier, defaultAction: 'deny', mutateWorkloads: false, deadlineMs: 5000, credentialsFor: () => undefined };
}

async function admitted(containers: { name: string; image: string }[], annotations?: Record<string, string>): Promise<Record<string, string> | undefined> {
  const object = workload('Pod', 'web', { containers }, annotations ? { annotations } : {});
  const decision = await decide(parseReview(review('Pod', object)), 'mutate', context());
  expect(decision.allowed).toBe(true);
  return (applyPatch(object, decision.patch) as { metadata: { annotations?: Record<string, string> } }).metadata.annotations;
}

it('a pod whose only image is DCT-only and arrives pinned cannot claim verified-by: cosign', async () => {
  const annotations = await admitted([{ name: 'legacy', image: `${DCT_ONLY}:1.0@${D1}` }], { 'trustgate.dev/verified-by': 'cosign' });
  expect(annotations?.['trustgate.dev/verified-by']).toBe('notary');
});

it('a pod with a DCT-only image (arriving pinned) beside a cosign-verified one is not labelled cosign only', async () => {
  const annotations = await admitted([
    { name: 'app', image: `${BOTH}:2.0` },
    { name: 'legacy', image: `${DCT_ONLY}:1.0@${D1}` },
  ]);
  // The migration query (== "notary") must not lose this pod: it runs an image only DCT verified.
  expect(annotations?.['trustgate.dev/verified-by']).not.toBe('cosign');
  expect(annotations?.['trustgate.dev/verified-by']).not.toBe('notary,cosign');
});

it("a pod whose images no kind verified loses the author's verified-by value", async () => {
  const object = workload('Pod', 'web', { containers: [{ name: 'x', image: 'elsewhere.example/x:1' }] }, { annotations: { 'trustgate.dev/verified-by': 'cosign', keep: 'me' } });
  const ctx = { ...context(), defaultAction: 'allow' as const };
  const decision = await decide(parseReview(review('Pod', object)), 'mutate', ctx);
  expect(decision.allowed).toBe(true);
  const annotations = (applyPatch(object, decision.patch) as { metadata: { annotations: Record<string, string> } }).metadata.annotations;
  expect(annotations).toEqual({ keep: 'me' });
});

it('a pod already labelled as verified gets no patch (the cached path stays patch-free)', async () => {
  const object = workload('Pod', 'web', { containers: [{ name: 'app', image: `${BOTH}:2.0@${D2}` }] }, { annotations: { 'trustgate.dev/verified-by': 'notary,cosign' } });
  const decision = await decide(parseReview(review('Pod', object)), 'mutate', context());
  expect(decision.patch).toEqual([]);
});
