// A tenant's mutating ImagePolicy pointing at a Notary server the tenant runs, in a cluster
// whose ClusterImagePolicy verifies with `mutate: false` (found by an independent attacker).
//
// The cluster's `mutate: false` verification used to count for nothing in combine()
// (src/admission/decide.ts), so /mutate pinned the pod to whatever digest the TENANT's server
// signed for the tag (D9), which the publisher never signed; only /validate then refused it.
// Every verification now counts for agreement: /mutate itself refuses (DIGEST_CONFLICT), and the
// pod can never run D9 — asserted end to end (mutate, apply the patch, validate).
import { decide, parseReview, type DecisionContext, type ImageVerifier } from '../../src/admission/index.js';
import { PolicySet, type Policy, type TrustSpec } from '../../src/policy/index.js';
import type { ImageReference } from '../../src/reference/index.js';
import { ScriptedVerifier } from '../support/fake-verifier.js';
import { policy } from '../support/policies.js';
import { applyPatch, review, workload } from '../support/reviews.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D9 = `sha256:${'9'.repeat(64)}`;
const REG = 'registry.example.com';
const APP = `${REG}/team/app:1.0`;

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

it.each([true, false])('cluster mutate:false, tenant ImagePolicy on its own server (allowUnsignedDigests %s): /mutate refuses the tenant-signed digest', async (allowUnsignedDigests) => {
  const cluster = policy('signed', [`${REG}/**`], { mutate: false, trust: { allowUnsignedDigests, trustOnFirstUse: true } });
  const tenant = policy('own-notary', [`${REG}/team/**`], { trust: { server: 'https://notary.tenant.example', trustOnFirstUse: true } }, 'team-a');
  const ctx: DecisionContext = {
    policies: new PolicySet([cluster, tenant]),
    verifier: new PerPolicyVerifier([[cluster, { [APP]: D1 }], [tenant, { [APP]: D9 }]]),
    defaultAction: 'deny',
    mutateWorkloads: false,
    deadlineMs: 2000,
    credentialsFor: () => undefined,
  };
  const object = workload('Pod', 'web', { containers: [{ name: 'app', image: APP }] });
  const mutated = await decide(parseReview(review('Pod', object)), 'mutate', ctx);
  const pinned = mutated.patch.length > 0 ? applyPatch(object, mutated.patch) : object;
  const image = (pinned as { spec: { containers: { image: string }[] } }).spec.containers[0]!.image;
  const validated = await decide(parseReview(review('Pod', pinned)), 'validate', ctx);
  const runs = mutated.allowed && validated.allowed ? image : undefined;
  expect(runs).not.toBe(`${APP}@${D9}`);
  expect(image).not.toContain(D9); // not even pinned by /mutate
  expect(mutated.allowed).toBe(false);
  expect(mutated.reasons).toContain('DIGEST_CONFLICT');
});
