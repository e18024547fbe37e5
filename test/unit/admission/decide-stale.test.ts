// An admission that rests on an answer reused through an outage (src/admission/verification-cache.ts)
// says so: a kubectl warning naming the outage and the answer's limit, and a reason in the log.
import { decide, parseReview, STALE_ANSWER, type DecisionContext } from '../../../src/admission/index.js';
import { PolicySet } from '../../../src/policy/index.js';
import type { ImageReference } from '../../../src/reference/index.js';
import { TrustError, type Verified } from '../../../src/trust/index.js';
import { ScriptedVerifier } from '../../support/fake-verifier.js';
import { policy, TOFU } from '../../support/policies.js';
import { review, workload } from '../../support/reviews.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const REG = 'registry.example.com';
const UNTIL = Date.UTC(2030, 0, 2, 3, 4, 5);

/** Answers `stale:` images as the cache does in an outage: the last verified answer, marked stale. */
class OutageVerifier extends ScriptedVerifier {
  override async verify(ref: ImageReference, ...rest: Parameters<ScriptedVerifier['verify']> extends [unknown, ...infer R] ? R : never): Promise<Verified> {
    return this.mark(ref, await super.verify(ref, ...rest));
  }

  override peek(ref: ImageReference): Verified | TrustError | undefined {
    const answer = super.peek(ref);
    return answer === undefined || answer instanceof TrustError ? answer : this.mark(ref, answer);
  }

  private mark(ref: ImageReference, v: Verified): Verified {
    return ref.name.endsWith('/old') ? { ...v, stale: { code: 'UNREACHABLE', until: UNTIL } } : v;
  }
}

function ctx(): DecisionContext {
  return {
    policies: new PolicySet([policy('signed', [`${REG}/**`], TOFU)]),
    defaultAction: 'deny',
    mutateWorkloads: false,
    deadlineMs: 2000,
    credentialsFor: () => undefined,
    verifier: new OutageVerifier({ [`${REG}/team/old:1`]: D1, [`${REG}/team/new:1`]: D1 }),
  };
}

const pod = (...images: string[]) => workload('Pod', 'web', { containers: images.map((image, i) => ({ name: `c${i}`, image })) });

describe('admissions on stale answers', () => {
  it('admit and pin, with a kubectl warning naming the outage and until when, and a reason in the log', async () => {
    const c = ctx();
    for (const pass of [1, 2]) {
      // The second pass is answered from peek (the warm path): the same warning.
      const d = await decide(parseReview(review('Pod', pod(`${REG}/team/old:1`, `${REG}/team/new:1`))), 'mutate', c);
      expect({ pass, allowed: d.allowed, decision: d.decision }).toEqual({ pass, allowed: true, decision: 'allow' });
      expect(d.warnings).toEqual([`trustgate: container "c0" image "${REG}/team/old:1" admitted on its last verified answer: its trust server or registry could not be asked (UNREACHABLE); that answer stands until 2030-01-02T03:04:05.000Z`]);
      expect(d.reasons).toEqual([STALE_ANSWER]);
      expect(d.patch.some((p) => p.value === `${REG}/team/old:1@${D1}`)).toBe(true);
    }
  });

  it('have no warning when every answer is fresh', async () => {
    const d = await decide(parseReview(review('Pod', pod(`${REG}/team/new:1`))), 'mutate', ctx());
    expect(d.warnings).toEqual([]);
    expect(d.reasons).toEqual([]);
  });
});
