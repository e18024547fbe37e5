// EXHAUSTION through a Notation authority's inputs (docs/policy.md "notation"): the trust policy
// (JSON text or object, from a tenant's ImagePolicy), its scopes and distinguished names, and the
// trust stores' PEM. Each is refused at its bound before the costly part (parsing, compiling,
// certificate parsing) and in bounded time; a tenant flooding certificates is stopped by the
// namespace budget, which counts them unparsed (src/policy/budget.ts, NOTATION_AUTHORITY.rawCost).
import { readFileSync } from 'node:fs';
import { BudgetUsage, NAMESPACE_BUDGET, parsePolicy, rawCost, type Policy } from '../../src/policy/index.js';
import { Guard } from '../../src/shared/guard.js';
import {
  DN_LIMITS,
  NOTATION_SPEC_LIMITS,
  parseDistinguishedName,
  parseNotationAuthority,
  readCertificates,
  readTrustPolicy,
  TRUST_POLICY_LIMITS,
  TRUST_STORE_LIMITS,
} from '../../src/trust/notation/index.js';
import { collectGarbage } from '../support/gc.js';

const ROOT = readFileSync('test/fixtures/notation/policy/certs/ca_valid-trust-store_NotationTestRoot.pem', 'utf8');
const ID = 'x509.subject: C=US, ST=WA, O=Notary';
const statement = (over: Record<string, unknown> = {}) => ({
  name: 's', registryScopes: ['registry.example.com/team/app'], signatureVerification: { level: 'strict' }, trustStores: ['ca:acme'], trustedIdentities: [ID], ...over,
});

/**
 * What "refused before the costly part" takes at most, on a loaded 2-core CI machine: reading
 * what each case refuses would take seconds (100,000 DNs parsed, a backtracking scope pattern).
 */
const QUICK_MS = 250;

function timed<T>(run: () => T): { result: T; ms: number } {
  const started = performance.now();
  const result = run();
  return { result, ms: performance.now() - started };
}
function policyProblems(value: unknown): string[] {
  const g = new Guard();
  expect(readTrustPolicy(g, value, 'trustPolicy')).toBeUndefined();
  return g.problems;
}

describe('the trust policy', () => {
  it('refuses JSON text past its bound before parsing it, whatever its size', () => {
    const { result, ms } = timed(() => policyProblems(`{"version":"1.0","trustPolicies":[${'{},'.repeat(5_000_000)}{}]}`));
    expect(result).toEqual([`trustPolicy: longer than ${TRUST_POLICY_LIMITS.length} characters`]);
    expect(ms).toBeLessThan(QUICK_MS);
  });

  it('survives JSON nested as deep as its bound allows, in text and as an object, without recursing', () => {
    const depth = Math.floor((TRUST_POLICY_LIMITS.length - 100) / 2);
    const text = `{"version":"1.0","trustPolicies":[{"name":${'['.repeat(depth)}${']'.repeat(depth)}}]}`;
    const fromText = timed(() => policyProblems(text));
    expect(fromText.ms).toBeLessThan(500);
    expect(fromText.result.join('; ')).toMatch(/trustPolicy(\.trustPolicies\[0\]\.name: expected a string|: is not JSON)/);
    // A YAML document may nest as deep as the API server lets it: only known fields are walked.
    let deep: unknown = 'x';
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    const fromObject = timed(() => policyProblems({ version: '1.0', trustPolicies: [statement({ extra: deep, trustedIdentities: [deep] })] }));
    expect(fromObject.result).toEqual(['trustPolicy.trustPolicies[0].extra: unknown field', 'trustPolicy.trustPolicies[0].trustedIdentities[0]: expected a string']);
    expect(fromObject.ms).toBeLessThan(QUICK_MS);
  });

  it('refuses thousands of statements, scopes and identities at their bounds, in bounded time', () => {
    const statements = Array.from({ length: 5000 }, (_, i) => statement({ name: `s${i}`, registryScopes: [`r.io/a${i}`] }));
    const many = timed(() => policyProblems({ version: '1.0', trustPolicies: statements }));
    expect(many.result).toEqual([`trustPolicy.trustPolicies: more than ${TRUST_POLICY_LIMITS.statements} statements`]);
    const scopes = Array.from({ length: 100_000 }, (_, i) => `r.io/a${i}`);
    const wide = timed(() => policyProblems({ version: '1.0', trustPolicies: [statement({ registryScopes: scopes })] }));
    expect(wide.result).toEqual([`trustPolicy.trustPolicies[0].registryScopes: more than ${TRUST_POLICY_LIMITS.scopesPerStatement} registry scopes`]);
    // Within each statement's bound, past the document's: 64 × 256 scopes.
    const full = Array.from({ length: TRUST_POLICY_LIMITS.statements }, (_, s) => statement({ name: `s${s}`, registryScopes: Array.from({ length: 256 }, (_, i) => `r.io/s${s}/a${i}`) }));
    expect(policyProblems({ version: '1.0', trustPolicies: full })).toContain(`trustPolicy.trustPolicies[4].registryScopes: more than ${TRUST_POLICY_LIMITS.scopes} registry scopes in the document`);
    const ids = Array.from({ length: 100_000 }, (_, i) => `x509.subject: C=US, ST=WA, O=o${i}`);
    const idFlood = timed(() => policyProblems({ version: '1.0', trustPolicies: [statement({ trustedIdentities: ids })] }));
    expect(idFlood.result).toEqual([`trustPolicy.trustPolicies[0].trustedIdentities: more than ${TRUST_POLICY_LIMITS.identitiesPerStatement} trusted identities`]);
    for (const t of [many, wide, idFlood]) expect(t.ms).toBeLessThan(QUICK_MS);
  });

  it('checks the most identities a statement may have pairwise for overlap in bounded time', () => {
    const ids = Array.from({ length: TRUST_POLICY_LIMITS.identitiesPerStatement }, (_, i) => `x509.subject: C=US, ST=WA, O=acme, OU=u${i}, L=l${i}, CN=${'c'.repeat(200)}${i}`);
    const { result, ms } = timed(() => {
      const g = new Guard();
      return readTrustPolicy(g, { version: '1.0', trustPolicies: [statement({ trustedIdentities: ids })] }, 'p');
    });
    expect(result?.statements[0]!.trustedIdentities).toHaveLength(TRUST_POLICY_LIMITS.identitiesPerStatement);
    expect(ms).toBeLessThan(500);
  });

  // distribution's repository pattern, as notation-go writes it, run by JavaScript's backtracking
  // engine takes ~0.4 s on 24 characters and doubles with each more: a 500-character near-miss
  // would never return. trust-policy.ts checks the same grammar piece by piece.
  it('checks scopes without backtracking: distribution\'s pattern, as one JavaScript regexp, would not return', () => {
    const nearMisses = [`r.io/${'a'.repeat(500)}!`, `r.io/${'a-'.repeat(250)}`, `r.io/${'a_'.repeat(250)}-`, `${'a-'.repeat(200)}.io/x!`];
    for (const scope of nearMisses) {
      const { result, ms } = timed(() => policyProblems({ version: '1.0', trustPolicies: [statement({ registryScopes: [scope] })] }));
      expect(result[0]).toMatch(/is not a valid registry scope|longer than/);
      expect(ms).toBeLessThan(QUICK_MS);
    }
  });

  it('bounds a distinguished name before splitting it, and its attributes', () => {
    const long = `C=US,ST=WA,O=${'\\2C'.repeat(1_000_000)}`;
    const t = timed(() => parseDistinguishedName(long));
    expect(t.result).toBe(`longer than ${DN_LIMITS.length} characters`);
    expect(t.ms).toBeLessThan(QUICK_MS);
    const wide = `C=US,ST=WA,O=a,${Array.from({ length: 100 }, (_, i) => `X${i}=v`).join(',')}`;
    expect(parseDistinguishedName(wide)).toBe(`is not an RFC 4514 distinguished name: more than ${DN_LIMITS.attributes} attributes`);
  });
});

describe('trust stores', () => {
  const read = (value: unknown) => {
    const g = new Guard();
    return { certs: readCertificates(g, value, 'x'), problems: g.problems };
  };

  it('refuses a huge PEM by its length, before looking for blocks', () => {
    const huge = ROOT.repeat(20_000);
    const { result, ms } = timed(() => read(huge));
    expect(result.problems).toEqual([`x: longer than ${TRUST_STORE_LIMITS.length} characters`]);
    expect(ms).toBeLessThan(QUICK_MS);
    expect(read(Buffer.alloc(TRUST_STORE_LIMITS.length + 1)).problems).toEqual([`x: larger than ${TRUST_STORE_LIMITS.length} bytes`]);
  });

  it('counts blocks before parsing any, and stops at a BEGIN line without END in bounded time', () => {
    const begins = '-----BEGIN CERTIFICATE-----\n'.repeat(TRUST_STORE_LIMITS.certificates);
    const unterminated = timed(() => read(begins + 'A'.repeat(TRUST_STORE_LIMITS.length - begins.length)));
    expect(unterminated.result.problems).toEqual(['x: has a -----BEGIN line without its matching -----END line']);
    expect(unterminated.ms).toBeLessThan(500);
    const many = timed(() => read('-----BEGIN CERTIFICATE-----\n'.repeat(5000)));
    expect(many.result.problems).toEqual([`x: more than ${TRUST_STORE_LIMITS.certificates} certificates`]);
    expect(many.ms).toBeLessThan(QUICK_MS);
  });

  it('refuses more certificates in all than an authority may hold, before parsing them', () => {
    const stores = Array.from({ length: NOTATION_SPEC_LIMITS.trustStores }, (_, i) => ({ name: `ca:s${i}`, certificates: ROOT.repeat(TRUST_STORE_LIMITS.certificates) }));
    const trustPolicy = { version: '1.0', trustPolicies: [statement({ trustStores: stores.map((s) => s.name) })] };
    const { result, ms } = timed(() => parseNotationAuthority({ trustPolicy, trustStores: stores }, 'n'));
    expect(result).toEqual({ problems: [`n.trustStores: more than ${NOTATION_SPEC_LIMITS.certificates} certificates in all`] });
    expect(ms).toBeLessThan(QUICK_MS);
  });
});

describe('the namespace budget', () => {
  /** A tenant ImagePolicy whose one Notation authority holds the most certificates it may. */
  function flood(n: number) {
    const stores = Array.from({ length: 4 }, (_, i) => ({ name: `ca:s${i}`, certificates: ROOT.repeat(TRUST_STORE_LIMITS.certificates) }));
    const trustPolicy = { version: '1.0', trustPolicies: [statement({ trustStores: stores.map((s) => s.name) })] };
    const spec = { images: [`registry.tenant.example/p${n}/**`], authorities: [{ notation: { trustPolicy, trustStores: stores } }] };
    return { apiVersion: 'trustgate.dev/v1alpha1', kind: 'ImagePolicy', metadata: { name: `p${n}`, namespace: 'team-a' }, spec };
  }

  it('counts every certificate block of a tenant flooding certificates, and refuses objects past it unparsed', () => {
    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    const usage = new BudgetUsage(NAMESPACE_BUDGET);
    const accepted: Policy[] = [];
    const refused: string[] = [];
    for (let n = 0; n < 16; n++) {
      const doc = flood(n);
      // As the informer does (src/kube/policy-informers.ts): the budget first, parsing only within it.
      const over = usage.add(rawCost(doc.spec));
      if (over === undefined) accepted.push(parsePolicy(doc, `flood:${n}`));
      else refused.push(over);
    }
    // 256 certificates, one identity and one scope each: three objects fit in 1,024 keys, the rest do not.
    expect(rawCost(flood(0).spec).keys).toBe(4 * TRUST_STORE_LIMITS.certificates + 1 + 1);
    expect(accepted).toHaveLength(3);
    expect(refused).toHaveLength(13);
    expect(refused[0]).toContain(`${NAMESPACE_BUDGET.keys} pinned keys`);
    collectGarbage();
    expect((process.memoryUsage().heapUsed - before) / 2 ** 20).toBeLessThan(32);
  }, 60_000);

  it('counts the registry scopes of a tenant filling its trust policies, as objects or as JSON text', () => {
    // Within every per-object bound: 8 authorities of 64 statements × 16 scopes (1,024 each).
    const trustPolicy = { version: '1.0', trustPolicies: Array.from({ length: 64 }, (_, s) => statement({ name: `s${s}`, trustStores: ['ca:acme'], registryScopes: Array.from({ length: 16 }, (_, i) => `registry.tenant.example/s${s}/${'a'.repeat(400)}${i}`) })) };
    const authority = (form: 'object' | 'text') => ({ notation: { trustPolicy: form === 'object' ? trustPolicy : JSON.stringify(trustPolicy), trustStores: [{ name: 'ca:acme', certificates: ROOT }] } });
    for (const form of ['object', 'text'] as const) {
      const usage = new BudgetUsage(NAMESPACE_BUDGET);
      const spec = { images: ['registry.tenant.example/**'], authorities: Array.from({ length: 8 }, () => authority(form)) };
      expect(rawCost(spec).keys).toBeGreaterThan(NAMESPACE_BUDGET.keys);
      expect(usage.add(rawCost(spec))).toContain('pinned keys');
    }
  });

  it('counts a ConfigMap or Secret reference before the cluster resolves it', () => {
    const stores = Array.from({ length: 16 }, (_, i) => ({ name: `ca:s${i}`, configMapRef: { name: 'big' } }));
    expect(rawCost({ authorities: [{ notation: { trustPolicy: {}, trustStores: stores } }] }).keys).toBe(16);
  });
});
