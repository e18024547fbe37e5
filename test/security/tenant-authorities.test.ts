// Bypass and exhaustion through `spec.authorities` and `spec.require` (docs/policy.md
// "Authorities"). A tenant may list authorities it controls — a cosign key it holds signs whatever
// it likes — and say `require: any`; the cluster's requirement must still apply: each policy is
// a requirement of its own, AND across policies, and `any` chooses only among one policy's
// authorities. Verification of the cluster's policy is real (TrustClient + CachingVerifier over
// a signed repository served from memory); the tenant's second kind is the fake kind of
// test/support/fake-verifier.ts, registered beside Notary as cosign will be.
import { CachingVerifier, decide, parseReview, type Decision, type DecisionContext } from '../../src/admission/index.js';
import { parsePolicy, PolicyError, PolicySet, POLICY_LIMITS, rawKeyCount, refusedStandIn, supportedKinds, type Policy } from '../../src/policy/index.js';
import { NotaryVerifier, TrustClient, TrustKind, type KindVerifier } from '../../src/trust/index.js';
import { SPEC_SCHEMA } from '../../scripts/generate-crds.js';
import { FakeKindVerifier } from '../support/fake-verifier.js';
import { policy, withAuthorities } from '../support/policies.js';
import { RecordedFetcher } from '../support/recorded-fetcher.js';
import { buildRepository, digestOf, standardKeys, standardSpec } from '../support/repo-builder.js';
import { applyPatch, review, workload, type PodSpecLike } from '../support/reviews.js';

const GUN = 'registry.example.com/team/app';
const keys = standardKeys(GUN);
const SIGNED_DIGEST = digestOf('signed 1.0');
const UNSIGNED_DIGEST = digestOf('never signed');
const files = buildRepository(standardSpec(GUN, keys, { '1.0': SIGNED_DIGEST })).files;
const CLUSTER = policy('internal', ['registry.example.com/**'], { trust: { rootKeys: [keys.root.id] } });

/** The tenant's own cosign key signs every tag it is asked about, at the digest the tenant wants. */
function tenantKind(digest: string): FakeKindVerifier {
  return new FakeKindVerifier({ [`${GUN}:latest`]: digest, [`${GUN}:1.0`]: digest, [`${GUN}:2.0`]: digest });
}

function context(tenant: Policy[], tenantDigest = UNSIGNED_DIGEST): DecisionContext {
  const client = new TrustClient({ fetcher: (_server, gun) => new RecordedFetcher(gun === GUN ? files : new Map()) });
  const observer = { hit: () => undefined, miss: () => undefined, evicted: () => undefined, size: () => undefined, verified: () => undefined };
  const kinds = [new NotaryVerifier(client), tenantKind(tenantDigest)] as KindVerifier<never>[];
  const verifier = new CachingVerifier(kinds, { maxEntries: 100, maxBytes: 1 << 20, maxTtlMs: 60_000, negativeTtlMs: 60_000, timeoutMs: 5000, servers: {}, now: Date.now }, observer);
  return { policies: new PolicySet([CLUSTER, ...tenant]), verifier, defaultAction: 'deny', mutateWorkloads: false, deadlineMs: 5000, credentialsFor: () => undefined };
}

async function pod(image: string, ctx: DecisionContext): Promise<{ decision: Decision; stored: string | undefined }> {
  const body = review('Pod', workload('Pod', 'web', { containers: [{ name: 'app', image }] }));
  const decision = await decide(parseReview(body), 'mutate', ctx);
  const object = (body.request as { object: { spec: PodSpecLike } }).object;
  return { decision, stored: decision.allowed ? applyPatch(object, decision.patch).spec.containers[0]!.image : undefined };
}

const TENANT_OWNS = [{ name: 'mine', kind: TrustKind.COSIGN }];
const RELAXING: [string, Policy[]][] = [
  ['require: any over an authority it controls', [withAuthorities('any', ['**'], [{ name: 'dct', kind: TrustKind.NOTARY }, ...TENANT_OWNS], { namespace: 'team-a' })]],
  ['only an authority it controls, on the exact image', [withAuthorities('0-mine', [GUN], TENANT_OWNS, { namespace: 'team-a' })]],
  ['an authority it controls, mutate: false', [withAuthorities('no-pin', ['**'], TENANT_OWNS, { namespace: 'team-a', mutate: false })]],
  ['an authority it controls, mode: audit', [withAuthorities('audit', ['**'], TENANT_OWNS, { namespace: 'team-a', mode: 'audit' })]],
];

describe.each(RELAXING)('a tenant ImagePolicy with %s', (_what, tenant) => {
  it.each([`${GUN}:latest`, `${GUN}:2.0`, `${GUN}@${UNSIGNED_DIGEST}`])('does not admit the unsigned %s', async (image) => {
    const { decision } = await pod(image, context(tenant));
    expect(decision.allowed).toBe(false);
    expect(decision.message).toContain('required by ClusterImagePolicy "internal"');
  });

  it('admits the signed tag only pinned to the digest the cluster verified', async () => {
    const { decision, stored } = await pod(`${GUN}:1.0`, context(tenant, SIGNED_DIGEST));
    expect(decision.allowed).toBe(true);
    expect(stored).toBe(`${GUN}:1.0@${SIGNED_DIGEST}`);
  });
});

it('a tenant authority naming another digest for a signed tag is a conflict, never a pin to its digest', async () => {
  const tenant = [withAuthorities('any', ['**'], TENANT_OWNS, { namespace: 'team-a' })];
  const { decision } = await pod(`${GUN}:1.0`, context(tenant, UNSIGNED_DIGEST));
  expect(decision.allowed).toBe(false);
  expect(decision.reasons).toContain('DIGEST_CONFLICT');
});

describe('authorities a policy may not have', () => {
  const KEY = 'a'.repeat(64);
  const tenantDoc = (spec: Record<string, unknown>) => ({ apiVersion: 'trustgate.dev/v1alpha1', kind: 'ImagePolicy', metadata: { name: 'p', namespace: 'team-a' }, spec: { images: ['**'], ...spec } });

  it('refuses a list past the bound before reading any entry, and the CRD refuses it first', () => {
    const many = Array.from({ length: 10_000 }, () => ({ notary: { rootKeys: [KEY] } }));
    const started = performance.now();
    expect(() => parsePolicy(tenantDoc({ authorities: many }), 'x')).toThrow(/spec.authorities: more than 8 authorities/);
    expect(performance.now() - started).toBeLessThan(200);
    expect(SPEC_SCHEMA.properties.authorities.maxItems).toBe(POLICY_LIMITS.authorities);
    // The namespace budget counts keys without parsing, and no further than the bound.
    expect(rawKeyCount({ authorities: many })).toBe(POLICY_LIMITS.authorities + 1);
  });

  it('counts every authority\'s keys against the namespace budget', () => {
    const pins = Array(16).fill(KEY);
    const spec = { authorities: Array.from({ length: 8 }, () => ({ notary: { rootKeys: pins, signers: Array.from({ length: 8 }, () => ({ role: 'targets/releases', keys: Array(8).fill(KEY) })) } })) };
    expect(rawKeyCount(spec)).toBe(8 * (16 + 64));
  });

  it('refuses trust together with authorities: a reader must not pick one and ignore the other', () => {
    expect(() => parsePolicy(tenantDoc({ trust: { rootKeys: [KEY] }, authorities: [{ notary: { trustOnFirstUse: true } }] }), 'x')).toThrow(/give either trust .* or authorities, not both/);
  });

  it('refuses an unknown kind with the kinds it supports, and a refused cluster policy denies what it covers', async () => {
    const problem = (() => {
      try {
        parsePolicy({ ...tenantDoc({ authorities: [{ pgp: { key: KEY } }] }), kind: 'ClusterImagePolicy', metadata: { name: 'p' } }, 'x');
      } catch (error) {
        return (error as PolicyError).problems.join('; ');
      }
      throw new Error('accepted');
    })();
    expect(problem).toBe(`spec.authorities[0].pgp: unknown authority kind: expected one of ${supportedKinds().join(', ')}`);
    const standIn = refusedStandIn({ kind: 'ClusterImagePolicy', name: 'p', namespace: undefined, spec: { images: [`${GUN}`], authorities: [{ pgp: { key: KEY } }] } }, problem, 'ClusterImagePolicy/p');
    const ctx = context([]);
    const { decision } = await pod(`${GUN}:1.0`, { ...ctx, policies: new PolicySet([CLUSTER, standIn]) });
    expect(decision.allowed).toBe(false);
    expect(decision.message).toContain('POLICY_REFUSED: the policy covering registry.example.com/team/app was refused (spec.authorities[0].pgp: unknown authority kind');
  });
});
