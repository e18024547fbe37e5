// The certificate requirements (signature-specification.md "Certificate Requirements";
// notation-core-go ValidateCodeSigningCertChain), one negative case per rule, and the CBOR reader.
import { readCbor, sigStructure } from '../../../../src/trust/notation/cbor.js';
import { checkSignature } from '../../../../src/trust/notation/check.js';
import { cbor, dn, ec, makeCert, makeCose, makeJws, makePki, spec, statement, type Cert, type CertOptions } from '../../../support/notation-pki.js';

const target = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 100 };
const pki = makePki();

function verdict(chain: readonly Cert[], key = pki.leafKey, trusted: Cert = chain[chain.length - 1]!) {
  const s = spec([statement()], { 'ca:acme': [trusted.der] });
  return checkSignature({ envelope: makeJws({ target, chain: chain.map((c) => c.der), key }), mediaType: 'application/jose+json', statement: s.trustPolicy.statements[0]!, spec: s, target, now: Date.now(), budget: { remaining: 64 } });
}
const leafWith = (o: Partial<CertOptions>) => makeCert({ subject: dn('C=US,ST=WA,O=Acme,CN=leaf'), key: pki.leafKey, issuer: { cert: pki.intermediate, key: pki.intermediateKey }, ...o });

describe('certificate requirements', () => {
  it('a well-formed chain passes', () => {
    expect(verdict([pki.leaf, pki.intermediate, pki.root])).toMatchObject({ ok: true });
  });

  it.each<[string, Partial<CertOptions>, RegExp]>([
    ['a leaf without key usage', { keyUsage: 'none' }, /key usage extension must be present/],
    ['a leaf whose key usage is not critical', { keyUsageCritical: false }, /must be critical/],
    ['a leaf that may also encipher keys', { keyUsage: [0, 2] }, /KeyEncipherment/],
    ['a leaf without Digital Signature', { keyUsage: [1] }, /lacks Digital Signature/],
    ['a leaf marked CA', { ca: true, keyUsage: [0] }, /CA/],
    ['a leaf with the timestamping EKU', { eku: ['1.3.6.1.5.5.7.3.8'] }, /Timestamping/],
  ])('refuses %s (CERTIFICATE_INVALID)', (_what, o, reason) => {
    expect(verdict([leafWith(o), pki.intermediate, pki.root])).toMatchObject({ ok: false, code: 'CERTIFICATE_INVALID', reason: expect.stringMatching(reason) });
  });

  it('accepts a leaf with the code-signing EKU or none', () => {
    expect(verdict([leafWith({ eku: ['1.3.6.1.5.5.7.3.3'] }), pki.intermediate, pki.root])).toMatchObject({ ok: true });
  });

  it('refuses a chain out of order, one not ending in a self-signed root, and a self-signed intermediate', () => {
    expect(verdict([pki.leaf, pki.root, pki.intermediate], pki.leafKey, pki.root)).toMatchObject({ ok: false, code: 'CERTIFICATE_INVALID' });
    expect(verdict([pki.leaf, pki.intermediate], pki.leafKey, pki.intermediate)).toMatchObject({ ok: false, code: 'CERTIFICATE_INVALID', reason: expect.stringContaining('self-signed') });
    const k = ec();
    const selfSignedMiddle = makeCert({ subject: dn('C=US,ST=WA,O=Acme,CN=Acme Intermediate'), key: k, ca: true });
    expect(verdict([pki.leaf, selfSignedMiddle, pki.root], pki.leafKey, pki.root)).toMatchObject({ ok: false, code: 'CERTIFICATE_INVALID' });
  });

  it('refuses a path length exceeded', () => {
    const k = ec();
    const zero = makeCert({ subject: dn('C=US,ST=WA,O=Acme,CN=I0'), key: pki.intermediateKey, ca: true, pathLen: 0, issuer: { cert: pki.root, key: pki.rootKey } });
    const below = makeCert({ subject: dn('C=US,ST=WA,O=Acme,CN=I1'), key: k, ca: true, issuer: { cert: zero, key: pki.intermediateKey } });
    const leaf = makeCert({ subject: dn('C=US,ST=WA,O=Acme,CN=leaf'), key: pki.leafKey, issuer: { cert: below, key: k } });
    expect(verdict([leaf, below, zero, pki.root], pki.leafKey, pki.root)).toMatchObject({ ok: false, code: 'CERTIFICATE_INVALID', reason: expect.stringContaining('path length') });
  });

  it('accepts a lone self-signed signing certificate that is itself in the trust store', () => {
    const k = ec();
    const self = makeCert({ subject: dn('C=US,ST=WA,O=Acme,CN=self'), key: k });
    expect(verdict([self], k, self)).toMatchObject({ ok: true });
  });

  it('the trust store may hold the intermediate instead of the root', () => {
    expect(verdict([pki.leaf, pki.intermediate, pki.root], pki.leafKey, pki.intermediate)).toMatchObject({ ok: true });
  });
});

describe('CBOR reader', () => {
  it('reads what COSE_Sign1 is made of', () => {
    const v = readCbor(cbor({ tag: 18, value: [Buffer.from([1]), new Map<number | string, never>(), Buffer.alloc(0), Buffer.from([2])] }), [18]);
    expect(v).toEqual({ tag: 18, value: [Buffer.from([1]), new Map(), Buffer.alloc(0), Buffer.from([2])] });
    expect(readCbor(cbor(new Map<number | string, number | string>([[1, -37], ['a', 'b']])))).toEqual(new Map<number | string, number | string>([[1, -37], ['a', 'b']]));
    expect(readCbor(Buffer.from([0xf5]))).toBe(true);
  });

  it('builds the Sig_structure as RFC 9052 4.4 defines it', () => {
    expect(sigStructure(Buffer.from([0xa0]), Buffer.from('p'))).toEqual(cbor(['Signature1', Buffer.from([0xa0]), Buffer.alloc(0), Buffer.from('p')]));
  });

  it('a COSE envelope verifies after a round trip through the reader', () => {
    const s = spec([statement()], { 'ca:acme': [pki.root.der] });
    const envelope = makeCose({ target, chain: [pki.leaf.der, pki.intermediate.der, pki.root.der], key: pki.leafKey });
    expect(checkSignature({ envelope, mediaType: 'application/cose', statement: s.trustPolicy.statements[0]!, spec: s, target, now: Date.now(), budget: { remaining: 64 } })).toMatchObject({ ok: true, evidence: { envelope: 'cose' } });
  });
});
