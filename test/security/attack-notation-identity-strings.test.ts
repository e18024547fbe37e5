// ATTACK (i11-nattack): trusted identities are matched on the leaf's subject read from DER
// (identity.ts), meant to match exactly what notation reads through Go's pkix.Name. Go's
// encoding/asn1 returns a T61String's bytes as they are (no charset conversion), and refuses a
// certificate whose UTF8String is not UTF-8. trustgate decodes T61String as latin1 and UTF8String
// leniently (U+FFFD), so a subject notation would never match an identity can match it here.
// Safe: the identity `O=Acmé` does not admit a leaf whose O is the T61String byte 0xE9 (Go: the
// string "Acm\xe9", which is not "Acmé"), nor a leaf with a malformed UTF8String O.
import { createPublicKey, sign, type KeyObject } from 'node:crypto';
import { checkSignature } from '../../src/trust/notation/check.js';
import { ec, identity, makeJws, makePki, oid, spec, statement, tlv, type Target } from '../support/notation-pki.js';

const seq = (...b: Buffer[]) => tlv(0x30, ...b);
const set = (...b: Buffer[]) => tlv(0x31, ...b);
const utc = (ms: number) => tlv(0x17, Buffer.from(new Date(ms).toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'));
const target: Target = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 100 };

function leafWithO(oValue: Buffer, key: KeyObject, issuer: { subjectDer: Buffer; key: KeyObject }): Buffer {
  const algId = seq(oid('1.2.840.10045.4.3.2'));
  const attr = (o: string, tag: number, v: Buffer) => set(seq(oid(o), tlv(tag, v)));
  const subject = seq(attr('2.5.4.6', 0x13, Buffer.from('US')), attr('2.5.4.8', 0x0c, Buffer.from('WA')), attr('2.5.4.10', 0x14, oValue), attr('2.5.4.3', 0x0c, Buffer.from('signer')));
  const ku = seq(oid('2.5.29.15'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, tlv(0x03, Buffer.from([7, 0x80]))));
  const bc = seq(oid('2.5.29.19'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, seq()));
  const tbs = seq(tlv(0xa0, tlv(0x02, Buffer.from([2]))), tlv(0x02, Buffer.from([0x33])), algId, issuer.subjectDer, seq(utc(Date.now() - 3600_000), utc(Date.now() + 86400_000)), subject, createPublicKey(key).export({ type: 'spki', format: 'der' }), tlv(0xa3, seq(bc, ku)));
  return seq(tbs, algId, tlv(0x03, Buffer.from([0]), sign('sha256', tbs, issuer.key)));
}

it('identity O=Acmé does not match a leaf whose O is the T61String byte 0xE9 (Go reads "Acm\\xe9")', () => {
  const pki = makePki();
  const key = ec();
  const leaf = leafWithO(Buffer.from([0x41, 0x63, 0x6d, 0xe9]), key, { subjectDer: pki.intermediate.subjectDer, key: pki.intermediateKey });
  const st = statement({ trustedIdentities: [identity('x509.subject: C=US, ST=WA, O=Acmé')] });
  const s = spec([st], { 'ca:acme': [pki.root.der] });
  const r = checkSignature({ envelope: makeJws({ target, chain: [leaf, pki.intermediate.der, pki.root.der], key }), mediaType: 'application/jose+json', statement: st, spec: s, target, now: Date.now(), budget: { remaining: 256 } });
  expect(r).toMatchObject({ ok: false, code: 'IDENTITY_MISMATCH' });
});
