// The Notation verifier on signatures laid out as notation pushes them (a referrer with one
// envelope layer), in both envelopes, with certificates and envelopes made in the test
// (test/support/notation-pki.ts).
import { parseReference } from '../../../../src/reference/index.js';
import type { Verified } from '../../../../src/trust/kind.js';
import { NotationVerifier } from '../../../../src/trust/notation/verifier.js';
import type { NotationSpec } from '../../../../src/trust/notation/types.js';
import { MemoryRegistry } from '../../../support/memory-registry.js';
import { refusal } from '../../../support/cosign-verify.js';
import { dn, ec, identity, makeCose, makeJws, makePki, pushImage, pushSignature, rsa, spec, statement, verification, type EnvelopeOptions, type Pki, type Target } from '../../../support/notation-pki.js';

const REPO = 'team/app';
const NAME = `registry.test:5000/${REPO}`;

function verify(reg: MemoryRegistry, image: string, s: NotationSpec, now?: () => number): Promise<Verified> {
  return new NotationVerifier(reg, now).verify(parseReference(image), s, { credentials: undefined, signal: new AbortController().signal, timeoutMs: 5000 });
}

const pki = makePki();
const chain = (p: Pki = pki) => [p.leaf.der, p.intermediate.der, p.root.der];
const trusting = (p: Pki = pki, st = statement()) => spec([st], { 'ca:acme': [p.root.der] });

function setup(make: (o: EnvelopeOptions) => Buffer, o: Partial<EnvelopeOptions> = {}, mediaType?: string): { reg: MemoryRegistry; target: Target; sig: string } {
  const reg = new MemoryRegistry();
  const target = pushImage(reg, REPO, '1.0');
  const sig = pushSignature(reg, REPO, target, make({ target, chain: chain(), key: pki.leafKey, ...o }), mediaType ?? (make === makeCose ? 'application/cose' : 'application/jose+json'));
  return { reg, target, sig };
}

describe.each([
  ['JWS', makeJws],
  ['COSE', makeCose],
] as const)('%s envelope', (_name, make) => {
  it('verifies a signature chaining to the trust store and pins the tag to the digest it resolves to now', async () => {
    const { reg, target, sig } = setup(make);
    const v = await verify(reg, `${NAME}:1.0`, trusting());
    expect(v).toMatchObject({ kind: 'notation', digest: target.digest, tag: '1.0', reference: `${NAME}:1.0@${target.digest}`, unchecked: false });
    expect(v.evidence).toMatchObject({ kind: 'notation', trustPolicy: 'acme', level: 'strict', logged: [], signatures: [{ envelope: make === makeJws ? 'jws' : 'cose', manifestDigest: sig, signingScheme: 'notary.x509', signer: expect.stringContaining('CN=acme-signer') }] });
    // Certificates valid now under strict: the answer lasts until the first of them expires.
    expect(v.expires).toBe(Math.min(pki.leaf.x509.validToDate.getTime(), pki.intermediate.x509.validToDate.getTime(), pki.root.x509.validToDate.getTime()));
  });

  it.each([['RSA 2048', () => rsa(2048)], ['RSA 3072', () => rsa(3072)], ['P-384', () => ec('P-384')], ['P-521', () => ec('P-521')]])('verifies with a %s signing key', async (_k, key) => {
    const p = makePki({ leafKey: key() });
    const reg = new MemoryRegistry();
    const target = pushImage(reg, REPO, '1.0');
    pushSignature(reg, REPO, target, make({ target, chain: chain(p), key: p.leafKey }), make === makeCose ? 'application/cose' : 'application/jose+json');
    await expect(verify(reg, `${NAME}:1.0`, trusting(p))).resolves.toMatchObject({ unchecked: false });
  });

  it('refuses a tampered signature (SIGNATURE_INVALID)', async () => {
    const { reg } = setup(make, { tamper: (s) => Buffer.from(s.map((b, i) => (i === 5 ? b ^ 1 : b))) });
    await expect(refusal(verify(reg, `${NAME}:1.0`, trusting()))).resolves.toMatchObject({ code: 'SIGNATURE_INVALID' });
  });

  it('refuses a signature of another image (PAYLOAD_MISMATCH, content descriptor mismatch)', async () => {
    const reg = new MemoryRegistry();
    const target = pushImage(reg, REPO, '1.0');
    const other = pushImage(reg, REPO, '2.0', 'other');
    pushSignature(reg, REPO, target, make({ target: other, chain: chain(), key: pki.leafKey }), make === makeCose ? 'application/cose' : 'application/jose+json');
    const r = await refusal(verify(reg, `${NAME}:1.0`, trusting()));
    expect(r.code).toBe('PAYLOAD_MISMATCH');
    expect(r.message).toContain('content descriptor mismatch');
  });

  it('refuses a chain that no trust store vouches for (CERTIFICATE_INVALID)', async () => {
    const { reg } = setup(make);
    const stranger = makePki({ rootSubject: 'C=US,ST=WA,O=Other,CN=Other Root' });
    await expect(refusal(verify(reg, `${NAME}:1.0`, trusting(stranger)))).resolves.toMatchObject({ code: 'CERTIFICATE_INVALID' });
  });

  it('refuses an unknown critical attribute (UNSUPPORTED_SIGNATURE), accepts an unknown non-critical one', async () => {
    const crit = setup(make, { extra: { 'com.example.policy': { value: 'x', critical: true } } });
    await expect(refusal(verify(crit.reg, `${NAME}:1.0`, trusting()))).resolves.toMatchObject({ code: 'UNSUPPORTED_SIGNATURE' });
    const plain = setup(make, { extra: { 'com.example.note': { value: 'x', critical: false } } });
    await expect(verify(plain.reg, `${NAME}:1.0`, trusting())).resolves.toMatchObject({ unchecked: false });
  });

  it('refuses an envelope whose alg differs from what the certificate key implies (SIGNATURE_INVALID)', async () => {
    const p = makePki({ leafKey: ec('P-384') });
    const reg = new MemoryRegistry();
    const target = pushImage(reg, REPO, '1.0');
    // A P-384 key signing with SHA-256 and claiming ES256: the signature itself is good.
    pushSignature(reg, REPO, target, make({ target, chain: chain(p), key: p.leafKey, alg: 'ES256' }), make === makeCose ? 'application/cose' : 'application/jose+json');
    const r = await refusal(verify(reg, `${NAME}:1.0`, trusting(p)));
    expect(r).toMatchObject({ code: 'SIGNATURE_INVALID' });
    expect(r.message).toContain('claims ES256');
  });

  it('signingAuthority: needs a signingAuthority store, and the certificates valid at the authentic signing time', async () => {
    const { reg } = setup(make, { scheme: 'notary.x509.signingAuthority' });
    await expect(refusal(verify(reg, `${NAME}:1.0`, trusting()))).resolves.toMatchObject({ code: 'CERTIFICATE_INVALID' });
    const st = statement({ trustStores: [{ type: 'signingAuthority', name: 'ops' }] });
    await expect(verify(reg, `${NAME}:1.0`, spec([st], { 'signingAuthority:ops': [pki.root.der] }))).resolves.toMatchObject({ unchecked: false, expires: Number.POSITIVE_INFINITY });
  });
});

describe('expiry and time', () => {
  it('refuses an expired signature under strict (SIGNATURE_EXPIRED), logs it under permissive', async () => {
    const now = Date.now();
    const { reg } = setup(makeJws, { signingTime: now - 7200_000, expiry: now - 3600_000 });
    await expect(refusal(verify(reg, `${NAME}:1.0`, trusting()))).resolves.toMatchObject({ code: 'SIGNATURE_EXPIRED' });
    const v = await verify(reg, `${NAME}:1.0`, trusting(pki, statement({ signatureVerification: verification('permissive') })));
    expect(v.unchecked).toBe(false);
    expect((v.evidence as { logged: readonly string[] }).logged).toEqual([expect.stringMatching(/^expiry: the signature expired/)]);
  });

  it('an unexpired signature lasts until its expiry at most', async () => {
    const expiry = Math.floor((Date.now() + 600_000) / 1000) * 1000;
    const { reg } = setup(makeCose, { expiry });
    await expect(verify(reg, `${NAME}:1.0`, trusting())).resolves.toMatchObject({ expires: expiry });
  });

  it('refuses a chain not valid now without a tsa store (TIMESTAMP_INVALID); override authenticTimestamp: log admits it', async () => {
    const { reg } = setup(makeJws);
    const later = () => pki.leaf.x509.validToDate.getTime() + 1000;
    await expect(refusal(verify(reg, `${NAME}:1.0`, trusting(), later))).resolves.toMatchObject({ code: 'TIMESTAMP_INVALID' });
    const relaxed = statement({ signatureVerification: verification('strict', { authenticTimestamp: 'log' }) });
    await expect(verify(reg, `${NAME}:1.0`, trusting(pki, relaxed), later)).resolves.toMatchObject({ unchecked: false, expires: Number.POSITIVE_INFINITY });
  });

  it('with a tsa store, refuses a signature without a countersignature; afterCertExpiry with the chain valid needs none', async () => {
    const { reg } = setup(makeJws);
    const st = statement({ trustStores: [{ type: 'ca', name: 'acme' }, { type: 'tsa', name: 'tsa' }] });
    const s = spec([st], { 'ca:acme': [pki.root.der], 'tsa:tsa': [pki.root.der] });
    const r = await refusal(verify(reg, `${NAME}:1.0`, s));
    expect(r).toMatchObject({ code: 'TIMESTAMP_INVALID' });
    expect(r.message).toContain('no timestamp countersignature');
    // afterCertExpiry with the chain valid: no timestamp needed.
    const after = statement({ trustStores: st.trustStores, signatureVerification: verification('strict', {}, 'afterCertExpiry') });
    await expect(verify(reg, `${NAME}:1.0`, spec([after], { 'ca:acme': [pki.root.der], 'tsa:tsa': [pki.root.der] }))).resolves.toMatchObject({ unchecked: false });
  });
});

describe('levels', () => {
  it('skip: admits unchecked without fetching any signature', async () => {
    const reg = new MemoryRegistry();
    const target = pushImage(reg, REPO, '1.0');
    const v = await verify(reg, `${NAME}:1.0`, trusting(pki, statement({ signatureVerification: verification('skip'), trustStores: [], trustedIdentities: [] })));
    expect(v).toMatchObject({ unchecked: true, digest: target.digest, evidence: { level: 'skip', signatures: [] } });
    expect(reg.requests.filter((r) => !r.startsWith('resolve'))).toEqual([]);
  });

  it('audit: an untrusted signer is admitted unchecked with the failure logged; a broken signature is still refused', async () => {
    const { reg } = setup(makeJws);
    const stranger = makePki({ rootSubject: 'C=US,ST=WA,O=Other,CN=Other Root' });
    const audit = statement({ signatureVerification: verification('audit') });
    const v = await verify(reg, `${NAME}:1.0`, trusting(stranger, audit));
    expect(v.unchecked).toBe(true);
    expect((v.evidence as { logged: readonly string[] }).logged[0]).toMatch(/^authenticity: no certificate of the chain/);
    const bad = setup(makeJws, { tamper: (s) => Buffer.from(s.map((b, i) => (i === 0 ? b ^ 1 : b))) });
    await expect(refusal(verify(bad.reg, `${NAME}:1.0`, trusting(pki, audit)))).resolves.toMatchObject({ code: 'SIGNATURE_INVALID' });
  });

  it('audit with a trusted signer is a verified answer', async () => {
    const { reg } = setup(makeJws);
    await expect(verify(reg, `${NAME}:1.0`, trusting(pki, statement({ signatureVerification: verification('audit') })))).resolves.toMatchObject({ unchecked: false });
  });

  it('revocation: a certificate naming a CRL is refused under strict (REVOCATION_UNAVAILABLE), logged under permissive, ignored when skipped', async () => {
    const p = makePki({ leaf: { crl: true } });
    const reg = new MemoryRegistry();
    const target = pushImage(reg, REPO, '1.0');
    pushSignature(reg, REPO, target, makeJws({ target, chain: chain(p), key: p.leafKey }));
    await expect(refusal(verify(reg, `${NAME}:1.0`, trusting(p)))).resolves.toMatchObject({ code: 'REVOCATION_UNAVAILABLE' });
    const permissive = await verify(reg, `${NAME}:1.0`, trusting(p, statement({ signatureVerification: verification('permissive') })));
    expect((permissive.evidence as { logged: readonly string[] }).logged).toEqual([expect.stringMatching(/^revocation: /)]);
    const skipped = await verify(reg, `${NAME}:1.0`, trusting(p, statement({ signatureVerification: verification('strict', { revocation: 'skip' }) })));
    expect((skipped.evidence as { logged: readonly string[] }).logged).toEqual([]);
  });
});

describe('trusted identities', () => {
  it('admits a leaf whose subject contains every attribute of an identity, refuses another (IDENTITY_MISMATCH)', async () => {
    const { reg } = setup(makeJws);
    const ok = statement({ trustedIdentities: [identity('x509.subject: C=US, ST=WA, O=Acme')] });
    await expect(verify(reg, `${NAME}:1.0`, trusting(pki, ok))).resolves.toMatchObject({ unchecked: false });
    const other = statement({ trustedIdentities: [identity('x509.subject: C=US, ST=WA, O=Other')] });
    await expect(refusal(verify(reg, `${NAME}:1.0`, trusting(pki, other)))).resolves.toMatchObject({ code: 'IDENTITY_MISMATCH' });
  });
});

describe('discovery and selection', () => {
  it('refuses an image without signatures (NO_SIGNATURES) and one no statement applies to (NO_TRUST_POLICY)', async () => {
    const reg = new MemoryRegistry();
    pushImage(reg, REPO, '1.0');
    await expect(refusal(verify(reg, `${NAME}:1.0`, trusting()))).resolves.toMatchObject({ code: 'NO_SIGNATURES' });
    const scoped = statement({ registryScopes: ['registry.test:5000/team/other'] });
    await expect(refusal(verify(reg, `${NAME}:1.0`, trusting(pki, scoped)))).resolves.toMatchObject({ code: 'NO_TRUST_POLICY' });
  });

  it('one verifying signature is enough, after failing ones; the refusal names every signature examined', async () => {
    const reg = new MemoryRegistry();
    const target = pushImage(reg, REPO, '1.0');
    const stranger = makePki({ leafSubject: dn('C=US,ST=WA,O=Mallory,CN=m') });
    pushSignature(reg, REPO, target, makeJws({ target, chain: chain(stranger), key: stranger.leafKey }));
    await expect(refusal(verify(reg, `${NAME}:1.0`, trusting()))).resolves.toMatchObject({ code: 'CERTIFICATE_INVALID' });
    pushSignature(reg, REPO, target, makeCose({ target, chain: chain(), key: pki.leafKey }), 'application/cose');
    const v = await verify(reg, `${NAME}:1.0`, trusting());
    expect(v.evidence).toMatchObject({ signatures: [{ envelope: 'cose' }] });
  });

  it('verifies name@digest as written, without resolving a tag', async () => {
    const { reg, target } = setup(makeJws);
    const v = await verify(reg, `${NAME}@${target.digest}`, trusting());
    expect(v).toMatchObject({ digest: target.digest, tag: undefined, reference: `${NAME}@${target.digest}` });
    expect(reg.requests.filter((r) => r.startsWith('resolve'))).toEqual([]);
  });
});
