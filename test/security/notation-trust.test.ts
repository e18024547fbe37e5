// Trust decisions an attacker would like to bend: a chain from another CA, a trust-store
// certificate presented as the signer, identities tricked by the shape of a subject, a signature
// of one image presented for another, expired signatures, many signatures, and a trust policy
// whose `*` statement would be weaker than the specific one.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseReference } from '../../src/reference/index.js';
import { checkSignature } from '../../src/trust/notation/check.js';
import { MAX_SIGNATURES } from '../../src/trust/notation/limits.js';
import { selectStatement } from '../../src/trust/notation/select.js';
import { NotationVerifier } from '../../src/trust/notation/verifier.js';
import type { NotationSpec } from '../../src/trust/notation/types.js';
import { refusal } from '../support/cosign-verify.js';
import { MemoryRegistry } from '../support/memory-registry.js';
import { dn, identity, makeCert, oid, tlv, makeJws, makePki, pushImage, pushSignature, spec, statement, verification, type Rdn, type Target } from '../support/notation-pki.js';

const REPO = 'team/app';
const NAME = `registry.test:5000/${REPO}`;
const pki = makePki();
const chain = [pki.leaf.der, pki.intermediate.der, pki.root.der];
const target: Target = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 100 };
const verifyWith = (reg: MemoryRegistry, s: NotationSpec) => new NotationVerifier(reg).verify(parseReference(`${NAME}:1.0`), s, { credentials: undefined, signal: new AbortController().signal, timeoutMs: 5000 });

function check(envelope: Buffer, s: NotationSpec, budget = { remaining: 256 }) {
  return checkSignature({ envelope, mediaType: 'application/jose+json', statement: s.trustPolicy.statements[0]!, spec: s, target, now: Date.now(), budget });
}

describe('authenticity', () => {
  it('a chain from another CA with the same subject names is refused (CERTIFICATE_INVALID): trust is by bytes, not names', () => {
    const twin = makePki(); // same DNs, other keys
    const r = check(makeJws({ target, chain: [twin.leaf.der, twin.intermediate.der, twin.root.der], key: twin.leafKey }), spec([statement()], { 'ca:acme': [pki.root.der] }));
    expect(r).toMatchObject({ ok: false, code: 'CERTIFICATE_INVALID' });
  });

  it('a trust store certificate presented as the signing certificate is refused: a CA is no signer', () => {
    const r = check(makeJws({ target, chain: [pki.root.der], key: pki.rootKey }), spec([statement()], { 'ca:acme': [pki.root.der] }));
    expect(r).toMatchObject({ ok: false, code: 'CERTIFICATE_INVALID', reason: expect.stringContaining('CA') });
  });

  it('a leaf issued by the trusted CA but with a TLS server EKU is refused', () => {
    const leaf = makeCert({ subject: dn('C=US,ST=WA,O=Acme,CN=web'), key: pki.leafKey, eku: ['1.3.6.1.5.5.7.3.1'], issuer: { cert: pki.intermediate, key: pki.intermediateKey } });
    const r = check(makeJws({ target, chain: [leaf.der, pki.intermediate.der, pki.root.der], key: pki.leafKey }), spec([statement()], { 'ca:acme': [pki.root.der] }));
    expect(r).toMatchObject({ ok: false, code: 'CERTIFICATE_INVALID', reason: expect.stringContaining('ServerAuth') });
  });

  it('a chain whose intermediate has no CA flag cannot issue a leaf', () => {
    const notCa = makeCert({ subject: dn('C=US,ST=WA,O=Acme,CN=not a CA'), key: pki.intermediateKey, issuer: { cert: pki.root, key: pki.rootKey } });
    const leaf = makeCert({ subject: dn('C=US,ST=WA,O=Acme,CN=leaf'), key: pki.leafKey, issuer: { cert: notCa, key: pki.intermediateKey } });
    expect(check(makeJws({ target, chain: [leaf.der, notCa.der, pki.root.der], key: pki.leafKey }), spec([statement()], { 'ca:acme': [pki.root.der] }))).toMatchObject({ ok: false, code: 'CERTIFICATE_INVALID' });
  });

  it('a tsa or signingAuthority store does not vouch for a notary.x509 signature', () => {
    const st = statement({ trustStores: [{ type: 'signingAuthority', name: 'acme' }, { type: 'tsa', name: 'acme' }] });
    expect(check(makeJws({ target, chain, key: pki.leafKey }), spec([st], { 'signingAuthority:acme': [pki.root.der], 'tsa:acme': [pki.root.der] }))).toMatchObject({ ok: false, code: 'CERTIFICATE_INVALID' });
  });
});

describe('trusted identities by subject', () => {
  const acmeOnly = (id: string) => spec([statement({ trustedIdentities: [identity(id)] })], { 'ca:acme': [pki.root.der] });
  function signedBy(subject: readonly Rdn[]) {
    const leaf = makeCert({ subject, key: pki.leafKey, issuer: { cert: pki.intermediate, key: pki.intermediateKey } });
    return makeJws({ target, chain: [leaf.der, pki.intermediate.der, pki.root.der], key: pki.leafKey });
  }

  it('an attribute repeated (O=Evil and O=Acme) matches no identity naming it, as notation refuses such a DN', () => {
    expect(check(signedBy([[['C', 'US']], [['ST', 'WA']], [['O', 'Evil']], [['O', 'Acme']]]), acmeOnly('C=US, ST=WA, O=Acme'))).toMatchObject({ ok: false, code: 'IDENTITY_MISMATCH' });
  });

  it('a multi-valued RDN of one type (O=Evil+O=Acme) matches nothing either', () => {
    expect(check(signedBy([[['C', 'US']], [['ST', 'WA']], [['O', 'Evil'], ['O', 'Acme']]]), acmeOnly('C=US, ST=WA, O=Acme'))).toMatchObject({ ok: false, code: 'IDENTITY_MISMATCH' });
  });

  it('a CN with escaped commas cannot inject an O: values are read from DER, never from a printed DN', () => {
    expect(check(signedBy([[['C', 'US']], [['ST', 'WA']], [['O', 'Evil']], [['CN', 'x, O=Acme']]]), acmeOnly('C=US, ST=WA, O=Acme'))).toMatchObject({ ok: false, code: 'IDENTITY_MISMATCH' });
    expect(check(signedBy([[['C', 'US']], [['ST', 'WA']], [['CN', 'x\\, O=Acme']]]), acmeOnly('C=US, ST=WA, O=Acme'))).toMatchObject({ ok: false, code: 'IDENTITY_MISMATCH' });
  });

  it('a subject attribute notation cannot print (emailAddress) matches only `*`', () => {
    const subject: Rdn[] = [[['C', 'US']], [['ST', 'WA']], [['O', 'Acme']], [['1.2.840.113549.1.9.1', 'a@acme.test']]];
    expect(check(signedBy(subject), acmeOnly('C=US, ST=WA, O=Acme'))).toMatchObject({ ok: false, code: 'IDENTITY_MISMATCH' });
    expect(check(signedBy(subject), spec([statement()], { 'ca:acme': [pki.root.der] }))).toMatchObject({ ok: true });
  });

  it('a value differing only in case or spacing does not match', () => {
    expect(check(signedBy(dn('C=US,ST=WA,O=acme')), acmeOnly('C=US, ST=WA, O=Acme'))).toMatchObject({ ok: false, code: 'IDENTITY_MISMATCH' });
    expect(check(signedBy([[['C', 'US']], [['ST', 'WA']], [['O', 'Acme ']]]), acmeOnly('C=US, ST=WA, O=Acme'))).toMatchObject({ ok: false, code: 'IDENTITY_MISMATCH' });
  });
});

describe('images and time', () => {
  it('a signature moved to another image is refused (PAYLOAD_MISMATCH), even when its manifest names that image as subject', async () => {
    const reg = new MemoryRegistry();
    const signed = pushImage(reg, REPO, '0.9', 'signed');
    const victim = pushImage(reg, REPO, '1.0', 'victim');
    pushSignature(reg, REPO, victim, makeJws({ target: signed, chain, key: pki.leafKey }));
    await expect(refusal(verifyWith(reg, spec([statement()], { 'ca:acme': [pki.root.der] })))).resolves.toMatchObject({ code: 'PAYLOAD_MISMATCH' });
  });

  it('a payload naming the digest with another size or media type is refused too', () => {
    const s = spec([statement()], { 'ca:acme': [pki.root.der] });
    expect(check(makeJws({ target: { ...target, size: 101 }, chain, key: pki.leafKey }), s)).toMatchObject({ ok: false, code: 'PAYLOAD_MISMATCH' });
    expect(check(makeJws({ target: { ...target, mediaType: 'application/vnd.oci.image.index.v1+json' }, chain, key: pki.leafKey }), s)).toMatchObject({ ok: false, code: 'PAYLOAD_MISMATCH' });
  });

  it('an expired signature is refused under strict, and its expiry cannot be placed before its signing time', () => {
    const s = spec([statement()], { 'ca:acme': [pki.root.der] });
    const now = Date.now();
    expect(check(makeJws({ target, chain, key: pki.leafKey, signingTime: now - 7200_000, expiry: now - 1000 }), s)).toMatchObject({ ok: false, code: 'SIGNATURE_EXPIRED' });
    expect(check(makeJws({ target, chain, key: pki.leafKey, signingTime: now, expiry: now - 1000 }), s)).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID' });
  });

  it('an expired signing certificate is refused without a tsa store (TIMESTAMP_INVALID)', () => {
    const now = Date.now();
    const expired = makePki({ leaf: { notBefore: now - 7200_000, notAfter: now - 3600_000 } });
    const r = check(makeJws({ target, chain: [expired.leaf.der, expired.intermediate.der, expired.root.der], key: expired.leafKey, signingTime: now - 5400_000 }), spec([statement()], { 'ca:acme': [expired.root.der] }));
    expect(r).toMatchObject({ ok: false, code: 'TIMESTAMP_INVALID' });
  });

  it('a timestamp countersignature that is no RFC 3161 token is refused (TIMESTAMP_INVALID), never skipped', () => {
    const envelope = JSON.parse(makeJws({ target, chain, key: pki.leafKey }).toString()) as { header: Record<string, unknown> };
    envelope.header['io.cncf.notary.timestampSignature'] = Buffer.from('not a token').toString('base64');
    const st = statement({ trustStores: [{ type: 'ca', name: 'acme' }, { type: 'tsa', name: 'tsa' }] });
    const r = check(Buffer.from(JSON.stringify(envelope)), spec([st], { 'ca:acme': [pki.root.der], 'tsa:tsa': [pki.root.der] }));
    expect(r).toMatchObject({ ok: false, code: 'TIMESTAMP_INVALID', reason: expect.stringContaining('not a well-formed RFC 3161') });
  });
});

describe('revocation', () => {
  it('a CRL URL in the chain is never fetched: the status is unknown (REVOCATION_UNAVAILABLE under strict, logged under permissive), and nothing connects to the URL', async () => {
    const requests: string[] = [];
    const server = createServer((req, res) => {
      requests.push(req.url ?? '');
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ca.crl`;
      const p = makePki({ leaf: { crl: url } });
      const reg = new MemoryRegistry();
      const image = pushImage(reg, REPO, '1.0');
      pushSignature(reg, REPO, image, makeJws({ target: image, chain: [p.leaf.der, p.intermediate.der, p.root.der], key: p.leafKey }));
      await expect(refusal(verifyWith(reg, spec([statement()], { 'ca:acme': [p.root.der] })))).resolves.toMatchObject({ code: 'REVOCATION_UNAVAILABLE' });
      const permissive = await verifyWith(reg, spec([statement({ signatureVerification: verification('permissive') })], { 'ca:acme': [p.root.der] }));
      expect(permissive.unchecked).toBe(false);
      expect(requests).toEqual([]);
    } finally {
      server.close();
    }
  });
});

describe('hostile timestamp tokens', () => {
  const st = () => statement({ trustStores: [{ type: 'ca', name: 'acme' }, { type: 'tsa', name: 'tsa' }] });
  const withToken = (token: Buffer) => {
    const envelope = JSON.parse(makeJws({ target, chain, key: pki.leafKey }).toString()) as { header: Record<string, unknown> };
    envelope.header['io.cncf.notary.timestampSignature'] = token.toString('base64');
    return Buffer.from(JSON.stringify(envelope));
  };
  const checkToken = (token: Buffer, budget = { remaining: 256 }) => check(withToken(token), spec([st()], { 'ca:acme': [pki.root.der], 'tsa:tsa': [pki.root.der] }), budget);

  it('ASN.1 nested 10,000 deep is refused, not recursed into', () => {
    const deep = Buffer.concat([...Array.from({ length: 10_000 }, () => Buffer.from([0x30, 0x80])), Buffer.alloc(20_000, 0)]);
    expect(checkToken(deep)).toMatchObject({ ok: false, code: 'TIMESTAMP_INVALID' });
    let nested: Buffer = Buffer.from([0x05, 0x00]);
    for (let i = 0; i < 500; i++) nested = tlv(0x30, nested);
    expect(checkToken(nested)).toMatchObject({ ok: false, code: 'TIMESTAMP_INVALID' });
  });

  it('a token carrying more than 8 certificates is refused before any of them is read or verified', () => {
    const budget = { remaining: 256 };
    const certs = tlv(0xa0, ...Array.from({ length: 9 }, () => pki.root.der));
    const encap = tlv(0x30, oid('1.2.840.113549.1.9.16.1.4'), tlv(0xa0, tlv(0x04, tlv(0x30))));
    const signedData = tlv(0x30, tlv(0x02, Buffer.from([3])), tlv(0x31), encap, certs, tlv(0x31));
    const token = tlv(0x30, oid('1.2.840.113549.1.7.2'), tlv(0xa0, signedData));
    expect(checkToken(token, budget)).toMatchObject({ ok: false, code: 'TIMESTAMP_INVALID', reason: expect.stringContaining('9 certificates') });
    expect(budget.remaining).toBe(256 - 4); // the envelope's signature and its chain only
  });
});

describe('work per image', () => {
  it(`more than ${MAX_SIGNATURES} signatures are refused (TOO_LARGE), never cut`, async () => {
    const reg = new MemoryRegistry();
    const t = pushImage(reg, REPO, '1.0');
    const junk = makeJws({ target: t, chain, key: pki.leafKey, tamper: (s) => Buffer.from(s.map((b) => b ^ 1)) });
    for (let i = 0; i <= MAX_SIGNATURES; i++) pushSignature(reg, REPO, t, Buffer.concat([junk, Buffer.from(' '.repeat(i + 1))]));
    await expect(refusal(verifyWith(reg, spec([statement()], { 'ca:acme': [pki.root.der] })))).resolves.toMatchObject({ code: 'TOO_LARGE' });
  });

  it('the public-key operations of one image are bounded: once spent, a good signature is refused, never admitted unchecked', () => {
    const s = spec([statement()], { 'ca:acme': [pki.root.der] });
    const budget = { remaining: 256 };
    const good = makeJws({ target, chain, key: pki.leafKey });
    let checked = 0;
    while (budget.remaining > 0 && checked < 1000) {
      check(good, s, budget);
      checked++;
    }
    expect(checked).toBeLessThanOrEqual(256 / 3 + 1);
    expect(check(good, s, budget)).toMatchObject({ ok: false, code: 'TOO_LARGE' });
  });

  it('100 junk signatures are all examined and the refusal stays within its length bound', async () => {
    const reg = new MemoryRegistry();
    const t = pushImage(reg, REPO, '1.0');
    const junk = makeJws({ target: t, chain, key: pki.leafKey, tamper: (s) => Buffer.from(s.map((b) => b ^ 1)) });
    for (let i = 0; i < MAX_SIGNATURES; i++) pushSignature(reg, REPO, t, Buffer.concat([junk, Buffer.from(' '.repeat(i + 1))]));
    const r = await refusal(verifyWith(reg, spec([statement()], { 'ca:acme': [pki.root.der] })));
    expect(r.code).toBe('SIGNATURE_INVALID');
    expect(r.message).toContain(`none of its ${MAX_SIGNATURES} Notation signatures verified`);
    expect(r.message.length).toBeLessThanOrEqual(1200);
  });
});

describe('trust policy selection', () => {
  it('a statement naming the repository wins over `*`, whatever their order', () => {
    const wide = statement({ name: 'everything', registryScopes: ['*'], signatureVerification: verification('skip'), trustStores: [], trustedIdentities: [] });
    const specific = statement({ name: 'team-app', registryScopes: ['registry.test:5000/team/app'] });
    for (const statements of [[wide, specific], [specific, wide]]) {
      expect(selectStatement({ version: '1.0', statements }, 'registry.test:5000', 'team/app')?.name).toBe('team-app');
      expect(selectStatement({ version: '1.0', statements }, 'registry.test:5000', 'team/other')?.name).toBe('everything');
    }
  });

  it('scopes match exactly: no prefix, no other port, no other registry', () => {
    const specific = statement({ name: 'team-app', registryScopes: ['registry.test:5000/team/app'] });
    const doc = { version: '1.0' as const, statements: [specific] };
    expect(selectStatement(doc, 'registry.test:5000', 'team/app/sub')).toBeUndefined();
    expect(selectStatement(doc, 'registry.test:5000', 'team/ap')).toBeUndefined();
    expect(selectStatement(doc, 'registry.test', 'team/app')).toBeUndefined();
    expect(selectStatement(doc, 'evil.test:5000', 'team/app')).toBeUndefined();
  });

  it('Docker Hub images are named as notation names them: docker.io/library/<name>', () => {
    const hub = statement({ name: 'hub', registryScopes: ['docker.io/library/alpine'] });
    const ref = parseReference('alpine:3.19');
    expect(selectStatement({ version: '1.0', statements: [hub] }, ref.registry, ref.repository)?.name).toBe('hub');
    const alias = parseReference('index.docker.io/library/alpine:3.19');
    expect(selectStatement({ version: '1.0', statements: [hub] }, alias.registry, alias.repository)?.name).toBe('hub');
  });
});
