// DEFENCE: the namespace budget counts what ImagePolicy objects cost once COMPILED (src/policy/
// budget.ts, rawCost of src/policy/authorities.ts): identity-pattern states (each pattern at most
// COSIGN_SPEC_LIMITS.patternStates, estimated before compiling) and distinct trusted-root bytes
// (a root shared by several authorities is parsed once, src/trust/cosign/spec.ts). Each scenario
// below is fed to the budget as the informer feeds it (src/kube/policy-informers.ts): objects
// past it are refused unparsed (POLICY_REFUSED), and the rest stay far below the memory limit.
// The attack it closes: one tenant namespace's ImagePolicy objects, within every bound the CRD and the
// namespace budget set, make trustgate hold ~0.5 GB of compiled identity patterns — twice the
// chart's 256 Mi memory limit, so the pod is OOM-killed, and killed again after each restart
// (the informers compile the same objects at start-up). With failurePolicy: Fail, every reviewed
// namespace's pods are then refused.
//
// Why: the namespace budget counts an identity as one "key" (1,024 per namespace), but each
// identity holds two patterns, and each pattern of ≤ 512 characters may expand to 4,096
// program states (counted repetition), each a JS object (~60 bytes with its array slot).
// 1,024 identities × 2 × 4,096 states ≈ 8.4 M objects.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BudgetUsage, NAMESPACE_BUDGET, parsePolicy, PolicySet, rawCost, rawKeyCount, type Policy } from '../../src/policy/index.js';
import { parseCosignAuthority } from '../../src/trust/cosign/index.js';
import { TRUSTED_ROOT } from '../support/cosign-fixtures.js';
import { collectGarbage } from '../support/gc.js';

/** ~4,090 program states from 30 characters; `tag` makes each pattern distinct. */
const pattern = (tag: number): string => `(?:.*){1000}(?:.*){360}x${tag}`;

function tenantPolicy(n: number): { doc: Record<string, unknown>; keys: number } {
  const authorities = Array.from({ length: 8 }, (_, a) => ({
    cosign: {
      keyless: {
        identities: Array.from({ length: 16 }, (_, i) => {
          const k = n * 1000 + a * 100 + i;
          return { issuerRegExp: pattern(k), subjectRegExp: pattern(k + 500_000) };
        }),
      },
    },
  }));
  const spec = { images: [`registry.tenant.example/p${n}/**`], authorities };
  return { doc: { apiVersion: 'trustgate.dev/v1alpha1', kind: 'ImagePolicy', metadata: { name: `p${n}`, namespace: 'team-a' }, spec }, keys: rawKeyCount(spec) };
}

it("one namespace's ImagePolicy objects within the budget stay far below the pod's memory limit", () => {
  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  const policies: Policy[] = [];
  const refused: string[] = [];
  let keys = 0;
  const usage = new BudgetUsage(NAMESPACE_BUDGET);
  for (let n = 0; n < 8; n++) {
    const { doc, keys: k } = tenantPolicy(n);
    keys += k;
    // What the informer does with each object: the budget first, unparsed; parsing only within it.
    const over = usage.add(rawCost(doc.spec));
    if (over === undefined) policies.push(parsePolicy(doc, `attack:${n}`));
    else refused.push(over);
  }
  // Within the old budget (1,024 identities ≤ 1,024 "keys"), past the compiled one: all refused.
  expect(keys).toBeLessThanOrEqual(NAMESPACE_BUDGET.keys);
  expect(refused).toHaveLength(8);
  expect(refused[0]).toContain('identity-pattern states');
  const set = new PolicySet(policies);
  collectGarbage();
  const grown = (process.memoryUsage().heapUsed - before) / 2 ** 20;
  expect(set).toBeDefined();
  // The chart's limit is 256 Mi for the whole process; one tenant must not take a quarter of it.
  expect(grown).toBeLessThan(64);
}, 300_000);

// The same budget gap with `keyless.trustedRoot`: each counts as one "key", but a 64 KiB root of
// 15 CAs × 8 (tiny, identical) chain certificates compiles to ~1.6 MiB of sigstore-js trust
// material. 16 objects × 8 authorities (256 "keys" of the 1,024) ≈ 200 MiB, ~1.6 s to compile.

function bigRoot(n: number): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'attack10-root-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'k.pem'), '-out', path.join(dir, 'c.pem'), '-subj', '/CN=a', '-days', '2'], { stdio: 'ignore' });
  const der = readFileSync(path.join(dir, 'c.pem'), 'utf8').replace(/-----[^-]+-----|\s/g, '');
  const ca = { subject: { organization: 'x', commonName: 'x' }, uri: 'x', certChain: { certificates: Array.from({ length: 8 }, () => ({ rawBytes: der })) }, validFor: { start: '2020-01-01T00:00:00Z' } };
  const pub = JSON.parse(TRUSTED_ROOT) as Record<string, unknown>;
  const fit = Math.floor((64 * 1024 - 4000) / (der.length * 8 + 150));
  return JSON.stringify({ ...pub, certificateAuthorities: Array.from({ length: fit }, () => ca), timestampAuthorities: [] }) + ' '.repeat(n % 8);
}

it("one namespace's trusted roots within the budget stay far below the pod's memory limit", () => {
  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  const policies: Policy[] = [];
  const refused: string[] = [];
  let keys = 0;
  const usage = new BudgetUsage(NAMESPACE_BUDGET);
  for (let n = 0; n < 16; n++) {
    const authorities = Array.from({ length: 8 }, (_, a) => ({ cosign: { keyless: { identities: [{ issuer: 'https://x', subject: `s${a}` }], trustedRoot: bigRoot(n * 8 + a) } } }));
    const spec = { images: [`registry.tenant.example/r${n}/**`], authorities };
    keys += rawKeyCount(spec);
    const over = usage.add(rawCost(spec));
    if (over === undefined) policies.push(parsePolicy({ apiVersion: 'trustgate.dev/v1alpha1', kind: 'ImagePolicy', metadata: { name: `r${n}`, namespace: 'team-a' }, spec }, `attack:r${n}`));
    else refused.push(over);
  }
  expect(keys).toBeLessThanOrEqual(NAMESPACE_BUDGET.keys);
  collectGarbage();
  const grown = (process.memoryUsage().heapUsed - before) / 2 ** 20;
  // Eight distinct 64 KiB roots in each object: past the 128 KiB of trusted roots, so refused.
  expect(refused).toHaveLength(16);
  expect(refused[0]).toContain('characters of trusted roots');
  expect(grown).toBeLessThan(64);
}, 300_000);

it('128 authorities naming one trusted root cost one root: all admitted, one parse shared', () => {
  const usage = new BudgetUsage(NAMESPACE_BUDGET);
  const roots = new Set<unknown>();
  for (let n = 0; n < 16; n++) {
    const authorities = Array.from({ length: 8 }, (_, a) => ({ cosign: { keyless: { identities: [{ issuer: 'https://x', subject: `s${a}` }], trustedRoot: TRUSTED_ROOT } } }));
    const spec = { images: [`registry.tenant.example/s${n}/**`], authorities };
    expect(usage.add(rawCost(spec))).toBeUndefined();
    const policy = parsePolicy({ apiVersion: 'trustgate.dev/v1alpha1', kind: 'ImagePolicy', metadata: { name: `s${n}`, namespace: 'team-a' }, spec }, `shared:${n}`);
    for (const a of policy.authorities) roots.add((a.spec as unknown as { trustedRoot: unknown }).trustedRoot);
  }
  expect(usage.trustedRootBytes).toBe(TRUSTED_ROOT.length);
  expect(roots.size).toBe(1);
});

it('an identity pattern that expands past the per-pattern cap is refused before it is compiled', () => {
  const result = parseCosignAuthority({ keyless: { identities: [{ issuer: 'https://x', subjectRegExp: pattern(1) }] } }, 'cosign');
  expect(result).toEqual({ problems: [expect.stringContaining('cosign.keyless.identities[0].subjectRegExp: too complex')] });
  // A real workflow identity is well within it.
  const real = parseCosignAuthority({ keyless: { identities: [{ issuer: 'https://token.actions.githubusercontent.com', subjectRegExp: 'https://github\\.com/my-org/[^/]+/\\.github/workflows/release\\.ya?ml@refs/tags/v[0-9]+\\.[0-9]+\\.[0-9]+' }] } }, 'cosign');
  expect(real).toHaveProperty('spec');
});
