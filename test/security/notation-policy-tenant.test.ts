// BYPASS: a tenant relaxing the cluster through a Notation authority of its own ImagePolicy —
// level skip, audit, or an override that only logs authenticity — and identity injection in
// trustedIdentities. The tenant's policies are parsed for real (parsePolicy, the Notation
// parser) and its Notation authority is answered by the real NotationVerifier over a registry
// (MemoryRegistry) that serves, for every image, a real JWS signature by a signer the tenant's
// trust store does not vouch for (test/support/notation-pki.ts); the cluster's requirement is a
// scripted Notary verifier. What must hold whatever the Notation verifier answers: each policy is
// a requirement of its own, so an unchecked (or any) answer of the tenant's never admits what the
// cluster refuses, nor undoes the cluster's pin. The premise is checked too: each relaxing
// authority alone gets an unchecked answer (admitted, not trusted), not a refusal.
import { decide, parseReview, type DecisionContext, type ImageVerifier } from '../../src/admission/index.js';
import { PolicyError, PolicySet, refusedStandIn, type Policy } from '../../src/policy/index.js';
import { parseReference, type ImageReference } from '../../src/reference/index.js';
import { TrustKind, type AuthoritySpec, type Verified } from '../../src/trust/index.js';
import type { NotationSpec } from '../../src/trust/notation/index.js';
import { NotationVerifier } from '../../src/trust/notation/verifier.js';
import { readFileSync } from 'node:fs';
import { ScriptedVerifier } from '../support/fake-verifier.js';
import { MemoryRegistry } from '../support/memory-registry.js';
import { makeJws, makePki, pushImage, pushSignature } from '../support/notation-pki.js';
import { policy, TOFU } from '../support/policies.js';
import { applyPatch, review, workload, type PodSpecLike } from '../support/reviews.js';

const REPO = 'registry.example.com/team/app';
const ROOT = readFileSync('test/fixtures/notation/policy/certs/ca_valid-trust-store_NotationTestRoot.pem', 'utf8');
const ID = 'x509.subject: C=US, ST=WA, O=Notary';

/**
 * One registry (MemoryRegistry keys by repository, whatever the host): team/app:1.0 (the digest
 * the cluster's Notary data signs), team/app:2.0 (the tenant's own), x/y:1.0 (no cluster policy
 * names it); each with a signature by Acme's signer, whom the tenant's store (Notary's test root)
 * does not vouch for.
 */
const REGISTRY = new MemoryRegistry();
const ACME = makePki();
function served(repository: string, tag: string, seed: string): string {
  const target = pushImage(REGISTRY, repository, tag, seed);
  pushSignature(REGISTRY, repository, target, makeJws({ target, chain: [ACME.leaf.der, ACME.intermediate.der, ACME.root.der], key: ACME.leafKey }));
  return target.digest;
}
const SIGNED = served('team/app', '1.0', 'signed');
const TENANT_DIGEST = served('team/app', '2.0', 'tenant');
served('x/y', '1.0', 'elsewhere');

/** The real Notation verifier for Notation authorities, the scripted Notary one for the rest. */
class ByKind implements ImageVerifier {
  private readonly notation = new NotationVerifier(REGISTRY);
  constructor(private readonly notary: ScriptedVerifier) {}
  verify(ref: ImageReference, spec: AuthoritySpec, credentials: undefined, namespace?: string, signal?: AbortSignal): Promise<Verified> {
    if (spec.kind !== TrustKind.NOTATION) return this.notary.verify(ref, spec, credentials, namespace, signal);
    return this.notation.verify(ref, spec as NotationSpec, { credentials: undefined, signal: signal ?? new AbortController().signal, timeoutMs: 2000 });
  }
  peek(ref: ImageReference, spec: AuthoritySpec) {
    return spec.kind === TrustKind.NOTATION ? undefined : this.notary.peek(ref);
  }
}

const strict = (name: string, scope: string) => ({ name, registryScopes: [scope], signatureVerification: { level: 'strict' }, trustStores: ['ca:acme'], trustedIdentities: [ID] });
const skip = (name: string, scope: string) => ({ name, registryScopes: [scope], signatureVerification: { level: 'skip' } });
function tenant(statements: unknown[], mode?: string): Policy {
  return policy('tenant', ['**'], {
    ...(mode && { mode }),
    authorities: [{ name: 'mine', notation: { trustPolicy: { version: '1.0', trustPolicies: statements }, trustStores: [{ name: 'ca:acme', certificates: ROOT }] } }],
  }, 'team-a');
}

const RELAXING: [string, () => Policy][] = [
  ['level skip for the image (beside a statement for another repository)', () => tenant([strict('other', 'registry.example.com/team/other'), skip('rest', '*')])],
  ['level skip on the exact repository', () => tenant([strict('other', '*'), skip('app', REPO)])],
  ['level audit (authenticity only logged)', () => tenant([{ ...strict('all', '*'), signatureVerification: { level: 'audit' } }])],
  ['strict with authenticity overridden to log', () => tenant([{ ...strict('all', '*'), signatureVerification: { level: 'strict', override: { authenticity: 'log', expiry: 'log', revocation: 'skip' } } }])],
  ['level skip, in an ImagePolicy of mode audit', () => tenant([strict('other', 'registry.example.com/team/other'), skip('rest', '*')], 'audit')],
];

function context(policies: Policy[]): DecisionContext {
  const notary = new ScriptedVerifier({ [`${REPO}:1.0`]: SIGNED });
  return { policies: new PolicySet(policies), verifier: new ByKind(notary), defaultAction: 'deny', mutateWorkloads: false, deadlineMs: 2000, credentialsFor: () => undefined };
}

async function pod(image: string, ctx: DecisionContext) {
  const body = review('Pod', workload('Pod', 'web', { containers: [{ name: 'app', image }] }), { namespace: 'team-a' });
  const decision = await decide(parseReview(body), 'mutate', ctx);
  const object = (body.request as { object: { spec: PodSpecLike } }).object;
  return { decision, stored: decision.allowed ? applyPatch(object, decision.patch).spec.containers[0]!.image : undefined };
}

const CLUSTER = () => policy('internal', ['registry.example.com/**'], TOFU);

describe.each(RELAXING)('a tenant ImagePolicy with a Notation authority of %s', (_what, make) => {
  it('is accepted, as notation accepts the trust policy', () => {
    expect(make().authorities[0]!.spec.kind).toBe(TrustKind.NOTATION);
  });

  it.each([`${REPO}:1.0`, `${REPO}:2.0`, `${REPO}@${TENANT_DIGEST}`])('is answered unchecked (admitted, not trusted) for %s by the real verifier, not refused', async (image) => {
    const spec = make().authorities[0]!.spec as NotationSpec;
    const v = await new NotationVerifier(REGISTRY).verify(parseReference(image), spec, { credentials: undefined, signal: new AbortController().signal, timeoutMs: 2000 });
    expect(v).toMatchObject({ kind: TrustKind.NOTATION, unchecked: true, digest: image.endsWith(':1.0') ? SIGNED : TENANT_DIGEST });
  });

  it.each([`${REPO}:2.0`, `${REPO}@${TENANT_DIGEST}`])('does not admit %s, which the cluster refuses', async (image) => {
    const { decision } = await pod(image, context([CLUSTER(), make()]));
    expect(decision.allowed).toBe(false);
    expect(decision.message).toContain('required by ClusterImagePolicy "internal"');
  });

  it('leaves the signed tag pinned to the digest the cluster verified', async () => {
    const { decision, stored } = await pod(`${REPO}:1.0`, context([CLUSTER(), make()]));
    expect(decision.allowed).toBe(true);
    expect(stored).toBe(`${REPO}:1.0@${SIGNED}`);
  });

  it('admits nothing where no cluster policy applies and the default is deny', async () => {
    const { decision } = await pod('elsewhere.example.com/x/y:1.0', context([make()]));
    expect(decision.allowed).toBe(false);
    expect(decision.reasons).toContain('NO_POLICY');
  });
});

describe('the signatures the registry serves', () => {
  it('are refused by the same tenant authority at level strict: the signer is not trusted, so the relaxed answers above are the relaxation\'s doing', async () => {
    const spec = tenant([strict('all', '*')]).authorities[0]!.spec as NotationSpec;
    const v = new NotationVerifier(REGISTRY).verify(parseReference(`${REPO}:2.0`), spec, { credentials: undefined, signal: new AbortController().signal, timeoutMs: 2000 });
    await expect(v).rejects.toMatchObject({ code: 'CERTIFICATE_INVALID' });
  });
});

describe('a Notation authority that trusts no one', () => {
  const allSkip = () => tenant([skip('everything', '*')]);

  it('is refused, and the refused ImagePolicy denies what it names instead of lifting anything', async () => {
    const problem = (() => {
      try {
        allSkip();
      } catch (error) {
        return (error as PolicyError).problems.join('; ');
      }
      throw new Error('accepted');
    })();
    expect(problem).toContain('spec.authorities[0].notation.trustPolicy: every statement is level skip, so this authority trusts no one');
    const standIn = refusedStandIn({ kind: 'ImagePolicy', name: 'tenant', namespace: 'team-a', spec: { images: ['**'] } }, problem, 'ImagePolicy/team-a/tenant');
    const { decision } = await pod(`${REPO}:1.0`, context([CLUSTER(), standIn]));
    expect(decision.allowed).toBe(false);
    expect(decision.message).toContain('POLICY_REFUSED');
  });
});

describe('identity injection in trustedIdentities', () => {
  const problems = (identity: string): string => {
    try {
      tenant([{ ...strict('s', '*'), trustedIdentities: [identity] }]);
    } catch (error) {
      return (error as PolicyError).problems.join('; ');
    }
    return '';
  };

  it('cannot smuggle a second RDN or a second value of an attribute', () => {
    expect(problems('x509.subject: C=US, ST=WA, O=evil+O=Notary')).toContain('multi-valued RDN');
    expect(problems('x509.subject: C=US, ST=WA, O=evil, O=Notary')).toContain('names O twice');
    expect(problems('x509.subject: C=US, ST=WA, S=OR, O=Notary')).toContain('names ST twice');
  });

  it('keeps an escaped separator inside its value, so it names no other organisation', () => {
    const spec = tenant([{ ...strict('s', '*'), trustedIdentities: ['x509.subject: C=US, ST=WA, O=evil\\, O=Notary'] }]).authorities[0]!.spec as NotationSpec;
    const identities = spec.trustPolicy.statements[0]!.trustedIdentities;
    expect(identities !== '*' && identities[0]!.attributes).toContainEqual({ type: 'O', value: 'evil, O=Notary' });
  });

  it('shows control characters of an identity visibly in the refusal, never as a new line', () => {
    const message = problems('x509.subject: C=US\nDENIED: forged, ST=WA');
    expect(message).not.toContain('\n');
    expect(message).toContain('\\n');
    expect(problems('spiffe\u001b[31m:red')).toContain('"spiffe\\u001b[31m": only x509.subject identities are supported');
  });
});

describe('under a cluster policy of mode audit', () => {
  const AUDITING = () => policy('internal', ['registry.example.com/**'], { ...TOFU, mode: 'audit' });

  it.each(RELAXING)('a tenant %s does not take away the pin the cluster\'s verification makes', async (_what, make) => {
    const alone = await pod(`${REPO}:1.0`, context([AUDITING()]));
    expect(alone.stored).toBe(`${REPO}:1.0@${SIGNED}`);
    const { stored } = await pod(`${REPO}:1.0`, context([AUDITING(), make()]));
    expect(stored).toBe(`${REPO}:1.0@${SIGNED}`);
  });

  it.each(RELAXING)('a tenant %s changes nothing at /validate either', async (_what, make) => {
    const validate = async (policies: Policy[]) => {
      const body = review('Pod', workload('Pod', 'web', { containers: [{ name: 'app', image: `${REPO}:1.0` }] }), { namespace: 'team-a' });
      const d = await decide(parseReview(body), 'validate', context(policies));
      return { allowed: d.allowed, reasons: d.reasons };
    };
    expect(await validate([AUDITING(), make()])).toEqual(await validate([AUDITING()]));
  });
});
