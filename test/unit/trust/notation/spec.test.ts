// The Notation authority of a policy, the CLI's notationSpecOf, and trust stores as notation-go
// loads them (verifier/truststore/truststore.go), with notation-go's own test certificates.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Guard } from '../../../../src/shared/guard.js';
import {
  NOTATION_AUTHORITY,
  NOTATION_AUTHORITY_SCHEMA,
  NOTATION_SPEC_LIMITS,
  notationSpecOf,
  parseNotationAuthority,
  readCertificates,
  TRUST_STORE_LIMITS,
  type NotationSpec,
} from '../../../../src/trust/notation/index.js';

const CERTS = 'test/fixtures/notation/policy/certs';
const pem = (name: string): string => readFileSync(`${CERTS}/${name}`, 'utf8');
const der = (name: string): Buffer => readFileSync(`${CERTS}/${name}`);
const ROOT = pem('ca_valid-trust-store_NotationTestRoot.pem');
const GLOBALSIGN = pem('ca_valid-trust-store_GlobalSignRootCA.crt');
const SELF_SIGNED_LEAF = pem('ca_valid-trust-store_wabbit-networks.io.crt');
const NON_CA_LEAF = pem('ca_trust-store-with-leaf-certs_non-ca.crt');
const ID = 'x509.subject: C=US, ST=WA, O=Notary';
const PATH = 'spec.authorities[0].notation';

const statement = (over: Record<string, unknown> = {}) => ({
  name: 'acme',
  registryScopes: ['registry.example.com/team/app'],
  signatureVerification: { level: 'strict' },
  trustStores: ['ca:acme'],
  trustedIdentities: [ID],
  ...over,
});
const policy = (...statements: unknown[]) => ({ version: '1.0', trustPolicies: statements.length ? statements : [statement()] });
const authority = (over: Record<string, unknown> = {}) => ({ trustPolicy: policy(), trustStores: [{ name: 'ca:acme', certificates: ROOT }], ...over });

function spec(value: unknown): NotationSpec {
  const result = parseNotationAuthority(value, PATH);
  if ('problems' in result) throw new Error(result.problems.join('; '));
  return result.spec;
}
function problems(value: unknown): string[] {
  const result = parseNotationAuthority(value, PATH);
  return 'problems' in result ? result.problems : [];
}

describe('parseNotationAuthority', () => {
  it('compiles the trust policy, its stores and the registry connection', () => {
    const s = spec(authority());
    expect(s.kind).toBe('notation');
    expect(s.trustPolicy.statements[0]!.name).toBe('acme');
    expect([...s.trustStores.keys()]).toEqual(['ca:acme']);
    expect(s.trustStores.get('ca:acme')!.certificates.map((c) => c.subject)).toEqual([expect.stringContaining('CN=Notation Test Root')]);
    expect(s.registry).toEqual({ insecure: false, caBundle: undefined });
    expect(s.key).toMatch(/^notation:[0-9a-f]{64}$/);
    expect(Object.isFrozen(s)).toBe(true);
  });

  it('takes the trust policy as JSON text too, with the same key', () => {
    expect(spec(authority({ trustPolicy: JSON.stringify(policy()) })).key).toBe(spec(authority()).key);
  });

  it('keys on everything that decides an answer, and on nothing else', () => {
    const key = spec(authority()).key;
    expect(spec(authority({ trustStores: [{ name: 'ca:acme', certificates: `# a comment\n${ROOT}` }] })).key).toBe(key);
    expect(spec(authority({ trustStores: [{ name: 'ca:acme', certificates: `${ROOT}\n${GLOBALSIGN}` }] })).key).not.toBe(key);
    expect(spec(authority({ trustPolicy: policy(statement({ signatureVerification: { level: 'permissive' } })) })).key).not.toBe(key);
    expect(spec(authority({ trustPolicy: policy(statement({ signatureVerification: { level: 'strict', override: { revocation: 'skip' } } })) })).key).not.toBe(key);
    expect(spec(authority({ trustPolicy: policy(statement({ trustedIdentities: ['x509.subject: C=US, ST=WA, O=Other'] })) })).key).not.toBe(key);
    expect(spec(authority({ trustPolicy: policy(statement({ registryScopes: ['registry.example.com/team/other'] })) })).key).not.toBe(key);
    expect(spec(authority({ registry: { insecure: true } })).key).not.toBe(key);
  });

  it('reads every store type a statement names, and refs nowhere but in a cluster', () => {
    const s = spec(authority({
      trustPolicy: policy(statement({ trustStores: ['ca:acme', 'signingAuthority:ops', 'tsa:stamp'] })),
      trustStores: [
        { name: 'ca:acme', certificates: ROOT },
        { name: 'signingAuthority:ops', certificates: SELF_SIGNED_LEAF },
        { name: 'tsa:stamp', certificates: pem('ca_valid-trust-store_GlobalSignRootCA.crt') },
      ],
    }));
    expect([...s.trustStores.keys()]).toEqual(['ca:acme', 'signingAuthority:ops', 'tsa:stamp']);
    expect(problems(authority({ trustStores: [{ name: 'ca:acme', configMapRef: { name: 'acme' } }] }))).toEqual([
      `${PATH}.trustStores[0].configMapRef: configMapRef was not resolved: trustgate reads it only in a cluster, from its own namespace, and only when labelled trustgate.dev/trust-store: "true"; where no cluster is read (policies.files, the CLI) give the PEM in certificates`,
    ]);
    expect(problems(authority({ trustStores: [{ name: 'ca:acme', secretRef: { name: 'acme' } }] }))[0]).toMatch(/trustStores\[0\]\.secretRef: secretRef was not resolved: trustgate reads it only in a cluster/);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['no trust policy', { trustPolicy: undefined }, `${PATH}.trustPolicy: missing: a trustpolicy.json document (object, or its JSON text)`],
    ['an unknown field', { keys: [] }, `${PATH}.keys: unknown field`],
    ['a named store not given', { trustStores: [] }, `${PATH}.trustStores: statement "acme" names trust store ca:acme, which is not given: add {name: ca:acme, certificates: …}`],
    ['a store named by no statement', { trustStores: [{ name: 'ca:acme', certificates: ROOT }, { name: 'ca:spare', certificates: GLOBALSIGN }] }, `${PATH}.trustStores[1].name: ca:spare is named by no statement of the trust policy: remove it, or name it in trustStores of a statement`],
    ['a store given twice', { trustStores: [{ name: 'ca:acme', certificates: ROOT }, { name: 'ca:acme', certificates: GLOBALSIGN }] }, `${PATH}.trustStores[1].name: ca:acme is given twice (also trustStores[0])`],
    ['a store name off the format', { trustStores: [{ name: 'acme', certificates: ROOT }] }, `${PATH}.trustStores[0].name: "acme" is not <type>:<name> (e.g. ca:acme)`],
    ['certificates and a ref', { trustStores: [{ name: 'ca:acme', certificates: ROOT, configMapRef: { name: 'x' } }] }, `${PATH}.trustStores[0]: give exactly one of certificates (PEM), configMapRef or secretRef`],
    ['a leaf that is neither CA nor self-signed', { trustStores: [{ name: 'ca:acme', certificates: NON_CA_LEAF }] }, `${PATH}.trustStores[0].certificates: certificate 1 (C=US, ST=WA, L=Seattle, O=Notary, CN=wabbit-networks.io) is neither a CA certificate nor self-signed: notation refuses it in a trust store`],
    ['insecure with a CA bundle', { registry: { insecure: true, caBundle: ROOT } }, `${PATH}.registry: insecure (plain HTTP) and caBundle (TLS) contradict each other`],
  ])('refuses %s', (_what, over, problem) => {
    expect(problems(authority(over))).toContain(problem);
  });

  it('refuses an authority whose every statement is skip: it anchors no one', () => {
    const skip = statement({ signatureVerification: { level: 'skip' }, trustStores: undefined, trustedIdentities: undefined, registryScopes: ['*'] });
    expect(problems({ trustPolicy: policy(skip) })).toEqual([
      `${PATH}.trustPolicy: every statement is level skip, so this authority trusts no one: a verify policy must name whose signatures count (for images that need no signature, use a policy with action: allow)`,
    ]);
    // A skip statement beside one that verifies is notation's usual exception, and is kept.
    const s = spec(authority({ trustPolicy: policy(statement(), { ...skip, name: 'rest' }) }));
    expect(s.trustPolicy.statements.map((x) => x.signatureVerification.level)).toEqual(['strict', 'skip']);
  });

  it('counts certificates, scopes and identities without parsing them, for the namespace budget', () => {
    const cost = NOTATION_AUTHORITY.rawCost({
      trustPolicy: policy(statement({ trustedIdentities: [ID, 'x509.subject: C=US, ST=OR, O=Other'] })),
      trustStores: [{ name: 'ca:acme', certificates: `${ROOT}${GLOBALSIGN}${ROOT}` }, { name: 'ca:b', configMapRef: { name: 'b' } }],
    });
    // 3 PEM blocks, 1 unresolved reference, 2 identities, 1 scope.
    expect(cost).toEqual({ keys: 3 + 1 + 2 + 1, patternStates: 0, trustedRoots: [] });
    // JSON text: its x509.subject identities, and at least one key per 512 characters.
    expect(NOTATION_AUTHORITY.rawKeyCount({ trustPolicy: JSON.stringify(policy()), trustStores: [{ certificates: 'garbage' }] })).toBe(1);
    const padded = JSON.stringify(policy(statement({ name: 'x'.repeat(200), registryScopes: Array.from({ length: 40 }, (_, i) => `r.io/a${i}`) })));
    expect(NOTATION_AUTHORITY.rawKeyCount({ trustPolicy: padded })).toBe(Math.ceil(padded.length / 512));
    expect(NOTATION_AUTHORITY.rawKeyCount('nonsense')).toBe(0);
  });

  it('chooses its own connection with a CA bundle or plain HTTP, as cosign\'s', () => {
    expect(NOTATION_AUTHORITY.choosesConnection(spec(authority()))).toBe(false);
    expect(NOTATION_AUTHORITY.choosesConnection(spec(authority({ registry: { insecure: true } })))).toBe(true);
    expect(NOTATION_AUTHORITY.choosesConnection(spec(authority({ registry: { caBundle: ROOT } })))).toBe(true);
  });

  it('reports on the policy\'s Guard, with the kind registered among the policy\'s authorities', () => {
    const g = new Guard();
    expect(NOTATION_AUTHORITY.parse(g, authority({ trustStores: [] }), PATH)).toBeUndefined();
    expect(g.problems).toHaveLength(1);
  });
});

describe('trust stores as notation-go loads them', () => {
  const read = (value: unknown) => {
    const g = new Guard();
    const certs = readCertificates(g, value, 'x');
    return { certs, problems: g.problems };
  };

  it('reads PEM and DER (as notation-core-go ReadCertificateFile), and one certificate given twice once', () => {
    expect(read(GLOBALSIGN).certs).toHaveLength(1);
    expect(read(der('ca_valid-trust-store_GlobalSign.der')).certs!.map((c) => c.fingerprint256)).toEqual(read(GLOBALSIGN).certs!.map((c) => c.fingerprint256));
    expect(read(Buffer.from(`${ROOT}\n${ROOT}\n${GLOBALSIGN}`)).certs).toHaveLength(2);
    expect(read(Buffer.concat([der('tsa_test-timestamp_globalsignRoot.cer'), der('ca_valid-trust-store_GlobalSign.der')])).certs).toHaveLength(2);
  });

  it('refuses what is not a certificate, never echoing it', () => {
    const key = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n';
    expect(read(`${ROOT}${key}`).problems).toEqual(['x: PEM block 2 is a PRIVATE KEY, not a CERTIFICATE: a trust store holds certificates only']);
    expect(read('just text').problems).toEqual(['x: holds no PEM certificate (-----BEGIN CERTIFICATE-----)']);
    expect(read('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n').problems).toEqual(['x: certificate 1 is not an X.509 certificate']);
    expect(read(ROOT.replace('-----END CERTIFICATE-----', '')).problems).toEqual(['x: has a -----BEGIN line without its matching -----END line']);
    expect(read(Buffer.from([0x30, 0x82, 0xff, 0xff, 1, 2])).problems).toEqual(['x: is neither PEM nor DER certificates']);
    expect(read(Buffer.concat([der('ca_valid-trust-store_GlobalSign.der'), Buffer.from([0x30, 0x00])])).problems).toEqual(['x: certificate 2 is not an X.509 certificate']);
    expect(read(7).problems).toEqual(['x: expected PEM certificates']);
  });

  it('holds a tsa store to root CA certificates (truststore.go isRootCACertificate)', () => {
    const tsa = (certificates: string) => problems(authority({
      trustPolicy: policy(statement({ trustStores: ['ca:acme', 'tsa:stamp'] })),
      trustStores: [{ name: 'ca:acme', certificates: ROOT }, { name: 'tsa:stamp', certificates }],
    }));
    expect(tsa(pem('ca_valid-trust-store_GlobalSignRootCA.crt'))).toEqual([]);
    const derPem = (name: string) => `-----BEGIN CERTIFICATE-----\n${der(name).toString('base64')}\n-----END CERTIFICATE-----\n`;
    expect(tsa(derPem('tsa_test-timestamp_globalsignRoot.cer'))).toEqual([]);
    expect(tsa(pem('tsa_test-nonCA_wabbit-networks.io.crt'))).toEqual([`${PATH}.trustStores[1].certificates: certificate 1 (C=US, ST=WA, L=Seattle, O=Notary, CN=wabbit-networks.io) is not a CA certificate: a tsa store holds root CA certificates only`]);
    expect(tsa(derPem('tsa_test-nonSelfIssued_nonSelfIssued.crt'))).toEqual([`${PATH}.trustStores[1].certificates: certificate 1 (C=US, ST=WA, L=Seattle, O=Notary, CN=Notation Test Revokable RSA Chain Cert 2) is not self-issued (subject and issuer differ): a tsa store holds root CA certificates only`]);
  });

  it('takes a v1 self-signed root for a tsa store, as Go asks no extensions of a v1 certificate', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'notation-v1-'));
    try {
      const f = (n: string) => path.join(dir, n);
      execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('k.pem'), '-subj', '/CN=v1 root/O=x', '-out', f('r.csr')], { stdio: 'ignore' });
      // `x509 -req` without extensions writes a version 1 certificate.
      execFileSync('openssl', ['x509', '-req', '-in', f('r.csr'), '-key', f('k.pem'), '-days', '30', '-out', f('v1.pem')], { stdio: 'ignore' });
      const v1 = readFileSync(f('v1.pem'), 'utf8');
      expect(execFileSync('openssl', ['x509', '-in', f('v1.pem'), '-noout', '-text'], { encoding: 'utf8' })).toContain('Version: 1 (0x0)');
      const result = parseNotationAuthority({
        trustPolicy: policy(statement({ trustStores: ['ca:acme', 'tsa:stamp'] })),
        trustStores: [{ name: 'ca:acme', certificates: ROOT }, { name: 'tsa:stamp', certificates: v1 }],
      }, PATH);
      expect(result).toHaveProperty('spec');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a self-signed leaf signed with SHA-1, whose signature Go will not check', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'notation-sha1-'));
    try {
      const f = (n: string) => path.join(dir, n);
      const make = (digest: string) => {
        execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', `-${digest}`, '-nodes', '-keyout', f('k.pem'), '-subj', '/CN=leaf/O=x', '-days', '30', '-addext', 'basicConstraints=critical,CA:FALSE', '-out', f(`${digest}.pem`)], { stdio: 'ignore' });
        return readFileSync(f(`${digest}.pem`), 'utf8');
      };
      expect(problems(authority({ trustStores: [{ name: 'ca:acme', certificates: make('sha256') }] }))).toEqual([]);
      expect(problems(authority({ trustStores: [{ name: 'ca:acme', certificates: make('sha1') }] }))).toEqual([`${PATH}.trustStores[0].certificates: certificate 1 (CN=leaf, O=x) is neither a CA certificate nor self-signed: notation refuses it in a trust store`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a store holding a leaf beside its root (trust-store-with-leaf-certs-in-single-file)', () => {
    expect(problems(authority({ trustStores: [{ name: 'ca:acme', certificates: pem('ca_trust-store-with-leaf-certs-in-single-file_RootAndLeafCerts.crt') }] }))[0]).toMatch(/certificate \d \(.*CN=wabbit-networks.io\) is neither a CA certificate nor self-signed/);
  });

  it('bounds certificates per store and per authority, counted before parsing', () => {
    expect(read(ROOT.repeat(TRUST_STORE_LIMITS.certificates + 1)).problems).toEqual([`x: more than ${TRUST_STORE_LIMITS.certificates} certificates`]);
    const stores = Array.from({ length: 5 }, (_, i) => ({ name: `ca:s${i}`, certificates: ROOT.repeat(60) }));
    expect(problems(authority({ trustStores: stores }))).toEqual([`${PATH}.trustStores: more than ${NOTATION_SPEC_LIMITS.certificates} certificates in all`]);
    expect(read('x'.repeat(TRUST_STORE_LIMITS.length + 1)).problems).toEqual([`x: longer than ${TRUST_STORE_LIMITS.length} characters`]);
  });
});

describe('notationSpecOf (the CLI\'s files)', () => {
  const REGISTRY = { insecure: false, caBundle: undefined };
  it('compiles a trustpolicy.json text and the stores it names, ignoring the others as notation does', () => {
    const result = notationSpecOf(JSON.stringify(policy()), [
      { ref: { type: 'ca', name: 'acme' }, pem: ROOT },
      { ref: { type: 'ca', name: 'unused' }, pem: 'not even PEM' },
    ], REGISTRY);
    if ('problems' in result) throw new Error(result.problems.join('; '));
    expect([...result.spec.trustStores.keys()]).toEqual(['ca:acme']);
    expect(result.spec.key).toBe(spec(authority()).key);
  });

  it('joins several files of one store, and names a missing store by its directory', () => {
    const two = notationSpecOf(policy(), [{ ref: { type: 'ca', name: 'acme' }, pem: ROOT }, { ref: { type: 'ca', name: 'acme' }, pem: GLOBALSIGN }], REGISTRY);
    expect('spec' in two && two.spec.trustStores.get('ca:acme')!.certificates).toHaveLength(2);
    expect(notationSpecOf(policy(), [], REGISTRY)).toEqual({ problems: ['x509/ca/acme: trust store ca:acme, named by statement "acme", is not in the trust store directory'] });
    expect(notationSpecOf('{', [], REGISTRY)).toEqual({ problems: ['trustpolicy.json: is not JSON (a trustpolicy.json document)'] });
  });

  it('reads each file of a store, PEM or DER, as notation reads a store directory', () => {
    const result = notationSpecOf(policy(), [
      { ref: { type: 'ca', name: 'acme' }, pem: readFileSync(`${CERTS}/ca_valid-trust-store_GlobalSign.der`) },
      { ref: { type: 'ca', name: 'acme' }, pem: Buffer.from(ROOT) },
      { ref: { type: 'ca', name: 'acme' }, pem: GLOBALSIGN },
    ], REGISTRY);
    if ('problems' in result) throw new Error(result.problems.join('; '));
    // GlobalSign.der and GlobalSignRootCA.crt are one certificate: counted once.
    expect(result.spec.trustStores.get('ca:acme')!.certificates).toHaveLength(2);
  });

  it('accepts a policy of skip statements only: the CLI reports what notation would', () => {
    const skip = statement({ signatureVerification: { level: 'skip' }, trustStores: undefined, trustedIdentities: undefined });
    expect('spec' in notationSpecOf(policy(skip), [], REGISTRY)).toBe(true);
  });
});

describe('the CRD schema', () => {
  it('carries the parser\'s bounds, and keeps trustPolicy whole for the parser to check', () => {
    expect(NOTATION_AUTHORITY_SCHEMA.properties.trustStores.maxItems).toBe(NOTATION_SPEC_LIMITS.trustStores);
    expect(NOTATION_AUTHORITY_SCHEMA.properties.trustStores.items.properties.certificates.maxLength).toBe(TRUST_STORE_LIMITS.length);
    expect(NOTATION_AUTHORITY_SCHEMA.properties.trustPolicy['x-kubernetes-preserve-unknown-fields']).toBe(true);
    expect(new RegExp(NOTATION_AUTHORITY_SCHEMA.properties.trustStores.items.properties.name.pattern).test('signingAuthority:ops')).toBe(true);
  });
});
