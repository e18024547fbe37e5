// A Notation authority in a policy (docs/policy.md "notation"): parsed from the YAML a user
// writes, beside Notary and cosign authorities under require any/all, counted by the namespace
// budget, and decided with the other kinds (scripted verifiers answer by kind).
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { decide, parseReview, type DecisionContext } from '../../../src/admission/index.js';
import { parsePolicy, PolicySet, rawKeyCount, PolicyError } from '../../../src/policy/index.js';
import { TrustKind } from '../../../src/trust/index.js';
import type { NotationSpec } from '../../../src/trust/notation/index.js';
import { keyPair } from '../../support/cosign-format.js';
import { KindsVerifier } from '../../support/fake-verifier.js';
import { review, workload } from '../../support/reviews.js';

const ROOT = readFileSync('test/fixtures/notation/policy/certs/ca_valid-trust-store_NotationTestRoot.pem', 'utf8');
const indent = (text: string, n: number) => text.trimEnd().split('\n').map((l) => ' '.repeat(n) + l).join('\n');

/** The policy of docs/policy.md "notation", as YAML. */
const YAML = `
apiVersion: trustgate.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: migrating}
spec:
  images: ["registry.example.com/team/**"]
  require: any
  authorities:
    - name: dct
      notary: {trustOnFirstUse: true}
    - name: acme-notation
      notation:
        trustPolicy:
          version: "1.0"
          trustPolicies:
            - name: team
              registryScopes: ["registry.example.com/team/app"]
              signatureVerification: {level: strict, override: {revocation: log}}
              trustStores: ["ca:acme"]
              trustedIdentities: ["x509.subject: C=US, ST=WA, O=Notary"]
        trustStores:
          - name: ca:acme
            certificates: |
${indent(ROOT, 14)}
`;

const parsed = () => parsePolicy(parseYaml(YAML), 'test');
const problemsOf = (doc: unknown): string => {
  try {
    parsePolicy(doc, 'test');
  } catch (error) {
    return (error as PolicyError).problems.join('; ');
  }
  throw new Error('accepted');
};

describe('a notation authority in a policy', () => {
  it('is read from the YAML of the docs, beside a Notary one', () => {
    const p = parsed();
    expect(p.authorities.map((a) => [a.label, a.spec.kind, a.ownConnection])).toEqual([
      ['authority "dct" (notary)', 'notary', false],
      ['authority "acme-notation" (notation)', 'notation', false],
    ]);
    const spec = p.authorities[1]!.spec as NotationSpec;
    expect(spec.trustPolicy.statements[0]!.signatureVerification.actions.revocation).toBe('log');
    expect(spec.trustStores.get('ca:acme')!.certificates).toHaveLength(1);
  });

  it('reports its problems at their path in the policy', () => {
    const doc = parseYaml(YAML.replace('level: strict', 'level: strickt'));
    expect(problemsOf(doc)).toBe('spec.authorities[1].notation.trustPolicy.trustPolicies[0].signatureVerification.level: expected one of strict, permissive, audit, skip');
    const unquoted = parseYaml(YAML.replace('version: "1.0"', 'version: 1.0'));
    expect(problemsOf(unquoted)).toContain('spec.authorities[1].notation.trustPolicy.version: must be the string "1.0", the version notation supports (quote it in YAML: version: "1.0")');
  });

  it('in an ImagePolicy, carries only the namespace\'s credentials when it chooses its registry connection', () => {
    const doc = parseYaml(YAML);
    doc.kind = 'ImagePolicy';
    doc.metadata.namespace = 'team-a';
    doc.spec.authorities[1].notation.registry = { caBundle: ROOT };
    expect(parsePolicy(doc, 'test').authorities[1]!.ownConnection).toBe(true);
  });

  it('counts its certificates, scopes and identities against the namespace budget, unparsed', () => {
    expect(rawKeyCount(parseYaml(YAML).spec)).toBe(1 + 1 + 1);
    const doc = parseYaml(YAML);
    doc.spec.authorities.push({ name: 'sig', cosign: { keys: ['<cosign.pub: counted, not parsed>'] } });
    expect(rawKeyCount(doc.spec)).toBe(1 + 1 + 1 + 1);
  });
});

describe('decided with the other kinds', () => {
  const D1 = `sha256:${'1'.repeat(64)}`;
  const APP = 'registry.example.com/team/app:1.0';
  const run = async (require: 'any' | 'all', scripts: ConstructorParameters<typeof KindsVerifier>[0]) => {
    const doc = parseYaml(YAML);
    doc.spec.require = require;
    const ctx: DecisionContext = { policies: new PolicySet([parsePolicy(doc, 'test')]), verifier: new KindsVerifier(scripts), defaultAction: 'deny', mutateWorkloads: false, deadlineMs: 2000, credentialsFor: () => undefined };
    return decide(parseReview(review('Pod', workload('Pod', 'web', { containers: [{ name: 'app', image: APP }] }))), 'mutate', ctx);
  };

  it('require any: Notation alone admits, and is recorded as the kind that verified', async () => {
    const d = await run('any', { notary: {}, notation: { [APP]: D1 } });
    expect(d).toMatchObject({ allowed: true, kinds: [TrustKind.NOTATION] });
  });

  it('require all over cosign and Notation: both verify the same digest, or the image is denied', async () => {
    const doc = parseYaml(YAML);
    doc.spec.require = 'all';
    doc.spec.authorities[0] = { name: 'sig', cosign: { keys: [keyPair('ecdsa-p256').pem] } };
    const policy = parsePolicy(doc, 'test');
    const decideWith = (scripts: ConstructorParameters<typeof KindsVerifier>[0]) => {
      const ctx: DecisionContext = { policies: new PolicySet([policy]), verifier: new KindsVerifier(scripts), defaultAction: 'deny', mutateWorkloads: false, deadlineMs: 2000, credentialsFor: () => undefined };
      return decide(parseReview(review('Pod', workload('Pod', 'web', { containers: [{ name: 'app', image: APP }] }))), 'mutate', ctx);
    };
    expect(await decideWith({ cosign: { [APP]: D1 }, notation: { [APP]: D1 } })).toMatchObject({ allowed: true, kinds: [TrustKind.COSIGN, TrustKind.NOTATION] });
    const conflict = await decideWith({ cosign: { [APP]: D1 }, notation: { [APP]: `sha256:${'2'.repeat(64)}` } });
    expect(conflict).toMatchObject({ allowed: false, reasons: ['DIGEST_CONFLICT'] });
    expect((await decideWith({ cosign: { [APP]: D1 }, notation: {} })).allowed).toBe(false);
  });

  it('require all: a Notation failure denies, named in the reasons beside the Notary one', async () => {
    const d = await run('all', { notary: { [APP]: D1 }, notation: { [APP]: 'SIGNATURE_INVALID' } });
    expect(d.allowed).toBe(false);
    expect(d.message).toContain('every authority must verify it (require: all): authority "acme-notation" (notation): SIGNATURE_INVALID');
  });
});
