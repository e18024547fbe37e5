// readTrustPolicy against notation-go's rules (verifier/trustpolicy/oci.go, trustpolicy.go),
// with the specification's and notation-go's own trust policies as accepted inputs.
import { readFileSync } from 'node:fs';
import { Guard } from '../../../../src/shared/guard.js';
import { isSubsetDn, parseDistinguishedName, readTrustPolicy, TRUST_POLICY_LIMITS, type TrustPolicyDocument } from '../../../../src/trust/notation/index.js';

const FIXTURES = 'test/fixtures/notation/policy';
const fixture = (name: string): string => readFileSync(`${FIXTURES}/${name}`, 'utf8');
const ID = 'x509.subject: C=US, ST=WA, O=acme-rockets.io';

function read(value: unknown): TrustPolicyDocument {
  const g = new Guard();
  const doc = readTrustPolicy(g, value, 'trustPolicy');
  if (!doc || !g.ok) throw new Error(g.problems.join('; '));
  return doc;
}
function problems(value: unknown): string[] {
  const g = new Guard();
  const doc = readTrustPolicy(g, value, 'trustPolicy');
  expect(doc).toBeUndefined();
  return g.problems;
}
const statement = (over: Record<string, unknown> = {}) => ({
  name: 's',
  registryScopes: ['registry.example.com/team/app'],
  signatureVerification: { level: 'strict' },
  trustStores: ['ca:acme'],
  trustedIdentities: [ID],
  ...over,
});
const doc = (...statements: unknown[]) => ({ version: '1.0', trustPolicies: statements.length ? statements : [statement()] });

describe('accepted as notation accepts them', () => {
  it.each(['spec-example-1.json', 'spec-example-2.json', 'spec-example-3.json', 'notation-go-dummy.json'])('%s, as JSON text and as an object', (name) => {
    const text = fixture(name);
    expect(read(text)).toEqual(read(JSON.parse(text)));
  });

  it('compiles the specification\'s example 2: scopes, levels, override, skip, stores, identities', () => {
    const d = read(fixture('spec-example-2.json'));
    expect(d.statements.map((s) => s.name)).toEqual(['wabbit-networks-images', 'unsigned-image', 'use-expired-image', 'global-policy-for-all-other-images']);
    const [strict, skip, custom, wildcard] = d.statements;
    expect(strict!.signatureVerification).toEqual({
      level: 'strict',
      actions: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'enforce', expiry: 'enforce', revocation: 'enforce' },
      verifyTimestamp: 'always',
    });
    expect(strict!.trustedIdentities).toEqual([
      { text: 'x509.subject: C=US, ST=WA, L=Seattle, O=wabbit-networks.io, OU=Security Tools', attributes: [{ type: 'C', value: 'US' }, { type: 'ST', value: 'WA' }, { type: 'L', value: 'Seattle' }, { type: 'O', value: 'wabbit-networks.io' }, { type: 'OU', value: 'Security Tools' }] },
    ]);
    expect(skip).toMatchObject({ registryScopes: ['registry.wabbit-networks.io/software/unsigned/net-utils'], trustStores: [], trustedIdentities: [] });
    expect(skip!.signatureVerification.actions).toEqual({ integrity: 'skip', authenticity: 'skip', authenticTimestamp: 'skip', expiry: 'skip', revocation: 'skip' });
    expect(custom!.signatureVerification.actions).toEqual({ integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'enforce', expiry: 'log', revocation: 'skip' });
    expect(custom!.trustedIdentities).toBe('*');
    expect(wildcard).toMatchObject({ registryScopes: ['*'], trustStores: [{ type: 'ca', name: 'acme-rockets' }, { type: 'ca', name: 'acme-rockets-ca2' }] });
    expect(wildcard!.signatureVerification.actions).toEqual({ integrity: 'enforce', authenticity: 'log', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' });
  });

  it('reads each level as notation-go defines it (LevelStrict … LevelSkip)', () => {
    const actions = (level: string) => read(doc(statement({ signatureVerification: { level }, ...(level === 'skip' ? { trustStores: undefined, trustedIdentities: undefined } : {}) }))).statements[0]!.signatureVerification.actions;
    expect(actions('permissive')).toEqual({ integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' });
    expect(actions('audit')).toEqual({ integrity: 'enforce', authenticity: 'log', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' });
  });

  it('reads verifyTimestamp, tsa stores, ports in scopes, and null lists as absent (as Go decodes them)', () => {
    const d = read(fixture('spec-example-3.json'));
    expect(d.statements[0]!.signatureVerification.verifyTimestamp).toBe('afterCertExpiry');
    expect(d.statements[0]!.trustStores).toContainEqual({ type: 'tsa', name: 'trusted-tsa' });
    expect(read(doc(statement({ registryScopes: ['localhost:5000/a__b/c-d.e_f/g--h'] }))).statements[0]!.registryScopes).toEqual(['localhost:5000/a__b/c-d.e_f/g--h']);
    expect(read(doc(statement({ signatureVerification: { level: 'skip' }, trustStores: null, trustedIdentities: null }))).statements[0]!.trustStores).toEqual([]);
  });

  it('may raise a logged check back to enforce, and log authenticity as audit does', () => {
    const s = read(doc(statement({ signatureVerification: { level: 'audit', override: { authenticity: 'enforce', expiry: 'enforce' } } }))).statements[0]!;
    expect(s.signatureVerification).toMatchObject({ level: 'audit', actions: { authenticity: 'enforce', expiry: 'enforce', revocation: 'log' } });
    const t = read(doc(statement({ signatureVerification: { level: 'strict', override: { authenticity: 'log', authenticTimestamp: 'log' } } }))).statements[0]!;
    expect(t.signatureVerification.actions).toMatchObject({ authenticity: 'log', authenticTimestamp: 'log', integrity: 'enforce' });
  });
});

describe('refused as notation refuses them, each with its path', () => {
  it.each<[string, unknown, string]>([
    ['no version', { trustPolicies: [statement()] }, 'trustPolicy.version: missing: must be "1.0"'],
    ['another version', { version: '2.0', trustPolicies: [statement()] }, 'trustPolicy.version: must be the string "1.0", the version notation supports'],
    ['a YAML number for the version', { version: 1.0, trustPolicies: [statement()] }, 'trustPolicy.version: must be the string "1.0", the version notation supports (quote it in YAML: version: "1.0")'],
    ['no statements', { version: '1.0', trustPolicies: [] }, 'trustPolicy.trustPolicies: must list at least one statement'],
    ['two statements of one name', doc(statement(), statement({ registryScopes: ['r.io/b'] })), 'trustPolicy.trustPolicies[1].name: "s" names statement 0 too: statement names must be unique'],
    ['an empty name', doc(statement({ name: '' })), 'trustPolicy.trustPolicies[0].name: must not be empty: every statement needs a name'],
    ['no level', doc(statement({ signatureVerification: {} })), 'trustPolicy.trustPolicies[0].signatureVerification.level: missing: one of strict, permissive, audit, skip'],
    ['an unknown level', doc(statement({ signatureVerification: { level: 'lenient' } })), 'trustPolicy.trustPolicies[0].signatureVerification.level: expected one of strict, permissive, audit, skip'],
    ['integrity overridden', doc(statement({ signatureVerification: { level: 'strict', override: { integrity: 'log' } } })), 'trustPolicy.trustPolicies[0].signatureVerification.override.integrity: integrity cannot be overridden: it is what every level but skip checks'],
    ['authenticity skipped', doc(statement({ signatureVerification: { level: 'strict', override: { authenticity: 'skip' } } })), 'trustPolicy.trustPolicies[0].signatureVerification.override.authenticity: authenticity cannot be skipped, only logged (revocation alone may be skip)'],
    ['expiry skipped', doc(statement({ signatureVerification: { level: 'permissive', override: { expiry: 'skip' } } })), 'trustPolicy.trustPolicies[0].signatureVerification.override.expiry: expiry cannot be skipped, only logged (revocation alone may be skip)'],
    ['an unknown validation', doc(statement({ signatureVerification: { level: 'strict', override: { freshness: 'log' } } })), 'trustPolicy.trustPolicies[0].signatureVerification.override.freshness: unknown validation: expected one of integrity, authenticity, authenticTimestamp, expiry, revocation'],
    ['an unknown action', doc(statement({ signatureVerification: { level: 'strict', override: { expiry: 'warn' } } })), 'trustPolicy.trustPolicies[0].signatureVerification.override.expiry: expected one of enforce, log, skip'],
    ['override of skip', doc(statement({ signatureVerification: { level: 'skip', override: { revocation: 'skip' } }, trustStores: [], trustedIdentities: [] })), 'trustPolicy.trustPolicies[0].signatureVerification.override: level skip checks nothing, so nothing can be overridden'],
    ['a bad verifyTimestamp', doc(statement({ signatureVerification: { level: 'strict', verifyTimestamp: 'never' } })), 'trustPolicy.trustPolicies[0].signatureVerification.verifyTimestamp: expected one of always, afterCertExpiry'],
    ['skip with trust stores', doc(statement({ signatureVerification: { level: 'skip' }, trustedIdentities: [] })), 'trustPolicy.trustPolicies[0]: level skip verifies no signature: remove trustStores and trustedIdentities'],
    ['skip with identities', doc(statement({ signatureVerification: { level: 'skip' }, trustStores: [] })), 'trustPolicy.trustPolicies[0]: level skip verifies no signature: remove trustStores and trustedIdentities'],
    ['strict without stores', doc(statement({ trustStores: [] })), 'trustPolicy.trustPolicies[0].trustStores: level strict needs at least one trust store ("ca:<name>", "signingAuthority:<name>")'],
    ['audit without identities', doc(statement({ signatureVerification: { level: 'audit' }, trustedIdentities: undefined })), 'trustPolicy.trustPolicies[0].trustedIdentities: level audit needs trusted identities ("x509.subject: C=…, ST=…, O=…", or "*")'],
    ['a store without type', doc(statement({ trustStores: ['acme'] })), 'trustPolicy.trustPolicies[0].trustStores[0]: "acme" is not <type>:<name> (e.g. ca:acme)'],
    ['an unknown store type', doc(statement({ trustStores: ['hola:valid-ts'] })), 'trustPolicy.trustPolicies[0].trustStores[0]: "hola:valid-ts": unknown trust store type "hola" (expected ca, signingAuthority, tsa)'],
    ['a store name off [a-zA-Z0-9_.-]+', doc(statement({ trustStores: ['ca:#@$@$'] })), 'trustPolicy.trustPolicies[0].trustStores[0]: "ca:#@$@$": a store name is [a-zA-Z0-9_.-]+ (and not "." or "..")'],
    ['a store named ..', doc(statement({ trustStores: ['ca:..'] })), 'trustPolicy.trustPolicies[0].trustStores[0]: "ca:..": a store name is [a-zA-Z0-9_.-]+ (and not "." or "..")'],
    ['no scopes', doc(statement({ registryScopes: [] })), 'trustPolicy.trustPolicies[0].registryScopes: must list at least one registry scope ("host[:port]/repository", or "*")'],
    ['* with another scope', doc(statement({ registryScopes: ['*', 'r.io/a'] })), 'trustPolicy.trustPolicies[0].registryScopes[0]: the wildcard scope "*" stands alone: it cannot be listed with other scopes'],
    ['* in two statements', doc(statement({ registryScopes: ['*'] }), statement({ name: 't', registryScopes: ['*'] })), 'trustPolicy.trustPolicies[1].registryScopes[0]: "*" is a scope of statement 0 too: a scope belongs to one statement'],
    ['one scope in two statements', doc(statement(), statement({ name: 't' })), 'trustPolicy.trustPolicies[1].registryScopes[0]: "registry.example.com/team/app" is a scope of statement 0 too: a scope belongs to one statement'],
    ['one scope twice', doc(statement({ registryScopes: ['r.io/a', 'r.io/a'] })), 'trustPolicy.trustPolicies[0].registryScopes[1]: "r.io/a" is listed twice'],
    ['a wildcard in a scope', doc(statement({ registryScopes: ['registry.example.com/team/*'] })), 'trustPolicy.trustPolicies[0].registryScopes[0]: "registry.example.com/team/*" has a wildcard: scopes are exact repositories; write a repository without scheme, tag or digest, e.g. registry.example.com/team/app (or "*" alone)'],
    ['a tag in a scope', doc(statement({ registryScopes: ['registry.example.com/app:1.0'] })), 'trustPolicy.trustPolicies[0].registryScopes[0]: "registry.example.com/app:1.0" is not a valid registry scope: write a repository without scheme, tag or digest, e.g. registry.example.com/team/app (or "*" alone)'],
    ['a host alone', doc(statement({ registryScopes: ['registry.example.com'] })), 'trustPolicy.trustPolicies[0].registryScopes[0]: "registry.example.com" is not host/repository: write a repository without scheme, tag or digest, e.g. registry.example.com/team/app (or "*" alone)'],
    ['* with another identity', doc(statement({ trustedIdentities: ['*', ID] })), 'trustPolicy.trustPolicies[0].trustedIdentities: the wildcard identity "*" stands alone: it cannot be listed with other identities'],
    ['an empty identity', doc(statement({ trustedIdentities: [''] })), 'trustPolicy.trustPolicies[0].trustedIdentities[0]: must not be empty'],
    ['an identity without prefix', doc(statement({ trustedIdentities: ['x509.subject'] })), 'trustPolicy.trustPolicies[0].trustedIdentities[0]: "x509.subject" has no "x509.subject:" prefix'],
    ['an identity of a plugin', doc(statement({ trustedIdentities: ['x509.subject.v2: C=US'] })), 'trustPolicy.trustPolicies[0].trustedIdentities[0]: "x509.subject.v2": only x509.subject identities are supported (notation\'s verification plugins are not)'],
    ['an empty DN', doc(statement({ trustedIdentities: ['x509.subject:'] })), 'trustPolicy.trustPolicies[0].trustedIdentities[0]: x509.subject without a distinguished name'],
    ['a DN without ST', doc(statement({ trustedIdentities: ['x509.subject: C=US, O=acme'] })), 'trustPolicy.trustPolicies[0].trustedIdentities[0]: "x509.subject: C=US, O=acme" has no ST: a trusted identity must name C, ST (or S) and O at least'],
    ['overlapping identities', doc(statement({ trustedIdentities: [ID, `${ID}, CN=builder`] })), `trustPolicy.trustPolicies[0].trustedIdentities[0]: "${ID}" overlaps "${ID}, CN=builder" (every subject the second admits, the first does too): keep one`],
    ['an identity twice', doc(statement({ trustedIdentities: [ID, ID] })), `trustPolicy.trustPolicies[0].trustedIdentities[0]: "${ID}" overlaps "${ID}" (every subject the second admits, the first does too): keep one`],
    ['text that is not JSON', '{"version": "1.0",', 'trustPolicy: is not JSON (a trustpolicy.json document)'],
  ])('%s', (_what, value, problem) => {
    expect(problems(value)).toContain(problem);
  });

  it('refuses unknown fields, where Go\'s encoding/json would ignore them (docs/policy.md says why)', () => {
    expect(problems({ ...doc(), Version: '1.0' })).toEqual(['trustPolicy.Version: unknown field']);
    expect(problems(doc(statement({ trustedIdentity: [ID] })))).toContain('trustPolicy.trustPolicies[0].trustedIdentity: unknown field');
    expect(problems(doc(statement({ signatureVerification: { level: 'strict', overide: { expiry: 'log' } } })))).toEqual(['trustPolicy.trustPolicies[0].signatureVerification.overide: unknown field']);
    // A blob trust policy (trustpolicy.blob.json) is not an OCI one.
    expect(problems(doc(statement({ registryScopes: undefined, globalPolicy: true })))).toContain('trustPolicy.trustPolicies[0].globalPolicy: unknown field');
  });

  it('refuses wrong types with the path, as Go\'s decoder refuses the document', () => {
    expect(problems({ version: '1.0', trustPolicies: {} })).toEqual(['trustPolicy.trustPolicies: expected an array']);
    expect(problems(doc(statement({ trustStores: 'ca:acme' })))).toContain('trustPolicy.trustPolicies[0].trustStores: expected an array');
    expect(problems(doc(statement({ registryScopes: [7] })))).toContain('trustPolicy.trustPolicies[0].registryScopes[0]: expected a string');
    expect(problems([])).toEqual(['trustPolicy: expected an object']);
  });
});

describe('distinguished names, as notation-go pkix.go on go-ldap ParseDN', () => {
  const dn = (text: string) => parseDistinguishedName(text);
  it('trims spaces, reads S as ST, and keeps escapes as go-ldap decodes them', () => {
    expect(dn(' C = US ,S=WA;O=acme\\, inc.')).toEqual([{ type: 'C', value: 'US' }, { type: 'ST', value: 'WA' }, { type: 'O', value: 'acme, inc.' }]);
    expect(dn('C=US,ST=WA,O=caf\\C3\\A9')).toEqual([{ type: 'C', value: 'US' }, { type: 'ST', value: 'WA' }, { type: 'O', value: 'café' }]);
    expect(dn('C=US,ST=WA,O=a\\ ')).toContainEqual({ type: 'O', value: 'a ' });
    expect(dn('C=US,ST=WA,O=a=b')).toContainEqual({ type: 'O', value: 'a=b' });
  });

  it('refuses what notation refuses: multi-valued RDNs, BER values, repeated attributes, missing C/ST/O', () => {
    expect(dn('C=US+ST=WA,O=acme')).toBe('has a multi-valued RDN ("+"), which notation does not support');
    expect(dn('C=US,ST=WA,O=#0403616263')).toBe('values written as BER hex ("=#") are not supported, as in notation');
    expect(dn('C=US,ST=WA,O=acme,O=evil')).toBe('names O twice: each attribute at most once');
    expect(dn('C=US,S=WA,ST=OR,O=acme')).toBe('names ST twice: each attribute at most once');
    expect(dn('C=US,ST=WA,O=')).toBe('has no O: a trusted identity must name C, ST (or S) and O at least');
    expect(dn('c=US,st=WA,o=acme')).toBe('has no C, ST, O: a trusted identity must name C, ST (or S) and O at least');
    expect(dn('C=US,,ST=WA,O=a')).toBe('is not an RFC 4514 distinguished name: an attribute without a type (incomplete type, value pair)');
    expect(dn('C=US,ST=WA,O=a,')).toBe('is not an RFC 4514 distinguished name: ends with an attribute without a type (incomplete type, value pair)');
    expect(dn('C=US,ST=WA,O=a\\')).toBe('is not an RFC 4514 distinguished name: a "\\" that escapes nothing in "a\\"');
    expect(dn('C=US,ST=WA,O=a\\zz')).toBe('is not an RFC 4514 distinguished name: "\\zz" is neither an escaped special character nor two hex digits');
    expect(dn('C=US,ST=WA,O=\\ff')).toBe('is not an RFC 4514 distinguished name: hex escapes that are not UTF-8');
  });

  it('keeps notation\'s quirk: an empty first value may be repeated, and OU= asks for a subject without OU', () => {
    const id = dn('C=US,ST=WA,O=acme,OU=,OU=eng');
    expect(id).toContainEqual({ type: 'OU', value: 'eng' });
    const noOu = dn('C=US,ST=WA,O=acme,OU=') as { type: string; value: string }[];
    expect(isSubsetDn(noOu, [{ type: 'C', value: 'US' }, { type: 'ST', value: 'WA' }, { type: 'O', value: 'acme' }])).toBe(true);
    expect(isSubsetDn(noOu, [{ type: 'C', value: 'US' }, { type: 'ST', value: 'WA' }, { type: 'O', value: 'acme' }, { type: 'OU', value: 'x' }])).toBe(false);
  });

  it('cannot be made to match another organisation by escaping a separator into a value', () => {
    // "O=evil\, O=acme" is one O whose value contains ", O=acme": it matches no subject of acme.
    const injected = dn('C=US,ST=WA,O=evil\\, O=acme') as { type: string; value: string }[];
    expect(injected).toContainEqual({ type: 'O', value: 'evil, O=acme' });
    expect(isSubsetDn(injected, [{ type: 'C', value: 'US' }, { type: 'ST', value: 'WA' }, { type: 'O', value: 'acme' }])).toBe(false);
  });
});

describe('bounds', () => {
  it('refuses more statements than the bound before reading any', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => statement({ name: `s${i}`, registryScopes: [`r.io/a${i}`] }));
    const started = performance.now();
    expect(problems({ version: '1.0', trustPolicies: many })).toEqual([`trustPolicy.trustPolicies: more than ${TRUST_POLICY_LIMITS.statements} statements`]);
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('refuses JSON text past its length before parsing it', () => {
    expect(problems(`${' '.repeat(TRUST_POLICY_LIMITS.length)}{}`)).toEqual([`trustPolicy: longer than ${TRUST_POLICY_LIMITS.length} characters`]);
  });
});

describe('scopes name repositories as trustgate names images', () => {
  it('are canonicalised as image names are, so every spelling of one repository meets one statement', () => {
    const scopes = (registryScopes: string[]) => read(doc(statement({ registryScopes }))).statements[0]!.registryScopes;
    expect(scopes(['Registry.Example.com:443/team/app', 'docker.io/nginx', 'index.docker.io/library/redis', 'localhost:5000/app'])).toEqual([
      'registry.example.com/team/app', 'docker.io/library/nginx', 'docker.io/library/redis', 'localhost:5000/app',
    ]);
  });

  it('refuses two spellings of one repository in two statements, and a port trustgate refuses in images', () => {
    expect(problems(doc(statement(), statement({ name: 't', registryScopes: ['REGISTRY.example.com/team/app'] })))).toEqual([
      'trustPolicy.trustPolicies[1].registryScopes[0]: "registry.example.com/team/app" is a scope of statement 0 too: a scope belongs to one statement',
    ]);
    expect(problems(doc(statement({ registryScopes: ['registry.example.com:80/app'] })))[0]).toMatch(/^trustPolicy.trustPolicies\[0\].registryScopes\[0\]: "registry.example.com:80\/app": .*port 80 is refused/);
  });
});
