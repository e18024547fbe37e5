// ATTACK (i11-nattack): trusted identities are matched on the leaf's subject read from DER
// (identity.ts), meant to match exactly what notation reads through Go's crypto/x509. Go's
// parseASN1String (crypto/x509/parser.go) refuses the whole certificate when a name value breaks
// its string type (a UTF8String that is not UTF-8, an IA5String with bytes >= 0x80, a
// NumericString with other than digits and space, an unsupported string type); trustgate read
// them leniently (U+FFFD, latin1) or skipped them, so a certificate notation refuses could match.
// T61String: the attacker expected Go to keep the raw bytes; Go 1.25/1.26 (what notation and
// test/tools/notation-tool build with) decode it as Latin-1 (parser.go: "we just treat these
// strings as being encoded using Latin-1"), checked with go1.26.8: O as T61 41 63 6d e9 parses as
// "Acmé". So trustgate must match it, as it did; the first test asserts that Go outcome.
// Safe: an identity matches exactly the leaves notation matches; a leaf Go refuses is refused.
import { createPublicKey, sign, type KeyObject } from 'node:crypto';
import { checkSignature } from '../../src/trust/notation/check.js';
import { ec, identity, makeJws, makePki, oid, spec, statement, tlv, type Target } from '../support/notation-pki.js';

const seq = (...b: Buffer[]) => tlv(0x30, ...b);
const set = (...b: Buffer[]) => tlv(0x31, ...b);
const utc = (ms: number) => tlv(0x17, Buffer.from(new Date(ms).toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'));
const target: Target = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 100 };

function leafWithO(oTag: number, oValue: Buffer, key: KeyObject, issuer: { subjectDer: Buffer; key: KeyObject }): Buffer {
  const algId = seq(oid('1.2.840.10045.4.3.2'));
  const attr = (o: string, tag: number, v: Buffer) => set(seq(oid(o), tlv(tag, v)));
  const subject = seq(attr('2.5.4.6', 0x13, Buffer.from('US')), attr('2.5.4.8', 0x0c, Buffer.from('WA')), attr('2.5.4.10', oTag, oValue), attr('2.5.4.3', 0x0c, Buffer.from('signer')));
  const ku = seq(oid('2.5.29.15'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, tlv(0x03, Buffer.from([7, 0x80]))));
  const bc = seq(oid('2.5.29.19'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, seq()));
  const tbs = seq(tlv(0xa0, tlv(0x02, Buffer.from([2]))), tlv(0x02, Buffer.from([0x33])), algId, issuer.subjectDer, seq(utc(Date.now() - 3600_000), utc(Date.now() + 86400_000)), subject, createPublicKey(key).export({ type: 'spki', format: 'der' }), tlv(0xa3, seq(bc, ku)));
  return seq(tbs, algId, tlv(0x03, Buffer.from([0]), sign('sha256', tbs, issuer.key)));
}

function check(oTag: number, oValue: Buffer, id: string) {
  const pki = makePki();
  const key = ec();
  const leaf = leafWithO(oTag, oValue, key, { subjectDer: pki.intermediate.subjectDer, key: pki.intermediateKey });
  const st = statement({ trustedIdentities: id === '*' ? '*' : [identity(id)] });
  const s = spec([st], { 'ca:acme': [pki.root.der] });
  return checkSignature({ envelope: makeJws({ target, chain: [leaf, pki.intermediate.der, pki.root.der], key }), mediaType: 'application/jose+json', statement: st, spec: s, target, now: Date.now(), budget: { remaining: 256 } });
}
const ACME_LATIN1 = Buffer.from([0x41, 0x63, 0x6d, 0xe9]);

it('T61String O bytes 41 63 6d e9: Go reads Latin-1 "Acmé", so identity O=Acmé matches it as notation does', () => {
  expect(check(0x14, ACME_LATIN1, 'x509.subject: C=US, ST=WA, O=Acmé')).toMatchObject({ ok: true });
  // … and not the U+FFFD a lenient UTF-8 reading gives
  expect(check(0x14, ACME_LATIN1, 'x509.subject: C=US, ST=WA, O=Acm\ufffd')).toMatchObject({ ok: false, code: 'IDENTITY_MISMATCH' });
});

it.each([
  ['a UTF8String that is not UTF-8 (Go: invalid UTF-8 string)', 0x0c, ACME_LATIN1, 'x509.subject: C=US, ST=WA, O=Acm\ufffd'],
  ['an IA5String with a byte >= 0x80 (Go: invalid IA5String)', 0x16, ACME_LATIN1, 'x509.subject: C=US, ST=WA, O=Acmé'],
  ['a NumericString with a letter (Go: invalid NumericString)', 0x12, Buffer.from('12a'), 'x509.subject: C=US, ST=WA, O=12a'],
  ['a PrintableString with a byte Go refuses', 0x13, Buffer.from('Acme!'), 'x509.subject: C=US, ST=WA, O=Acme!'],
  ['a VisibleString (Go: unsupported string type)', 0x1a, Buffer.from('Acme'), 'x509.subject: C=US, ST=WA, O=Acme'],
  ['a BMPString with a surrogate (Go: invalid BMPString)', 0x1e, Buffer.from([0, 0x41, 0xd8, 0x00]), '*'],
])('a leaf whose O is %s is refused as Go refuses the certificate', (_what, tag, value, id) => {
  const r = check(tag, value, id);
  expect(r).toMatchObject({ ok: false });
  expect((r as { code: string }).code).not.toBe('IDENTITY_MISMATCH'); // refused as a certificate, before identities
});
