// readTrustPolicy against the reference: every trust policy below is accepted or refused by
// notation-go v1.3.2's own validation exactly when trustgate accepts or refuses it. The verdict
// comes from test/tools/notation-tool (notation.Verify with the trust policy loaded as the
// notation CLI loads it): a valid policy gets as far as resolving the image (a closed port here),
// an invalid one fails with "trust policy …" before. Where trustgate is stricter on purpose
// (unknown fields, plugin identities, bounds: docs/policy.md "What differs from notation") the
// unit tests say so; those cases are not here.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Guard } from '../../src/shared/guard.js';
import { readTrustPolicy } from '../../src/trust/notation/index.js';
import { testTools } from '../support/test-tools.js';

/** The notation-tool scripts/build-test-tools.sh built (for this source) into the binaries cache. */
const notationTool = (): string => testTools().notationTool;

const ID = 'x509.subject: C=US, ST=WA, O=acme-rockets.io';
const st = (over: Record<string, unknown> = {}) => ({ name: 's', registryScopes: ['registry.example.com/team/app'], signatureVerification: { level: 'strict' }, trustStores: ['ca:acme'], trustedIdentities: [ID], ...over });
const doc = (...s: unknown[]) => ({ version: '1.0', trustPolicies: s.length ? s : [st()] });
const CASES: [string, unknown][] = [
  ['ok', doc()],
  ['ok permissive', doc(st({ signatureVerification: { level: 'permissive' } }))],
  ['ok audit override auth enforce', doc(st({ signatureVerification: { level: 'audit', override: { authenticity: 'enforce' } } }))],
  ['ok strict override auth log', doc(st({ signatureVerification: { level: 'strict', override: { authenticity: 'log', authenticTimestamp: 'log', expiry: 'log', revocation: 'skip' } } }))],
  ['ok skip', doc(st({ signatureVerification: { level: 'skip' }, trustStores: undefined, trustedIdentities: undefined }))],
  ['ok skip null lists', doc(st({ signatureVerification: { level: 'skip' }, trustStores: null, trustedIdentities: null }))],
  ['ok skip empty override', doc(st({ signatureVerification: { level: 'skip', override: {} }, trustStores: [], trustedIdentities: [] }))],
  ['ok verifyTimestamp empty', doc(st({ signatureVerification: { level: 'strict', verifyTimestamp: '' } }))],
  ['ok port and separators', doc(st({ registryScopes: ['localhost:5000/a__b/c-d.e_f/g--h'] }))],
  ['ok dn escapes', doc(st({ trustedIdentities: ['x509.subject: C=US,S=WA;O=acme\\, inc.,OU=caf\\C3\\A9'] }))],
  ['ok dn empty then value', doc(st({ trustedIdentities: ['x509.subject: C=US,ST=WA,O=acme,OU=,OU=eng'] }))],
  ['ok dn no space', doc(st({ trustedIdentities: ['x509.subject:CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US'] }))],
  ['ok dn trailing escaped space', doc(st({ trustedIdentities: ['x509.subject: C=US,ST=WA,O=a\\ '] }))],
  ['ok two disjoint ids', doc(st({ trustedIdentities: [ID, 'x509.subject: C=US, ST=OR, O=other'] }))],
  ['ok star scope + other statement', doc(st(), st({ name: 't', registryScopes: ['*'] }))],
  ['ok dup store in statement', doc(st({ trustStores: ['ca:acme', 'ca:acme'] }))],
  ['bad version', { version: '2.0', trustPolicies: [st()] }],
  ['bad no statements', { version: '1.0', trustPolicies: [] }],
  ['bad dup names', doc(st(), st({ registryScopes: ['r.io/b'] }))],
  ['bad empty name', doc(st({ name: '' }))],
  ['bad no level', doc(st({ signatureVerification: {} }))],
  ['bad level', doc(st({ signatureVerification: { level: 'lenient' } }))],
  ['bad integrity override', doc(st({ signatureVerification: { level: 'strict', override: { integrity: 'enforce' } } }))],
  ['bad auth skip', doc(st({ signatureVerification: { level: 'strict', override: { authenticity: 'skip' } } }))],
  ['bad ts skip', doc(st({ signatureVerification: { level: 'strict', override: { authenticTimestamp: 'skip' } } }))],
  ['bad unknown validation', doc(st({ signatureVerification: { level: 'strict', override: { freshness: 'log' } } }))],
  ['bad action', doc(st({ signatureVerification: { level: 'strict', override: { expiry: 'warn' } } }))],
  ['bad skip override', doc(st({ signatureVerification: { level: 'skip', override: { revocation: 'skip' } }, trustStores: [], trustedIdentities: [] }))],
  ['bad verifyTimestamp', doc(st({ signatureVerification: { level: 'strict', verifyTimestamp: 'never' } }))],
  ['bad skip with stores', doc(st({ signatureVerification: { level: 'skip' }, trustedIdentities: [] }))],
  ['bad strict no stores', doc(st({ trustStores: [] }))],
  ['bad audit no ids', doc(st({ signatureVerification: { level: 'audit' }, trustedIdentities: undefined }))],
  ['bad store no colon', doc(st({ trustStores: ['acme'] }))],
  ['bad store type', doc(st({ trustStores: ['hola:x'] }))],
  ['bad store name', doc(st({ trustStores: ['ca:#@$'] }))],
  ['bad no scopes', doc(st({ registryScopes: [] }))],
  ['bad star with other', doc(st({ registryScopes: ['*', 'r.io/a'] }))],
  ['bad star twice', doc(st({ registryScopes: ['*'] }), st({ name: 't', registryScopes: ['*'] }))],
  ['bad scope twice across', doc(st(), st({ name: 't' }))],
  ['bad scope twice within', doc(st({ registryScopes: ['r.io/a', 'r.io/a'] }))],
  ['bad wildcard scope', doc(st({ registryScopes: ['r.io/team/*'] }))],
  ['bad tag scope', doc(st({ registryScopes: ['r.io/app:1.0'] }))],
  ['bad host only', doc(st({ registryScopes: ['r.io'] }))],
  ['bad uppercase repo', doc(st({ registryScopes: ['r.io/App'] }))],
  ['bad trailing dash', doc(st({ registryScopes: ['r.io/app-'] }))],
  ['bad star with id', doc(st({ trustedIdentities: ['*', ID] }))],
  ['bad empty id', doc(st({ trustedIdentities: [''] }))],
  ['bad id no colon', doc(st({ trustedIdentities: ['x509.subject'] }))],
  ['bad empty dn', doc(st({ trustedIdentities: ['x509.subject:'] }))],
  ['bad dn no ST', doc(st({ trustedIdentities: ['x509.subject: C=US, O=acme'] }))],
  ['bad dn lowercase', doc(st({ trustedIdentities: ['x509.subject: c=US, st=WA, o=acme'] }))],
  ['bad dn multi', doc(st({ trustedIdentities: ['x509.subject: C=US+ST=WA, O=acme'] }))],
  ['bad dn ber', doc(st({ trustedIdentities: ['x509.subject: C=US, ST=WA, O=#0403616263'] }))],
  ['bad dn dup', doc(st({ trustedIdentities: ['x509.subject: C=US, ST=WA, O=a, O=b'] }))],
  ['bad dn S and ST', doc(st({ trustedIdentities: ['x509.subject: C=US, S=WA, ST=OR, O=a'] }))],
  ['bad dn empty O', doc(st({ trustedIdentities: ['x509.subject: C=US, ST=WA, O='] }))],
  ['bad dn double comma', doc(st({ trustedIdentities: ['x509.subject: C=US,,ST=WA,O=a'] }))],
  ['bad dn trailing comma', doc(st({ trustedIdentities: ['x509.subject: C=US,ST=WA,O=a,'] }))],
  ['bad dn bad escape', doc(st({ trustedIdentities: ['x509.subject: C=US,ST=WA,O=a\\zz'] }))],
  ['bad dn dangling escape', doc(st({ trustedIdentities: ['x509.subject: C=US,ST=WA,O=a\\'] }))],
  ['bad overlap', doc(st({ trustedIdentities: [ID, `${ID}, CN=b`] }))],
  ['bad same id twice', doc(st({ trustedIdentities: [ID, ID] }))],
];
let dir: string;
let tool: string;

beforeAll(() => {
  tool = notationTool();
  dir = mkdtempSync(path.join(tmpdir(), 'notation-policy-reference-'));
  // notation loads only the stores a statement names; every one named here exists.
  for (const store of ['ca/acme']) {
    mkdirSync(path.join(dir, 'x509', store), { recursive: true });
    copyFileSync('test/fixtures/notation/policy/certs/ca_valid-trust-store_NotationTestRoot.pem', path.join(dir, 'x509', store, 'root.pem'));
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** notation-go's verdict on a trust policy: undefined when valid, else its error. */
function reference(value: unknown): string | undefined {
  const file = path.join(dir, 'trustpolicy.json');
  writeFileSync(file, JSON.stringify(value));
  let out: string;
  try {
    out = execFileSync(tool, ['verify', '--plain-http', '--trust-policy', file, '--trust-store', dir, `127.0.0.1:1/team/app@sha256:${'a'.repeat(64)}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    out = (error as { stdout: string }).stdout;
  }
  const { error } = JSON.parse(out) as { error: string };
  return error.startsWith('resolve ') ? undefined : error;
}

it.each(CASES)('%s: trustgate decides as notation-go', (_what, value) => {
  const g = new Guard();
  const ours = readTrustPolicy(g, value, 'trustPolicy');
  const theirs = reference(value);
  expect({ accepted: ours !== undefined, problems: g.problems.length > 0 }).toEqual({ accepted: theirs === undefined, problems: theirs !== undefined });
});
