// Hostile Notation envelopes: every byte of an envelope is the pusher's. Each case must be
// refused with its reason, before any work its attacker could make large (ADR 0011).
import { parseReference } from '../../src/reference/index.js';
import { readCbor } from '../../src/trust/notation/cbor.js';
import { checkSignature } from '../../src/trust/notation/check.js';
import { MAX_ENVELOPE_BYTES } from '../../src/trust/notation/limits.js';
import { NotationVerifier } from '../../src/trust/notation/verifier.js';
import type { NotationSpec } from '../../src/trust/notation/types.js';
import { refusal } from '../support/cosign-verify.js';
import { MemoryRegistry } from '../support/memory-registry.js';
import { cbor, dn, makeCert, makeCose, makeJws, makePki, pushImage, pushSignature, spec, statement, type Target } from '../support/notation-pki.js';
import { rsaSpki } from '../support/rsa-spki.js';

const REPO = 'team/app';
const NAME = `registry.test:5000/${REPO}`;
const pki = makePki();
const chain = [pki.leaf.der, pki.intermediate.der, pki.root.der];
const trusting: NotationSpec = spec([statement()], { 'ca:acme': [pki.root.der] });
const target: Target = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 100 };

function check(envelope: Buffer, mediaType = 'application/jose+json', budget = { remaining: 256 }) {
  return checkSignature({ envelope, mediaType, statement: statement(), spec: trusting, target, now: Date.now(), budget });
}

describe.each([
  ['JWS', makeJws, 'application/jose+json'],
  ['COSE', makeCose, 'application/cose'],
] as const)('%s', (_n, make, mediaType) => {
  it('an unknown critical header fails (UNSUPPORTED_SIGNATURE), even one also carrying a defined name', () => {
    expect(check(make({ target, chain, key: pki.leafKey, extra: { 'io.cncf.notary.verificationPlugin': { value: 'evil', critical: true } } }), mediaType)).toMatchObject({ ok: false, code: 'UNSUPPORTED_SIGNATURE' });
    expect(check(make({ target, chain, key: pki.leafKey, extra: { 'x-anything': { value: 1, critical: true } } }), mediaType)).toMatchObject({ ok: false, code: 'UNSUPPORTED_SIGNATURE' });
  });

  it('a payload changed after signing fails integrity (SIGNATURE_INVALID), whatever it names', () => {
    expect(check(make({ target, chain, key: pki.leafKey }), mediaType)).toMatchObject({ ok: true });
    const other = Buffer.from(JSON.stringify({ targetArtifact: { ...target, digest: `sha256:${'b'.repeat(64)}` } }));
    expect(check(make({ target, chain, key: pki.leafKey, carriedPayload: other }), mediaType)).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID' });
    // Even one naming this very image: the signature covers other bytes.
    const same = Buffer.from(JSON.stringify({ targetArtifact: target, extra: 1 }));
    expect(check(make({ target, chain, key: pki.leafKey, carriedPayload: same }), mediaType)).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID' });
  });

  it('an alg claimed other than the certificate key implies fails (SIGNATURE_INVALID)', () => {
    // A P-256 key made to sign with SHA-384 and claim ES384: the bytes verify under that claim.
    expect(check(make({ target, chain, key: pki.leafKey, alg: 'ES384' }), mediaType)).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID', reason: expect.stringContaining('claims ES384') });
  });

  it('a certificate chain of 100 is refused before any public-key operation', () => {
    const budget = { remaining: 256 };
    const r = check(make({ target, chain: Array.from({ length: 100 }, () => pki.leaf.der), key: pki.leafKey }), mediaType, budget);
    expect(r).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID', reason: expect.stringContaining('more than 10') });
    expect(budget.remaining).toBe(256);
  });
});

describe('keys', () => {
  function leafWithSpki(spki: Buffer) {
    const leaf = makeCert({ subject: dn('C=US,ST=WA,O=Acme,CN=huge'), key: pki.leafKey, spki, issuer: { cert: pki.intermediate, key: pki.intermediateKey } });
    return makeJws({ target, chain: [leaf.der, pki.intermediate.der, pki.root.der], key: pki.leafKey, alg: 'PS256' });
  }

  it('a 16384-bit RSA signing key is refused (UNSUPPORTED_SIGNATURE) before it verifies anything', () => {
    const budget = { remaining: 256 };
    expect(check(leafWithSpki(rsaSpki(2048, 65537n)), 'application/jose+json', budget)).toMatchObject({ ok: false, code: 'UNSUPPORTED_SIGNATURE', reason: expect.stringContaining('16384 bits') });
    expect(budget.remaining).toBe(256);
  });

  it('an RSA exponent beyond 2^31-1 is refused (UNSUPPORTED_SIGNATURE)', () => {
    expect(check(leafWithSpki(rsaSpki(256, 2n ** 64n + 1n)))).toMatchObject({ ok: false, code: 'UNSUPPORTED_SIGNATURE', reason: expect.stringContaining('exponent') });
  });

  it('a CA key of 16384 bits is not used to check its child', () => {
    const bigCa = makeCert({ subject: dn('C=US,ST=WA,O=Acme,CN=Big CA'), key: pki.intermediateKey, spki: rsaSpki(2048, 65537n), ca: true, issuer: { cert: pki.root, key: pki.rootKey } });
    const leaf = makeCert({ subject: dn('C=US,ST=WA,O=Acme,CN=leaf'), key: pki.leafKey, issuer: { cert: bigCa, key: pki.intermediateKey } });
    const budget = { remaining: 256 };
    const r = check(makeJws({ target, chain: [leaf.der, bigCa.der, pki.root.der], key: pki.leafKey }), 'application/jose+json', budget);
    expect(r).toMatchObject({ ok: false, code: 'CERTIFICATE_INVALID' });
    expect(budget.remaining).toBe(255); // the envelope's signature only
  });
});

describe('CBOR', () => {
  const cose = (bytes: Buffer) => check(bytes, 'application/cose');

  it.each([
    ['nesting 1,000 deep', Buffer.concat([Buffer.from([0xd2]), Buffer.alloc(1000, 0x81), Buffer.from([0x00])]), /deeper than/],
    ['a bstr claiming 2^64-1 bytes', Buffer.from([0xd2, 0x84, 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), /beyond 2\^53/],
    ['a bstr claiming 4 GiB in 3 bytes', Buffer.from([0xd2, 0x84, 0x5a, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]), /claimed/],
    ['an array claiming 2^32-1 items', Buffer.from([0xd2, 0x9a, 0xff, 0xff, 0xff, 0xff, 0]), /items in/],
    ['a map claiming 2^32-1 entries', Buffer.from([0xd2, 0xba, 0xff, 0xff, 0xff, 0xff, 0]), /entries in/],
    ['an indefinite-length array', Buffer.from([0xd2, 0x9f, 0xff]), /indefinite/],
    ['a tag other than 18 and 1', Buffer.from([0xd8, 0x20, 0x00]), /tag 32/],
    ['a float', Buffer.from([0xd2, 0xfb, 0, 0, 0, 0, 0, 0, 0, 0]), /floating/],
    ['trailing bytes', Buffer.concat([makeCose({ target, chain, key: pki.leafKey }), Buffer.from([0])]), /after the CBOR item/],
  ])('%s is refused as malformed', (_what, bytes, reason) => {
    expect(cose(bytes)).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID', reason: expect.stringMatching(reason) });
  });

  it('a map with a key twice is refused (no two readings of one header)', () => {
    const dup = Buffer.concat([Buffer.from([0xa2]), cbor(1), cbor(-7), cbor(1), cbor(-35)]);
    expect(() => readCbor(dup)).toThrow(/appears twice/);
  });

  it('50,000 items are refused by count, not read', () => {
    const many = Buffer.concat([Buffer.from([0x99, 0xc3, 0x50]), Buffer.alloc(50_000, 0)]);
    expect(() => readCbor(many)).toThrow(/more than 4096 items/);
  });

  it('an untagged COSE_Sign1 is refused, as go-cose refuses it', () => {
    const tagged = makeCose({ target, chain, key: pki.leafKey });
    expect(cose(tagged.subarray(1))).toMatchObject({ ok: false, reason: expect.stringContaining('tag 18') });
  });
});

describe('through the verifier', () => {
  it('an envelope layer declared larger than 256 KiB is refused (TOO_LARGE) without being fetched', async () => {
    const reg = new MemoryRegistry();
    const t = pushImage(reg, REPO, '1.0');
    const sig = reg.putBlob(Buffer.alloc(16));
    const empty = reg.putBlob(Buffer.from('{}'));
    reg.putManifest(REPO, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.cncf.notary.signature', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty.digest, size: 2 }, layers: [{ mediaType: 'application/jose+json', digest: sig.digest, size: MAX_ENVELOPE_BYTES + 1 }], subject: t })));
    const r = await refusal(new NotationVerifier(reg).verify(parseReference(`${NAME}:1.0`), trusting, { credentials: undefined, signal: new AbortController().signal, timeoutMs: 5000 }));
    expect(r.code).toBe('TOO_LARGE');
    expect(reg.requests.filter((q) => q.startsWith('blob'))).toEqual([]);
  });

  it('an envelope that lies about its size is cut at 256 KiB by the fetch (TOO_LARGE)', async () => {
    const reg = new MemoryRegistry();
    const t = pushImage(reg, REPO, '1.0');
    const big = reg.putBlob(Buffer.alloc(MAX_ENVELOPE_BYTES + 1, 0x20));
    const empty = reg.putBlob(Buffer.from('{}'));
    reg.putManifest(REPO, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.cncf.notary.signature', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty.digest, size: 2 }, layers: [{ mediaType: 'application/jose+json', digest: big.digest, size: 100 }], subject: t })));
    const r = await refusal(new NotationVerifier(reg).verify(parseReference(`${NAME}:1.0`), trusting, { credentials: undefined, signal: new AbortController().signal, timeoutMs: 5000 }));
    expect(r.code).toBe('TOO_LARGE');
  });

  it('an envelope of an unknown media type is refused (UNSUPPORTED_SIGNATURE)', async () => {
    const reg = new MemoryRegistry();
    const t = pushImage(reg, REPO, '1.0');
    pushSignature(reg, REPO, t, makeJws({ target: t, chain, key: pki.leafKey }), 'application/x-pkcs7');
    const r = await refusal(new NotationVerifier(reg).verify(parseReference(`${NAME}:1.0`), trusting, { credentials: undefined, signal: new AbortController().signal, timeoutMs: 5000 }));
    expect(r.code).toBe('UNSUPPORTED_SIGNATURE');
  });
});
