// What whoever can push to an image's repository (or answer for its registry) can try against a
// cosign authority: every forged, swapped, replayed or oversized signature must be refused with
// its reason, and none may make an image run that the policy's signer did not sign.
import { addLegacyLayer, cosignStatement, keyPair, pushImage, signBundle, signBytes, signLegacy, simpleSigningPayload, SIMPLE_SIGNING } from '../support/cosign-format.js';
import { parseReference } from '../../src/reference/index.js';
import { CosignVerifier } from '../../src/trust/cosign/index.js';
import { cosignSpec, refusal, verifyCosign } from '../support/cosign-verify.js';
import { MemoryRegistry } from '../support/memory-registry.js';

const REPO = 'team/app';
const NAME = `registry.test:5000/${REPO}`;
const signer = keyPair('ecdsa-p256');
const attacker = keyPair('ecdsa-p256');
const spec = cosignSpec({ keys: [signer.pem], tlog: { required: false } });

function image(): { registry: MemoryRegistry; digest: string } {
  const registry = new MemoryRegistry();
  return { registry, digest: pushImage(registry, REPO, '1.0', 'release') };
}

describe('forged and swapped signatures', () => {
  it('refuses a signature by a key the policy does not name (legacy and bundle)', async () => {
    const { registry, digest } = image();
    signLegacy(registry, REPO, NAME, digest, attacker.privateKey);
    signBundle(registry, REPO, digest, attacker.privateKey);
    const r = await refusal(verifyCosign(registry, `${NAME}:1.0`, spec));
    expect(r.code).toBe('SIGNATURE_INVALID');
    expect(r.message).toContain('none of its 2 cosign signatures verified');
    expect(r.message).toMatch(/bundle sha256:[0-9a-f]{12}: SIGNATURE_INVALID: not a signature of the statement by the policy's key/);
    expect(r.message).toMatch(/\.sig layer 0 \(sha256:[0-9a-f]{12}\): SIGNATURE_INVALID: not a signature of the payload by the policy's key/);
  });

  it("refuses the signer's real signature of ANOTHER image copied next to this one (legacy)", async () => {
    const { registry, digest } = image();
    const other = pushImage(registry, REPO, 'other', 'another build');
    // The signer signed `other`; the attacker copies that exact layer under this digest's .sig tag.
    signLegacy(registry, REPO, NAME, digest, signer.privateKey, { payload: simpleSigningPayload(NAME, other) });
    const r = await refusal(verifyCosign(registry, `${NAME}:1.0`, spec));
    expect(r.code).toBe('PAYLOAD_MISMATCH');
    expect(r.message).toContain(`names ${other}, not ${digest}`);
  });

  it('refuses a bundle whose valid signature is over a statement for another subject', async () => {
    const { registry, digest } = image();
    const other = pushImage(registry, REPO, 'other', 'another build');
    signBundle(registry, REPO, digest, signer.privateKey, { statement: cosignStatement(other) });
    const r = await refusal(verifyCosign(registry, `${NAME}:1.0`, spec));
    expect(r.code).toBe('PAYLOAD_MISMATCH');
    expect(r.message).toContain(`subject is ${other}`);
  });

  it('refuses a signed attestation (another predicate type) as a signature', async () => {
    const { registry, digest } = image();
    signBundle(registry, REPO, digest, signer.privateKey, { statement: cosignStatement(digest, 'https://slsa.dev/provenance/v1') });
    const r = await refusal(verifyCosign(registry, `${NAME}:1.0`, spec));
    expect(r.code).toBe('PAYLOAD_MISMATCH');
    expect(r.message).toContain('an attestation, not a signature');
  });

  it('refuses a signed payload of another type than cosign image signatures', async () => {
    const { registry, digest } = image();
    signLegacy(registry, REPO, NAME, digest, signer.privateKey, { payload: simpleSigningPayload(NAME, digest, 'atomic container signature') });
    expect((await refusal(verifyCosign(registry, `${NAME}:1.0`, spec))).code).toBe('PAYLOAD_MISMATCH');
  });

  it('refuses a tampered signature (one bit flipped)', async () => {
    const { registry, digest } = image();
    const payload = simpleSigningPayload(NAME, digest);
    const good = keySign(payload);
    good[good.length - 3]! ^= 1;
    signLegacy(registry, REPO, NAME, digest, signer.privateKey, { payload, signature: good });
    expect((await refusal(verifyCosign(registry, `${NAME}:1.0`, spec))).code).toBe('SIGNATURE_INVALID');
  });

  it('refuses a tampered payload: the layer points at other bytes than were signed', async () => {
    const { registry, digest } = image();
    const signed = simpleSigningPayload(NAME, digest);
    const tampered = Buffer.from(signed.toString('utf8').replace('"optional":null', '"optional":{"x":"y"}'));
    const blob = registry.putBlob(tampered);
    addLegacyLayer(registry, REPO, digest, { mediaType: SIMPLE_SIGNING, size: blob.size, digest: blob.digest, annotations: { 'dev.cosignproject.cosign/signature': keySign(signed).toString('base64') } });
    expect((await refusal(verifyCosign(registry, `${NAME}:1.0`, spec))).code).toBe('SIGNATURE_INVALID');
  });

  it('refuses a bundle whose statement was edited after signing', async () => {
    const { registry, digest } = image();
    signBundle(registry, REPO, digest, signer.privateKey, {
      edit: (b) => {
        const env = b.dsseEnvelope as { payload: string };
        env.payload = Buffer.from(cosignStatement(digest).toString('utf8').replace('"predicate":{}', '"predicate":{"edited":true}')).toString('base64');
      },
    });
    expect((await refusal(verifyCosign(registry, `${NAME}:1.0`, spec))).code).toBe('SIGNATURE_INVALID');
  });

  it('refuses a keyless (certificate) signature under a keyed policy, and a key-signed one under a keyless policy', async () => {
    const { registry, digest } = image();
    signLegacy(registry, REPO, NAME, digest, signer.privateKey);
    const keyless = cosignSpec({ keyless: { identities: [{ issuer: 'https://accounts.google.com', subject: 'a@example.com' }] } });
    const r = await refusal(verifyCosign(registry, `${NAME}:1.0`, keyless));
    expect(r.code).toBe('CERTIFICATE_INVALID');
    expect(r.message).toContain('signed with a key?');
  });
});

describe('minSignatures counts signers', () => {
  const two = cosignSpec({ keys: [signer.pem, attacker.pem], tlog: { required: false }, minSignatures: 2 });

  it('counts one signer once: the same key signing twice, in both formats', async () => {
    const { registry, digest } = image();
    signLegacy(registry, REPO, NAME, digest, signer.privateKey);
    signLegacy(registry, REPO, NAME, digest, signer.privateKey);
    signBundle(registry, REPO, digest, signer.privateKey);
    const r = await refusal(verifyCosign(registry, `${NAME}:1.0`, two));
    expect(r.code).toBe('THRESHOLD_NOT_MET');
    expect(r.message).toContain('1 of the 2 distinct signers');
  });

  it('counts one signature copied into two layers once', async () => {
    const { registry, digest } = image();
    signLegacy(registry, REPO, NAME, digest, signer.privateKey);
    const sigTag = `${digest.replace(':', '-')}.sig`;
    const manifest = JSON.parse(registry.contents.manifests.get(registry.contents.tags.get(REPO)!.get(sigTag)!)!.bytes.toString('utf8')) as { layers: unknown[] };
    addLegacyLayer(registry, REPO, digest, manifest.layers[0]);
    expect((await refusal(verifyCosign(registry, `${NAME}:1.0`, two))).code).toBe('THRESHOLD_NOT_MET');
    signLegacy(registry, REPO, NAME, digest, attacker.privateKey);
    await expect(verifyCosign(registry, `${NAME}:1.0`, two)).resolves.toMatchObject({ digest });
  });
});

describe('the digest that runs is the one the tag names now', () => {
  it('refuses a tag moved to an unsigned manifest, though the old digest stays signed', async () => {
    const { registry, digest } = image();
    signLegacy(registry, REPO, NAME, digest, signer.privateKey);
    signBundle(registry, REPO, digest, signer.privateKey);
    await expect(verifyCosign(registry, `${NAME}:1.0`, spec)).resolves.toMatchObject({ digest });
    const pushed = pushImage(registry, REPO, '1.0', 'unsigned push over the tag');
    const r = await refusal(verifyCosign(registry, `${NAME}:1.0`, spec));
    expect(r.code).toBe('NO_SIGNATURES');
    expect(r.message).toContain(pushed);
    expect(r.message).not.toContain(digest);
  });

  it("never pins to a digest named by a signature: the old image's signature copied under the new digest is refused", async () => {
    const { registry, digest } = image();
    const pushed = pushImage(registry, REPO, '1.0', 'unsigned push over the tag');
    signLegacy(registry, REPO, NAME, pushed, signer.privateKey, { payload: simpleSigningPayload(NAME, digest) });
    expect((await refusal(verifyCosign(registry, `${NAME}:1.0`, spec))).code).toBe('PAYLOAD_MISMATCH');
  });
});

describe('bounds', () => {
  it('gives up at the verification\'s deadline when the registry stalls', async () => {
    const { registry, digest } = image();
    signLegacy(registry, REPO, NAME, digest, signer.privateKey);
    registry.stallBlobs = true;
    const started = Date.now();
    const r = await refusal(new CosignVerifier(registry).verify(parseReference(`${NAME}:1.0`), spec, { credentials: undefined, signal: new AbortController().signal, timeoutMs: 200 }));
    expect(r.code).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('stops when the review is aborted', async () => {
    const { registry, digest } = image();
    signLegacy(registry, REPO, NAME, digest, signer.privateKey);
    registry.stallBlobs = true;
    const review = new AbortController();
    const pending = refusal(new CosignVerifier(registry).verify(parseReference(`${NAME}:1.0`), spec, { credentials: undefined, signal: review.signal, timeoutMs: 60_000 }));
    review.abort();
    expect((await pending).code).toBe('TIMEOUT');
  });

  it('refuses more than 32 legacy signature layers rather than examine some of them', async () => {
    const { registry, digest } = image();
    for (let i = 0; i < 33; i++) signLegacy(registry, REPO, NAME, digest, attacker.privateKey);
    const r = await refusal(verifyCosign(registry, `${NAME}:1.0`, spec));
    expect(r.code).toBe('TOO_LARGE');
    expect(r.message).toContain('33 signature layers');
  });

  it('asks the registry for at most 32 referrers (more is its error, never a cut)', async () => {
    const { registry, digest } = image();
    for (let i = 0; i < 33; i++) signBundle(registry, REPO, digest, attacker.privateKey);
    expect((await refusal(verifyCosign(registry, `${NAME}:1.0`, spec))).code).toBe('TOO_LARGE');
  });

  it('does not fetch an oversized payload or bundle, and still admits on another valid signature', async () => {
    const { registry, digest } = image();
    const huge = registry.putBlob(Buffer.alloc(64 * 1024 + 1, 0x20));
    addLegacyLayer(registry, REPO, digest, { mediaType: SIMPLE_SIGNING, size: huge.size, digest: huge.digest, annotations: { 'dev.cosignproject.cosign/signature': 'AAAA' } });
    const bigBundle = registry.putBlob(Buffer.alloc(256 * 1024 + 1, 0x20));
    const manifestWithHugeLayer = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', size: 2, digest: registry.putBlob(Buffer.from('{}')).digest },
      layers: [{ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', size: bigBundle.size, digest: bigBundle.digest }],
      subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 1, digest },
    });
    registry.putManifest(REPO, Buffer.from(manifestWithHugeLayer));
    const r = await refusal(verifyCosign(registry, `${NAME}:1.0`, spec));
    expect(r.code).toBe('TOO_LARGE');
    expect(r.message).toMatch(/TOO_LARGE: bundle of 262145 bytes/);
    expect(r.message).toMatch(/TOO_LARGE: payload of 65537 bytes/);
    expect(registry.requests.filter((q) => q.includes(huge.digest) || q.includes(bigBundle.digest))).toEqual([]);

    signLegacy(registry, REPO, NAME, digest, signer.privateKey);
    await expect(verifyCosign(registry, `${NAME}:1.0`, spec)).resolves.toMatchObject({ digest });
  });

  it('keeps the refusal message bounded however many signatures failed', async () => {
    const { registry, digest } = image();
    for (let i = 0; i < 32; i++) signLegacy(registry, REPO, NAME, digest, attacker.privateKey);
    const r = await refusal(verifyCosign(registry, `${NAME}:1.0`, spec));
    expect(r.message.length).toBeLessThanOrEqual(1200);
    expect(r.message).toContain('none of its 32 cosign signatures verified');
  });

  it('refuses JSON nested past its bound in a payload without parsing it', async () => {
    const { registry, digest } = image();
    const deep = Buffer.from(`${'['.repeat(40)}${']'.repeat(40)}`);
    signLegacy(registry, REPO, NAME, digest, signer.privateKey, { payload: deep });
    const r = await refusal(verifyCosign(registry, `${NAME}:1.0`, spec));
    expect(r.code).toBe('PAYLOAD_MISMATCH');
    expect(r.message).toContain('not a simple-signing document');
  });
});

function keySign(payload: Buffer): Buffer {
  return signBytes(signer.privateKey, payload);
}
