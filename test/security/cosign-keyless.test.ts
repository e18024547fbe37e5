// Keyless attacks on real recorded signatures (test/fixtures/cosign): the wrong signer, a pattern
// that would match too much, a root that does not hold the CA, a log entry of another signature,
// a signature of another image. Each refusal is also cosign v3.1.3's verdict (fixtures README),
// except the unanchored pattern, which cosign accepts and trustgate refuses by design
// (docs/policy.md "Identity patterns").
import { ATTESTATION, bundleRegistry, LEGACY, legacyRegistry, MESSAGE, rootWithoutCurrentFulcio, rootWithoutRekor, TRUSTED_ROOT } from '../support/cosign-fixtures.js';
import { cosignSpec, refusal, verifyCosign } from '../support/cosign-verify.js';

const image = `${LEGACY.name}@${LEGACY.digest}`;
const keyless = (identity: object, trustedRoot = TRUSTED_ROOT) => cosignSpec({ keyless: { identities: [identity], trustedRoot } });
const right = { issuer: LEGACY.issuer, subject: LEGACY.identity };

/** A recorded bundle whose DSSE statement is rewritten as `cosign sign`'s of `digest` (its signature no longer verifies). */
function asCosignSignature(bundle: Buffer, digest: string): Buffer {
  const b = JSON.parse(bundle.toString('utf8')) as { dsseEnvelope: { payload: string } };
  const statement = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString('utf8')) as Record<string, unknown>;
  statement.predicateType = 'https://sigstore.dev/cosign/sign/v1';
  statement.subject = [{ name: 'image', digest: { sha256: digest.slice('sha256:'.length) } }];
  b.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
  return Buffer.from(JSON.stringify(b));
}

describe('identity', () => {
  it.each([
    ['another subject', { issuer: LEGACY.issuer, subject: 'attacker@cosign-test-383122.iam.gserviceaccount.com' }],
    ['another issuer', { issuer: 'https://token.actions.githubusercontent.com', subject: LEGACY.identity }],
    ['an issuer pattern for another issuer', { issuerRegExp: 'https://accounts\\.google\\.org', subject: LEGACY.identity }],
  ])('refuses %s with IDENTITY_MISMATCH naming who signed', async (_what, identity) => {
    const r = await refusal(verifyCosign(legacyRegistry(), image, keyless(identity)));
    expect(r.code).toBe('IDENTITY_MISMATCH');
    expect(r.message).toContain(`signed by "${LEGACY.identity}" (issuer "${LEGACY.issuer}")`);
    // Refused on the identity the certificate claims, before any chain, SCT or log check.
    expect(r.message).toContain('not checked further');
  });

  it.each([
    ['a fragment of the subject', { issuer: LEGACY.issuer, subjectRegExp: 'cosign-test-383122' }],
    ['a prefix of the subject', { issuer: LEGACY.issuer, subjectRegExp: 'cosign@' }],
    ['a fragment of the issuer', { issuerRegExp: 'google', subject: LEGACY.identity }],
  ])('refuses a pattern that matches only %s (cosign, unanchored, would accept it)', async (_what, identity) => {
    expect((await refusal(verifyCosign(legacyRegistry(), image, keyless(identity)))).code).toBe('IDENTITY_MISMATCH');
  });

  it('refuses a keyless bundle of the wrong identity too', async () => {
    const registry = bundleRegistry(ATTESTATION.bundle, ATTESTATION.repository, ATTESTATION.digest);
    const r = await refusal(verifyCosign(registry, `${ATTESTATION.name}@${ATTESTATION.digest}`, keyless({ issuer: ATTESTATION.issuer, subject: 'someone@soyland.com' })));
    expect(r.code).toBe('IDENTITY_MISMATCH');
  });
});

describe('trusted root', () => {
  it('refuses a certificate whose Fulcio CA the root does not hold (legacy and bundle)', async () => {
    const legacy = await refusal(verifyCosign(legacyRegistry(), image, keyless(right, rootWithoutCurrentFulcio())));
    expect(legacy.code).toBe('CERTIFICATE_INVALID');
    // The recorded bundle is an attestation, refused (PAYLOAD_MISMATCH) before any crypto; its
    // statement rewritten as `cosign sign`'s of the image gets as far as the chain (its signature
    // no longer verifies, but sigstore-js checks the chain first).
    const registry = bundleRegistry(asCosignSignature(ATTESTATION.bundle, ATTESTATION.digest), ATTESTATION.repository, ATTESTATION.digest);
    const id = { issuer: ATTESTATION.issuer, subject: ATTESTATION.identity };
    const bundle = await refusal(verifyCosign(registry, `${ATTESTATION.name}@${ATTESTATION.digest}`, keyless(id, rootWithoutCurrentFulcio())));
    expect(bundle.code).toBe('CERTIFICATE_INVALID');
    // Control: with the whole root the chain verifies, and the rewritten statement is what fails.
    const whole = await refusal(verifyCosign(registry, `${ATTESTATION.name}@${ATTESTATION.digest}`, keyless(id)));
    expect(whole.code).not.toBe('CERTIFICATE_INVALID');
  });

  it("refuses a log entry whose log the root does not hold", async () => {
    expect((await refusal(verifyCosign(legacyRegistry(), image, keyless(right, rootWithoutRekor())))).code).toBe('TLOG_INVALID');
  });
});

describe('transparency-log entry', () => {
  type Manifest = { layers: { annotations: Record<string, string> }[] };
  const keylessLayer = (m: Manifest) => m.layers[1]!.annotations;
  const rekorBundle = (m: Manifest) => JSON.parse(keylessLayer(m)['dev.sigstore.cosign/bundle']!) as { SignedEntryTimestamp: string; Payload: { body: string; integratedTime: number; logIndex: number; logID: string } };

  it('refuses a SET that does not sign the entry as given (another log index)', async () => {
    const registry = legacyRegistry({
      edit: (m) => {
        const b = rekorBundle(m);
        b.Payload.logIndex += 1;
        keylessLayer(m)['dev.sigstore.cosign/bundle'] = JSON.stringify(b);
      },
    });
    const r = await refusal(verifyCosign(registry, image, keyless(right)));
    expect(r.code).toBe('TLOG_INVALID');
  });

  it("refuses a valid SET of another entry: the conformance bundle's real Rekor entry and SET under this signature", async () => {
    const other = JSON.parse(MESSAGE.bundle.toString('utf8')) as { verificationMaterial: { tlogEntries: { logIndex: string; logId: { keyId: string }; integratedTime: string; inclusionPromise: { signedEntryTimestamp: string }; canonicalizedBody: string }[] } };
    const entry = other.verificationMaterial.tlogEntries[0]!;
    const registry = legacyRegistry({
      edit: (m) => {
        keylessLayer(m)['dev.sigstore.cosign/bundle'] = JSON.stringify({
          SignedEntryTimestamp: entry.inclusionPromise.signedEntryTimestamp,
          Payload: { body: entry.canonicalizedBody, integratedTime: Number(entry.integratedTime), logIndex: Number(entry.logIndex), logID: Buffer.from(entry.logId.keyId, 'base64').toString('hex') },
        });
      },
    });
    const r = await refusal(verifyCosign(registry, image, keyless(right)));
    expect(r.code).toBe('TLOG_INVALID');
    expect(r.message).toContain('another certificate');
  });

  it('refuses a keyless layer without its Rekor bundle', async () => {
    const registry = legacyRegistry({ edit: (m) => void delete keylessLayer(m)['dev.sigstore.cosign/bundle'] });
    expect((await refusal(verifyCosign(registry, image, keyless(right)))).code).toBe('TLOG_INVALID');
  });

  it('refuses a keyless layer whose signature was swapped for the KMS one (valid over the payload, by another key)', async () => {
    const registry = legacyRegistry({ edit: (m) => void (keylessLayer(m)['dev.cosignproject.cosign/signature'] = m.layers[0]!.annotations['dev.cosignproject.cosign/signature']!) });
    expect(['SIGNATURE_INVALID', 'TLOG_INVALID']).toContain((await refusal(verifyCosign(registry, image, keyless(right)))).code);
  });
});

describe('another image', () => {
  it('refuses the recorded signature manifest tagged for another digest: the payload names the signed one', async () => {
    const other = `sha256:${'1'.repeat(64)}`;
    const r = await refusal(verifyCosign(legacyRegistry({ forDigest: other }), `${LEGACY.name}@${other}`, keyless(right)));
    expect(r.code).toBe('PAYLOAD_MISMATCH');
    expect(r.message).toContain(`names ${LEGACY.digest}`);
  });
});
