// BYPASS: a tenant relaxing the cluster through a Notation authority of its own ImagePolicy —
// level skip, audit, or an override that only logs authenticity — and identity injection in
// trustedIdentities. The tenant's policies are parsed for real (parsePolicy, the Notation
// parser); the cluster's requirement is a scripted Notary verifier, and the tenant's Notation
// answers come from a stand-in that applies the brief's level semantics to the compiled spec
// (skip: admitted unchecked, without a signature; audit, or authenticity overridden to log, with
// an untrusted signer: admitted unchecked). What must hold whatever the Notation verifier
// answers: each policy is a requirement of its own, so an unchecked (or any) answer of the
// tenant's never admits what the cluster refuses, nor undoes the cluster's pin.
import { decide, parseReview, type DecisionContext, type ImageVerifier } from '../../src/admission/index.js';
import { PolicyError, PolicySet, refusedStandIn, type Policy } from '../../src/policy/index.js';
import { formatPinned, type ImageReference } from '../../src/reference/index.js';
import { TrustError, TrustKind, type AuthoritySpec, type Verified } from '../../src/trust/index.js';
import type { NotationSpec, TrustPolicyStatement } from '../../src/trust/notation/index.js';
import { readFileSync } from 'node:fs';
import { FAR, ScriptedVerifier } from '../support/fake-verifier.js';
import { policy, TOFU } from '../support/policies.js';
import { applyPatch, review, workload, type PodSpecLike } from '../support/reviews.js';

const REPO = 'registry.example.com/team/app';
const SIGNED = `sha256:${'1'.repeat(64)}`;
const TENANT_DIGEST = `sha256:${'9'.repeat(64)}`;
/** What the registry serves for each tag now (a skip statement resolves the tag, no more). */
const SERVED: Record<string, string> = { '1.0': SIGNED, '2.0': TENANT_DIGEST };
const ROOT = readFileSync('test/fixtures/notation/policy/certs/ca_valid-trust-store_NotationTestRoot.pem', 'utf8');
const ID = 'x509.subject: C=US, ST=WA, O=Notary';

/**
 * The brief's semantics of a Notation answer, on the compiled spec: the statement for the
 * repository (exact scope, else `*`), then skip → unchecked; authenticity failed (the registry
 * serves only a signature by a signer no trust store vouches for) and logged → unchecked.
 */
class NotationStandIn implements ImageVerifier {
  async verify(ref: ImageReference, spec: AuthoritySpec): Promise<Verified> {
    return Promise.resolve(this.answer(ref, spec as NotationSpec));
  }
  peek(): undefined {
    return undefined;
  }
  private answer(ref: ImageReference, spec: NotationSpec): Verified {
    const statements = spec.trustPolicy.statements;
    const s: TrustPolicyStatement | undefined = statements.find((x) => x.registryScopes.includes(ref.name)) ?? statements.find((x) => x.registryScopes.includes('*'));
    if (!s) throw new TrustError('NO_TRUST_POLICY', `no statement for ${ref.name}`);
    const level = s.signatureVerification.level;
    const untrustedSigner = s.signatureVerification.actions.authenticity === 'log';
    if (level !== 'skip' && !untrustedSigner) throw new TrustError('IDENTITY_MISMATCH', 'signed by an untrusted signer');
    const digest = ref.digest ?? SERVED[ref.tag ?? 'latest'] ?? TENANT_DIGEST;
    return {
      kind: TrustKind.NOTATION, image: ref.name, reference: formatPinned(ref, digest), digest, tag: ref.tag, unchecked: true, expires: FAR,
      evidence: { kind: TrustKind.NOTATION, registry: ref.registry, trustPolicy: s.name, level, signatures: [], logged: level === 'skip' ? [] : ['authenticity: untrusted signer'] },
    };
  }
}

class ByKind implements ImageVerifier {
  constructor(private readonly notary: ScriptedVerifier, private readonly notation = new NotationStandIn()) {}
  verify(ref: ImageReference, spec: AuthoritySpec, credentials: undefined, namespace?: string, signal?: AbortSignal) {
    return spec.kind === TrustKind.NOTATION ? this.notation.verify(ref, spec) : this.notary.verify(ref, spec, credentials, namespace, signal);
  }
  peek(ref: ImageReference, spec: AuthoritySpec) {
    return spec.kind === TrustKind.NOTATION ? this.notation.peek() : this.notary.peek(ref);
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
