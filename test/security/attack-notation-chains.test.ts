// ATTACK (i11-nattack): chain-building and scheme tricks against checkSignature, by an attacker
// who controls the registry (so every envelope byte and every certificate of x5c/x5chain) and
// holds no key the trust stores vouch for, or at most an expired one. Each test asserts the
// safe outcome: it FAILS if the attack got a signature accepted.
import { parseReference } from '../../src/reference/index.js';
import { checkSignature } from '../../src/trust/notation/check.js';
import { NotationVerifier } from '../../src/trust/notation/verifier.js';
import type { NotationSpec } from '../../src/trust/notation/types.js';
import { refusal } from '../support/cosign-verify.js';
import { MemoryRegistry } from '../support/memory-registry.js';
import { dn, ec, makeCert, makeCose, makeJws, makePki, pushImage, pushSignature, spec, statement, verification, type Target } from '../support/notation-pki.js';

const pki = makePki();
const target: Target = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 100 };
const trusting: NotationSpec = spec([statement()], { 'ca:acme': [pki.root.der] });

function check(envelope: Buffer, s: NotationSpec = trusting, mediaType = 'application/jose+json', now = Date.now()) {
  return checkSignature({ envelope, mediaType, statement: s.trustPolicy.statements[0]!, spec: s, target, now, budget: { remaining: 256 } });
}

describe.each([
  ['JWS', makeJws, 'application/jose+json'],
  ['COSE', makeCose, 'application/cose'],
] as const)('%s chains', (_n, make, mediaType) => {
  it('an intermediate with pathLen 0 cannot issue a further CA (the sub-CA signs the attacker leaf)', () => {
    // The trusted intermediate is pathLen 0; pretend its key signed a sub-CA (a CA mis-issuance).
    const subKey = ec();
    const sub = makeCert({ subject: dn('C=US,ST=WA,O=Acme,CN=Sub CA'), key: subKey, ca: true, issuer: { cert: pki.intermediate, key: pki.intermediateKey } });
    const leafKey = ec();
    const leaf = makeCert({ subject: dn('C=US,ST=WA,O=Acme,CN=evil'), key: leafKey, issuer: { cert: sub, key: subKey } });
    const r = check(make({ target, chain: [leaf.der, sub.der, pki.intermediate.der, pki.root.der], key: leafKey }), trusting, mediaType);
    expect(r).toMatchObject({ ok: false, code: 'CERTIFICATE_INVALID', reason: expect.stringContaining('path length') });
  });

  it('a forged intermediate carrying the real intermediate\'s name (other key) between the attacker leaf and the trusted root', () => {
    const fakeKey = ec();
    // Claims issuer = Acme Root, but signed by the attacker's own key.
    const fake = makeCert({ subject: dn('C=US,ST=WA,O=Acme,CN=Acme Intermediate'), key: fakeKey, ca: true, issuer: { cert: pki.root, key: fakeKey } });
    const leafKey = ec();
    const leaf = makeCert({ subject: dn('C=US,ST=WA,L=Seattle,O=Acme,OU=Build,CN=acme-signer'), key: leafKey, issuer: { cert: fake, key: fakeKey } });
    const r = check(make({ target, chain: [leaf.der, fake.der, pki.root.der], key: leafKey }), trusting, mediaType);
    expect(r).toMatchObject({ ok: false, code: 'CERTIFICATE_INVALID' });
  });

  it('an attacker self-signed leaf with the trusted root appended (authenticity by bytes, structure by signatures)', () => {
    const k = ec();
    const self = makeCert({ subject: dn('C=US,ST=WA,O=Acme,CN=Acme Root'), key: k });
    const r = check(make({ target, chain: [self.der, pki.root.der], key: k }), trusting, mediaType);
    expect(r.ok).toBe(false);
  });

  it('the real intermediate and root behind a leaf the intermediate did not sign (issuer name only)', () => {
    const k = ec();
    const leaf = makeCert({ subject: dn('C=US,ST=WA,O=Acme,CN=evil'), key: k, issuer: { cert: pki.intermediate, key: k } });
    const r = check(make({ target, chain: [leaf.der, pki.intermediate.der, pki.root.der], key: k }), trusting, mediaType);
    expect(r).toMatchObject({ ok: false, code: 'CERTIFICATE_INVALID', reason: expect.stringContaining('not signed by') });
  });

  it('a trust store holding the intermediate (not the root): a chain ending in an attacker root with the real root\'s name', () => {
    const byIntermediate = spec([statement()], { 'ca:acme': [pki.intermediate.der] });
    const k = ec();
    const fakeRoot = makeCert({ subject: dn('C=US,ST=WA,O=Acme,CN=Acme Root'), key: k, ca: true });
    const r = check(make({ target, chain: [pki.leaf.der, pki.intermediate.der, fakeRoot.der], key: pki.leafKey }), byIntermediate, mediaType);
    expect(r).toMatchObject({ ok: false, code: 'CERTIFICATE_INVALID' });
  });

  it('an expired leaf whose key leaked: re-signed now with signingScheme notary.x509.signingAuthority and a back-dated authentic signing time, against a statement whose signingAuthority store is someone else\'s', () => {
    const leafKey = ec();
    const expired = makeCert({ subject: dn('C=US,ST=WA,O=Acme,CN=old'), key: leafKey, issuer: { cert: pki.intermediate, key: pki.intermediateKey }, notBefore: Date.now() - 400 * 86400_000, notAfter: Date.now() - 30 * 86400_000 });
    const other = makePki({ rootSubject: 'C=US,ST=WA,O=Other,CN=Other SA Root' });
    const st = statement({ trustStores: [{ type: 'ca', name: 'acme' }, { type: 'signingAuthority', name: 'other' }] });
    const s = spec([st], { 'ca:acme': [pki.root.der], 'signingAuthority:other': [other.root.der] });
    const back = Date.now() - 100 * 86400_000;
    const r = check(make({ target, chain: [expired.der, pki.intermediate.der, pki.root.der], key: leafKey, scheme: 'notary.x509.signingAuthority', signingTime: back }), s, mediaType);
    expect(r.ok).toBe(false);
    // And as notary.x509 with a back-dated (unauthenticated) signing time, no tsa store: refused too.
    const r2 = check(make({ target, chain: [expired.der, pki.intermediate.der, pki.root.der], key: leafKey, signingTime: back }), s, mediaType);
    expect(r2.ok).toBe(false);
  });

  it('a leaf valid only in the future (notBefore tomorrow) is refused under strict without a tsa store', () => {
    const k = ec();
    const future = makeCert({ subject: dn('C=US,ST=WA,O=Acme,CN=future'), key: k, issuer: { cert: pki.intermediate, key: pki.intermediateKey }, notBefore: Date.now() + 86400_000 });
    expect(check(make({ target, chain: [future.der, pki.intermediate.der, pki.root.der], key: k }), trusting, mediaType).ok).toBe(false);
  });

  it('an expired intermediate is refused under strict without a tsa store', () => {
    const ik = ec();
    const inter = makeCert({ subject: dn('C=US,ST=WA,O=Acme,CN=Old Intermediate'), key: ik, ca: true, pathLen: 0, issuer: { cert: pki.root, key: pki.rootKey }, notBefore: Date.now() - 400 * 86400_000, notAfter: Date.now() - 86400_000 });
    const k = ec();
    const leaf = makeCert({ subject: dn('C=US,ST=WA,O=Acme,CN=leaf'), key: k, issuer: { cert: inter, key: ik } });
    expect(check(make({ target, chain: [leaf.der, inter.der, pki.root.der], key: k }), trusting, mediaType)).toMatchObject({ ok: false, code: 'TIMESTAMP_INVALID' });
  });

  it('audit level with an attacker self-signed signer: admitted only as untrusted (never "verified by notation")', () => {
    const k = ec();
    const self = makeCert({ subject: dn('C=US,ST=WA,O=Evil,CN=evil'), key: k });
    const audit = spec([statement({ signatureVerification: verification('audit') })], { 'ca:acme': [pki.root.der] });
    const r = check(make({ target, chain: [self.der], key: k }), audit, mediaType);
    expect(r).toMatchObject({ ok: true, untrusted: true });
    // strict with authenticity overridden to log: the same
    const logged = spec([statement({ signatureVerification: verification('strict', { authenticity: 'log' }) })], { 'ca:acme': [pki.root.der] });
    expect(check(make({ target, chain: [self.der], key: k }), logged, mediaType)).toMatchObject({ ok: true, untrusted: true });
  });
});

describe('through the verifier: one image\'s signature for another', () => {
  const REPO = 'team/app';
  const NAME = `registry.test:5000/${REPO}`;
  const s = spec([statement({ registryScopes: [NAME] })], { 'ca:acme': [pki.root.der] });
  const verify = (reg: MemoryRegistry, ref: string) => new NotationVerifier(reg).verify(parseReference(ref), s, { credentials: undefined, signal: new AbortController().signal, timeoutMs: 5000 });

  it('a genuine signature of image A, attached as a referrer of image B (subject B), does not admit B', async () => {
    const reg = new MemoryRegistry();
    const a = pushImage(reg, REPO, 'a', 'A');
    const b = pushImage(reg, REPO, 'b', 'B');
    pushSignature(reg, REPO, b, makeJws({ target: a, chain: [pki.leaf.der, pki.intermediate.der, pki.root.der], key: pki.leafKey }));
    const r = await refusal(verify(reg, `${NAME}:b`));
    expect(r.code).toBe('PAYLOAD_MISMATCH');
    // A itself verifies with its own signature attached (the control).
    pushSignature(reg, REPO, a, makeJws({ target: a, chain: [pki.leaf.der, pki.intermediate.der, pki.root.der], key: pki.leafKey }));
    await expect(verify(reg, `${NAME}:a`)).resolves.toMatchObject({ digest: a.digest, unchecked: false });
  });

  it('a signature naming B\'s digest with A\'s media type or size is refused (the descriptor is compared whole)', async () => {
    const reg = new MemoryRegistry();
    const b = pushImage(reg, REPO, 'b', 'B');
    for (const lie of [{ ...b, size: b.size + 1 }, { ...b, mediaType: 'application/vnd.docker.distribution.manifest.v2+json' }]) {
      pushSignature(reg, REPO, b, makeJws({ target: lie, chain: [pki.leaf.der, pki.intermediate.der, pki.root.der], key: pki.leafKey }));
    }
    expect((await refusal(verify(reg, `${NAME}:b`))).code).toBe('PAYLOAD_MISMATCH');
  });

  it('by digest: the pod\'s digest is the one checked and pinned, whatever the tag says', async () => {
    const reg = new MemoryRegistry();
    const a = pushImage(reg, REPO, 'a', 'A');
    const b = pushImage(reg, REPO, 'b', 'B');
    pushSignature(reg, REPO, a, makeJws({ target: a, chain: [pki.leaf.der, pki.intermediate.der, pki.root.der], key: pki.leafKey }));
    // tag a points at A (signed), but the pod names b's digest with tag a
    const r = await refusal(verify(reg, `${NAME}:a@${b.digest}`));
    expect(r.code).toBe('NO_SIGNATURES');
  });
});
