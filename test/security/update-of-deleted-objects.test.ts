// UPDATE paths: an UPDATE that changes no image is skipped (its images were checked when they
// were set), but nothing else earns a skip — an object carrying a deletionTimestamp (held by a
// finalizer, it lives on) can still have its images changed, and that change is reviewed.
// Stripping a pinned digest by UPDATE: test/security/pin-not-cancelled.test.ts.
import { decide, parseReview, type DecisionContext } from '../../src/admission/index.js';
import { PolicySet } from '../../src/policy/index.js';
import { ScriptedVerifier } from '../support/fake-verifier.js';
import { policy, TOFU } from '../support/policies.js';
import { review, workload } from '../support/reviews.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const REG = 'registry.example.com';
const SIGNED = `${REG}/team/app:1.0@${D1}`;
const UNSIGNED = `${REG}/team/payload:1`;
const DELETING = { deletionTimestamp: '2026-11-24T00:00:00Z', deletionGracePeriodSeconds: 0, finalizers: ['example.com/hold'] };

const ctx = (): DecisionContext => ({
  policies: new PolicySet([policy('signed', [`${REG}/**`], TOFU)]),
  verifier: new ScriptedVerifier({ [`${REG}/team/app:1.0`]: D1 }),
  defaultAction: 'deny',
  mutateWorkloads: false,
  deadlineMs: 2000,
  credentialsFor: () => undefined,
});

describe('an UPDATE of an object being deleted', () => {
  it.each(['Pod', 'Deployment', 'CronJob'])('that swaps in an unsigned image is denied (%s), on both endpoints', async (kind) => {
    const before = workload(kind, 'web', { containers: [{ name: 'app', image: SIGNED }] }, DELETING);
    const after = workload(kind, 'web', { containers: [{ name: 'app', image: UNSIGNED }] }, DELETING);
    for (const endpoint of ['mutate', 'validate'] as const) {
      const d = await decide(parseReview(review(kind, after, { operation: 'UPDATE', oldObject: before })), endpoint, ctx());
      expect([endpoint, d.allowed]).toEqual([endpoint, false]);
      expect(d.message).toMatch(/^container "app" image ".*payload:1": TAG_NOT_SIGNED/);
    }
  });

  it('that swaps in an unsigned image volume is denied', async () => {
    const before = workload('Pod', 'web', { containers: [{ name: 'app', image: SIGNED }] }, DELETING);
    const after = workload('Pod', 'web', { containers: [{ name: 'app', image: SIGNED }], volumes: [{ name: 'data', image: { reference: UNSIGNED } }] }, DELETING);
    const d = await decide(parseReview(review('Pod', after, { operation: 'UPDATE', oldObject: before })), 'validate', ctx());
    expect(d.message).toMatch(/^volume "data" image ".*payload:1": TAG_NOT_SIGNED/);
  });

  it('that only removes its finalizer is still never blocked, whatever its images', async () => {
    const before = workload('Pod', 'web', { containers: [{ name: 'app', image: UNSIGNED }] }, DELETING);
    const after = workload('Pod', 'web', { containers: [{ name: 'app', image: UNSIGNED }] }, { ...DELETING, finalizers: [] });
    for (const endpoint of ['mutate', 'validate'] as const) {
      expect(await decide(parseReview(review('Pod', after, { operation: 'UPDATE', oldObject: before })), endpoint, ctx())).toMatchObject({ allowed: true, decision: 'skip' });
    }
  });
});
