// ATTACK (i11-nattack): RFC 3161 timestamp countersignatures. The envelope's timestamp token is
// unsigned by the signer (an unprotected header), so whoever serves the envelope may swap it: a
// token of another signature, or a token with an odd Accuracy. The tokens are written here (a TSA
// of our own, in the statement's tsa store), so each case isolates one rule.
// FINDING (the last test fails): readAccuracy (src/trust/notation/timestamp.ts) takes a negative
// Accuracy as written, and the validity check `time - accuracy < notBefore || time + accuracy >
// notAfter` then admits a timestamp up to |accuracy| (capped at a day by Math.min only from above)
// AFTER the signing certificate expired. Needs a tsa-store TSA to sign such a token.
// Safe: a token proves the signature existed at a time within every certificate's validity, and
// nothing else lets an expired signing certificate through.
import { createHash, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { X509Certificate as Asn1Certificate } from '@sigstore/core';
import { checkSignature } from '../../src/trust/notation/check.js';
import { dn, ec, makeCert, makeJws, makePki, oid, spec, statement, tlv, type Cert, type Target } from '../support/notation-pki.js';

const seq = (...b: Buffer[]) => tlv(0x30, ...b);
const set = (...b: Buffer[]) => tlv(0x31, ...b);
function int(v: bigint): Buffer {
  if (v < 0n) {
    // two's complement, minimal
    let n = 1;
    while (-(1n << BigInt(8 * n - 1)) > v) n++;
    const b = Buffer.alloc(n);
    let x = (1n << BigInt(8 * n)) + v;
    for (let i = n - 1; i >= 0; i--) {
      b[i] = Number(x & 0xffn);
      x >>= 8n;
    }
    return tlv(0x02, b);
  }
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let b = Buffer.from(hex, 'hex');
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}
const utc = (ms: number) => tlv(0x17, Buffer.from(new Date(ms).toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'));
const gen = (ms: number) => tlv(0x18, Buffer.from(new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z'));

/** A TSA leaf: KU digitalSignature, EKU timeStamping (critical), issued by `issuer`. */
function tsaLeaf(key: KeyObject, issuer: { cert: Cert; key: KeyObject }): Buffer {
  const algId = seq(oid('1.2.840.10045.4.3.2'));
  const subject = seq(set(seq(oid('2.5.4.6'), tlv(0x13, Buffer.from('US')))), set(seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from('Test TSA')))));
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const ku = seq(oid('2.5.29.15'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, tlv(0x03, Buffer.from([7, 0x80]))));
  const eku = seq(oid('2.5.29.37'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, seq(oid('1.3.6.1.5.5.7.3.8'))));
  const bc = seq(oid('2.5.29.19'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, seq()));
  const tbs = seq(tlv(0xa0, int(2n)), int(777n), algId, issuer.cert.subjectDer, seq(utc(Date.now() - 30 * 86400_000), utc(Date.now() + 365 * 86400_000)), subject, spki, tlv(0xa3, seq(bc, ku, eku)));
  return seq(tbs, algId, tlv(0x03, Buffer.from([0]), sign('sha256', tbs, issuer.key)));
}

interface Tsa { root: Cert; leaf: Buffer; key: KeyObject }
function makeTsa(): Tsa {
  const rootKey = ec();
  const root = makeCert({ subject: dn('C=US,ST=WA,O=TSA,CN=TSA Root'), key: rootKey, ca: true });
  const key = ec();
  return { root, leaf: tsaLeaf(key, { cert: root, key: rootKey }), key };
}

/** A TimeStampToken over `signature`, at `time`, with Accuracy `accuracySeconds` (omitted when undefined). */
function token(tsa: Tsa, signature: Buffer, time: number, accuracySeconds?: bigint | Buffer): Buffer {
  const imprint = seq(seq(oid('2.16.840.1.101.3.4.2.1')), tlv(0x04, createHash('sha256').update(signature).digest()));
  const tstInfo = seq(int(1n), oid('1.2.3.4.1'), imprint, int(42n), gen(time), ...(accuracySeconds === undefined ? [] : [Buffer.isBuffer(accuracySeconds) ? accuracySeconds : seq(int(accuracySeconds))]));
  const attrs = [
    seq(oid('1.2.840.113549.1.9.3'), set(oid('1.2.840.113549.1.9.16.1.4'))),
    seq(oid('1.2.840.113549.1.9.4'), set(tlv(0x04, createHash('sha256').update(tstInfo).digest()))),
  ];
  const signedAttrsSet = set(...attrs);
  const sig = sign('sha256', signedAttrsSet, tsa.key);
  const leaf = Asn1Certificate.parse(Buffer.from(tsa.leaf));
  const sid = seq(tlv(0x30, Buffer.from(leaf.issuer)), tlv(0x02, Buffer.from(leaf.serialNumber)));
  const signerInfo = seq(int(1n), sid, seq(oid('2.16.840.1.101.3.4.2.1')), tlv(0xa0, ...attrs), seq(oid('1.2.840.10045.4.3.2')), tlv(0x04, sig));
  const encap = seq(oid('1.2.840.113549.1.9.16.1.4'), tlv(0xa0, tlv(0x04, tstInfo)));
  const signedData = seq(int(3n), set(seq(oid('2.16.840.1.101.3.4.2.1'))), encap, tlv(0xa0, tsa.leaf), set(signerInfo));
  return seq(oid('1.2.840.113549.1.7.2'), tlv(0xa0, signedData));
}

const target: Target = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 100 };
const DAY = 86400_000;

function setup(leafValidity: { notBefore: number; notAfter: number }) {
  const pki = makePki({ leaf: leafValidity });
  const tsa = makeTsa();
  const st = statement({ trustStores: [{ type: 'ca', name: 'acme' }, { type: 'tsa', name: 'tsa' }] });
  const s = spec([st], { 'ca:acme': [pki.root.der], 'tsa:tsa': [tsa.root.der] });
  const chain = [pki.leaf.der, pki.intermediate.der, pki.root.der];
  const envelope = (signingTime: number) => JSON.parse(makeJws({ target, chain, key: pki.leafKey, signingTime }).toString()) as { signature: string; header: Record<string, unknown> };
  const check = (env: { header: Record<string, unknown> }, tok: Buffer) => {
    env.header['io.cncf.notary.timestampSignature'] = tok.toString('base64');
    return checkSignature({ envelope: Buffer.from(JSON.stringify(env)), mediaType: 'application/jose+json', statement: st, spec: s, target, now: Date.now(), budget: { remaining: 256 } });
  };
  return { tsa, envelope, check };
}

describe('timestamp tokens', () => {
  const now = Date.now();

  it('control: a token within a valid leaf\'s validity verifies', () => {
    const { tsa, envelope, check } = setup({ notBefore: now - 10 * DAY, notAfter: now + 10 * DAY });
    const env = envelope(now - 60_000);
    expect(check(env, token(tsa, Buffer.from(env.signature, 'base64url'), now - 60_000, 1n))).toMatchObject({ ok: true });
  });

  it('a genuine token of ANOTHER signature (replayed) is refused', () => {
    const { tsa, envelope, check } = setup({ notBefore: now - 10 * DAY, notAfter: now - DAY });
    const old = envelope(now - 5 * DAY);
    const oldToken = token(tsa, Buffer.from(old.signature, 'base64url'), now - 5 * DAY, 1n);
    const fresh = envelope(now - 5 * DAY); // a new signature by the expired (leaked) key
    expect(check(fresh, oldToken)).toMatchObject({ ok: false, code: 'TIMESTAMP_INVALID' });
  });

  it('an expired leaf, timestamped after its expiry: refused (control for the accuracy cases)', () => {
    const { tsa, envelope, check } = setup({ notBefore: now - 10 * DAY, notAfter: now - DAY });
    const env = envelope(now - 60_000);
    expect(check(env, token(tsa, Buffer.from(env.signature, 'base64url'), now - 60_000, 1n))).toMatchObject({ ok: false, code: 'TIMESTAMP_INVALID' });
  });

  it('an expired leaf, timestamped after its expiry with a NEGATIVE accuracy (-3 days): refused', () => {
    const { tsa, envelope, check } = setup({ notBefore: now - 10 * DAY, notAfter: now - DAY });
    const env = envelope(now - 60_000);
    const r = check(env, token(tsa, Buffer.from(env.signature, 'base64url'), now - 60_000, -3n * 86400n));
    expect(r).toMatchObject({ ok: false });
  });

  // RFC 3161 Accuracy: millis [0] and micros [1] are INTEGER (1..999), seconds not negative.
  const ctx = (n: number, v: bigint) => Buffer.from([0x80 | n, ...int(v).subarray(1)]);
  it.each([
    ['seconds -1 on a valid leaf', seq(int(-1n))],
    ['millis 0', seq(ctx(0, 0n))],
    ['millis 1000', seq(ctx(0, 1000n))],
    ['micros -5', seq(ctx(1, -5n))],
    ['a field of another type', seq(tlv(0x01, Buffer.from([0xff])))],
  ])('an accuracy with %s is refused (TIMESTAMP_INVALID) even where the leaf is valid', (_what, accuracy) => {
    const { tsa, envelope, check } = setup({ notBefore: now - 10 * DAY, notAfter: now + 10 * DAY });
    const env = envelope(now - 60_000);
    expect(check(env, token(tsa, Buffer.from(env.signature, 'base64url'), now - 60_000, accuracy))).toMatchObject({ ok: false, code: 'TIMESTAMP_INVALID' });
  });

  it('control: seconds 0, millis 999 and micros 1 (in range) verify', () => {
    const { tsa, envelope, check } = setup({ notBefore: now - 10 * DAY, notAfter: now + 10 * DAY });
    const env = envelope(now - 60_000);
    expect(check(env, token(tsa, Buffer.from(env.signature, 'base64url'), now - 60_000, seq(int(0n), ctx(0, 999n), ctx(1, 1n))))).toMatchObject({ ok: true });
  });
});
