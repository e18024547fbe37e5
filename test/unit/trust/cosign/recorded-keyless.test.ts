// Real keyless cosign signatures (test/fixtures/cosign, README there), each verdict the one
// `cosign verify` v3.1.3 gives offline with the same trusted root.
import { ATTESTATION, bundleRegistry, LEGACY, legacyRegistry, MESSAGE, TRUSTED_ROOT } from '../../../support/cosign-fixtures.js';
import { cosignSpec, refusal, verifyCosign } from '../../../support/cosign-verify.js';

const image = `${LEGACY.name}@${LEGACY.digest}`;
const keyless = (identity: object, trustedRoot: string | undefined = TRUSTED_ROOT) => cosignSpec({ keyless: { identities: [identity], ...(trustedRoot !== undefined && { trustedRoot }) } });

describe('legacy keyless signature (cosign 2.0, Fulcio + Rekor SET, 2023)', () => {
  it('verifies as cosign verify --certificate-identity … --certificate-oidc-issuer … does', async () => {
    const v = await verifyCosign(legacyRegistry(), image, keyless({ issuer: LEGACY.issuer, subject: LEGACY.identity }));
    expect(v).toMatchObject({ digest: LEGACY.digest, reference: image, tag: undefined });
    expect(v.evidence).toMatchObject({
      kind: 'cosign',
      signatures: [{ format: 'legacy', identity: { subject: LEGACY.identity, issuer: LEGACY.issuer }, tlog: { logIndex: LEGACY.logIndex, integratedTime: LEGACY.integratedTime } }],
    });
  });

  it('verifies against the public-good root shipped with @sigstore/tuf, offline, when the policy names none', async () => {
    await expect(verifyCosign(legacyRegistry(), image, keyless({ issuer: LEGACY.issuer, subject: LEGACY.identity }, undefined))).resolves.toMatchObject({ digest: LEGACY.digest });
  });

  it('matches identity patterns on the whole value', async () => {
    const spec = keyless({ issuerRegExp: 'https://accounts\\.google\\.com', subjectRegExp: '[a-z]+@cosign-test-383122\\.iam\\.gserviceaccount\\.com' });
    await expect(verifyCosign(legacyRegistry(), image, spec)).resolves.toMatchObject({ digest: LEGACY.digest });
  });

  it('verifies the KMS-key layer of the same manifest as cosign verify --key … --insecure-ignore-tlog does', async () => {
    const v = await verifyCosign(legacyRegistry(), image, cosignSpec({ keys: [LEGACY.kmsKey], tlog: { required: false } }));
    expect(v.evidence).toMatchObject({ signatures: [{ format: 'legacy', keyId: expect.stringMatching(/^[0-9a-f]{64}$/) }] });
  });

  it('refuses the KMS-key layer when the log is required: it has no entry', async () => {
    const r = await refusal(verifyCosign(legacyRegistry(), image, cosignSpec({ keys: [LEGACY.kmsKey] })));
    expect(r.code).toBe('TLOG_INVALID');
    expect(r.message).toContain('.sig layer 0');
  });
});

describe('bundle v0.3 attestation (cosign attest, 2025)', () => {
  it('verifies signature, chain, log and identity, and still refuses it: an attestation is not a signature', async () => {
    const registry = bundleRegistry(ATTESTATION.bundle, ATTESTATION.repository, ATTESTATION.digest);
    const r = await refusal(verifyCosign(registry, `${ATTESTATION.name}@${ATTESTATION.digest}`, keyless({ issuer: ATTESTATION.issuer, subject: ATTESTATION.identity })));
    expect(r.code).toBe('PAYLOAD_MISMATCH');
    expect(r.message).toContain('https://cosign.sigstore.dev/attestation/v1');
  });
});

describe('bundle v0.3 message signature (sigstore-conformance, 2024)', () => {
  it('is refused as an image signature: it signs a blob, not a statement naming the image', async () => {
    const registry = bundleRegistry(MESSAGE.bundle, ATTESTATION.repository, ATTESTATION.digest);
    const r = await refusal(verifyCosign(registry, `${ATTESTATION.name}@${ATTESTATION.digest}`, keyless({ issuer: MESSAGE.issuer, subject: MESSAGE.identity })));
    expect(r.code).toBe('SIGNATURE_INVALID');
    expect(r.message).toContain('message-signature bundle');
  });
});
