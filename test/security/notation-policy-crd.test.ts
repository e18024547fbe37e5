// BYPASS through the CRD: a Notation authority's trustPolicy is kept whole by the installed CRD
// (x-kubernetes-preserve-unknown-fields), so a field trustgate does not know — a misspelling that
// Go's encoding/json would ignore, or a field of a later specification — reaches the parser,
// which refuses it, instead of being pruned by the API server and the policy silently meaning
// something else. Object and JSON-text forms are both stored as written. The API server enforces
// the authority's own bounds. A tenant user on the real kube-apiserver.
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { parsePolicy, PolicyError } from '../../src/policy/index.js';
import type { NotationSpec } from '../../src/trust/notation/index.js';
import { ControlPlane, type Tenant } from '../support/control-plane.js';

const ROOT = readFileSync('test/fixtures/notation/policy/certs/ca_valid-trust-store_NotationTestRoot.pem', 'utf8');
const STATEMENT = { name: 'team', registryScopes: ['registry.example.com/team/app'], signatureVerification: { level: 'strict' }, trustStores: ['ca:acme'], trustedIdentities: ['x509.subject: C=US, ST=WA, O=Notary'] };

let cp: ControlPlane;
let tenant: Tenant;

function imagePolicy(name: string, notation: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: 'trustgate.dev/v1alpha1', kind: 'ImagePolicy', metadata: { name, namespace: 'team-a' },
    spec: { images: ['registry.example.com/**'], authorities: [{ name: 'n', notation: { trustStores: [{ name: 'ca:acme', certificates: ROOT }], ...notation } }] },
  });
}

/** Creates the object as the tenant and reads back what the API server stored. */
async function stored(name: string, notation: Record<string, unknown>): Promise<unknown> {
  const created = await tenant.kubectl(['create', '-f', '-'], imagePolicy(name, notation));
  expect(created.stderr).toBe('');
  return JSON.parse((await tenant.kubectl(['get', 'imagepolicy', name, '-o', 'json'])).stdout) as unknown;
}

function problems(doc: unknown): string {
  try {
    parsePolicy(doc, 'test');
  } catch (error) {
    return (error as PolicyError).problems.join('; ');
  }
  return '';
}

beforeAll(async () => {
  cp = await ControlPlane.start();
  await cp.kubectlOk(['apply', '-f', path.resolve('charts/trustgate/crds')]);
  tenant = await cp.tenant('team-a', 'mallory');
}, 120_000);

afterAll(async () => {
  await cp?.stop();
});

it('keeps a misspelled trust policy field for trustgate to refuse, instead of pruning it', async () => {
  const doc = await stored('misspelled', { trustPolicy: { version: '1.0', trustPolicies: [{ ...STATEMENT, trustedIdentity: ['x509.subject: C=US, ST=WA, O=Evil'] }] } });
  const statement = (doc as { spec: { authorities: { notation: { trustPolicy: { trustPolicies: Record<string, unknown>[] } } }[] } }).spec.authorities[0]!.notation.trustPolicy.trustPolicies[0]!;
  expect(statement.trustedIdentity).toEqual(['x509.subject: C=US, ST=WA, O=Evil']);
  expect(problems(doc)).toBe('spec.authorities[0].notation.trustPolicy.trustPolicies[0].trustedIdentity: unknown field');
}, 60_000);

it('stores the trust policy as an object or as its JSON text, which compile to one spec', async () => {
  const trustPolicy = { version: '1.0', trustPolicies: [STATEMENT] };
  const asObject = parsePolicy(await stored('as-object', { trustPolicy }), 'test');
  const asText = parsePolicy(await stored('as-text', { trustPolicy: JSON.stringify(trustPolicy) }), 'test');
  expect((asText.authorities[0]!.spec as NotationSpec).key).toBe((asObject.authorities[0]!.spec as NotationSpec).key);
}, 60_000);

it('refuses trust stores past the bound and store names off notation\'s format at the API server', async () => {
  const trustPolicy = { version: '1.0', trustPolicies: [STATEMENT] };
  const many = Array.from({ length: 17 }, (_, i) => ({ name: `ca:s${i}`, certificates: ROOT }));
  const tooMany = await tenant.kubectl(['create', '-f', '-'], imagePolicy('too-many', { trustPolicy, trustStores: many }));
  expect(tooMany.code).not.toBe(0);
  expect(tooMany.stderr).toMatch(/trustStores: Too many: 17: must have at most 16 items/);
  const badName = await tenant.kubectl(['create', '-f', '-'], imagePolicy('bad-name', { trustPolicy, trustStores: [{ name: 'ca:../x', certificates: ROOT }] }));
  expect(badName.code).not.toBe(0);
  expect(badName.stderr).toMatch(/trustStores\[0\]\.name: Invalid value/);
}, 60_000);
