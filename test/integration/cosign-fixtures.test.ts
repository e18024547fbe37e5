// The recorded keyless signatures in test/fixtures/cosign (see its README for where each came
// from), put back into a local registry as cosign wrote them, and each expected verdict checked
// by the real cosign CLI offline: the verdicts the cosign verifier's tests rely on.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cosign } from '../support/cosign.js';
import {
  getManifest, pushBlob, putManifest, registryRequest, sha256Digest, startDockerRegistry, startReferrersRegistry,
  type RegistryServer,
} from '../support/registries.js';
import { testTools } from '../support/test-tools.js';

const FIXTURES = path.resolve('test/fixtures/cosign');
const TRUSTED_ROOT = path.join(FIXTURES, 'trusted_root.public-good.json');
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

// Built (minutes on a fresh machine) while the file loads, before jest's hook timeouts run.
testTools();

let dir: string;
let docker: RegistryServer;
let referrers: RegistryServer;
let cosign: Cosign;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-cosign-fixtures-'));
  [docker, referrers] = await Promise.all([startDockerRegistry(dir), startReferrersRegistry(dir)]);
  cosign = Cosign.create(path.join(dir, 'cosign'));
});

afterAll(async () => {
  await Promise.all([docker?.stop(), referrers?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

const readJson = (file: string): any => JSON.parse(readFileSync(file, 'utf8'));

/** The trusted root without the Fulcio CA that issued the recorded certificates. */
function rootWithoutCurrentFulcio(): string {
  const root = readJson(TRUSTED_ROOT);
  root.certificateAuthorities = root.certificateAuthorities.filter((ca: any) => ca.validFor.end !== undefined);
  const file = path.join(dir, 'trusted_root.without-fulcio-2022.json');
  writeFileSync(file, JSON.stringify(root));
  return file;
}

describe('legacy-keyless: a recorded .sig manifest (Fulcio certificate, chain, Rekor SET)', () => {
  const fixture = readJson(path.join(FIXTURES, 'legacy-keyless', 'fixture.json'));
  const keyless = fixture.layers[1];
  const repository = 'securebuild';
  const keylessOnly = 'securebuild-keyless';
  let image: string;
  let keylessImage: string;

  beforeAll(async () => {
    // The layers and their annotations as recorded; the payload rebuilt byte for byte (its
    // digest is the recorded layer digest); the config (not recorded, not signed) made anew.
    const recorded = readJson(path.join(FIXTURES, 'legacy-keyless', 'signature-manifest.json'));
    const payload = readFileSync(path.join(FIXTURES, 'legacy-keyless', fixture.payload));
    expect(sha256Digest(payload)).toBe(recorded.layers[0].digest);
    await pushBlob(docker, repository, payload);
    const config = Buffer.from(JSON.stringify({ architecture: '', os: '', config: {}, rootfs: { type: 'layers', diff_ids: recorded.layers.map((l: { digest: string }) => l.digest) } }));
    await pushBlob(docker, repository, config);
    const manifest = { ...recorded, config: { mediaType: recorded.config.mediaType, size: config.length, digest: sha256Digest(config) } };
    await putManifest(docker, repository, fixture.signatureTag, Buffer.from(JSON.stringify(manifest)), OCI_MANIFEST);
    image = `${docker.host}/${repository}@${fixture.image.digest}`;
    // The keyless layer alone, so that cosign's refusal names the keyless check that failed
    // (with both layers it reports the KMS layer's "empty key").
    await pushBlob(docker, keylessOnly, payload);
    await pushBlob(docker, keylessOnly, config);
    await putManifest(docker, keylessOnly, fixture.signatureTag, Buffer.from(JSON.stringify({ ...manifest, layers: [recorded.layers[1]] })), OCI_MANIFEST);
    keylessImage = `${docker.host}/${keylessOnly}@${fixture.image.digest}`;
  });

  const who = () => ({ identity: keyless.identity, issuer: keyless.issuer, trustedRoot: TRUSTED_ROOT });

  test('verified: its identity and issuer, the public-good trusted root of its time', async () => {
    for (const ref of [image, keylessImage]) {
      const verdict = await cosign.verifyKeyless(ref, who(), docker);
      expect(verdict.result.stderr).toContain('Existence of the claims in the transparency log was verified offline');
      expect(verdict.verified).toBe(true);
      const [verified] = JSON.parse(verdict.result.stdout);
      expect(verified.critical.image['docker-manifest-digest']).toBe(fixture.image.digest);
    }
  });

  test('verified by the recorded KMS public key too (the other layer, no log entry)', async () => {
    const verdict = await cosign.verifyWithKey(image, path.join(FIXTURES, 'legacy-keyless', 'kms_pub.pem'), docker);
    expect(verdict.verified).toBe(true);
    expect((await cosign.verifyWithKey(keylessImage, path.join(FIXTURES, 'legacy-keyless', 'kms_pub.pem'), docker)).verified).toBe(false);
  });

  test('refused: another identity, another issuer, identity by a regexp that does not match', async () => {
    const identity = await cosign.verifyKeyless(keylessImage, { ...who(), identity: 'someone@example.com' }, docker);
    expect(identity.result.stderr).toContain('none of the expected identities matched what was in the certificate, got subjects [cosign@cosign-test-383122.iam.gserviceaccount.com] with issuer https://accounts.google.com');
    expect(identity.verified).toBe(false);
    const issuer = await cosign.verifyKeyless(keylessImage, { ...who(), issuer: 'https://token.actions.githubusercontent.com' }, docker);
    expect(issuer.result.stderr).toContain('none of the expected identities matched');
    expect(issuer.verified).toBe(false);
    const regexp = await cosign.run(['verify', '--certificate-identity-regexp', '^.*@example\\.com$', '--certificate-oidc-issuer', keyless.issuer,
      '--trusted-root', TRUSTED_ROOT, '--allow-insecure-registry', keylessImage]);
    expect(regexp.stderr).toContain('none of the expected identities matched');
    expect(regexp.code).not.toBe(0);
  });

  test('refused: a trusted root without the Fulcio CA that issued the certificate', async () => {
    const verdict = await cosign.verifyKeyless(keylessImage, { ...who(), trustedRoot: rootWithoutCurrentFulcio() }, docker);
    expect(verdict.result.stderr).toContain('leaf certificate verification failed');
    expect(verdict.verified).toBe(false);
  });

  test('refused: the signature of this image does not verify another digest', async () => {
    const otherDigest = `sha256:${'0'.repeat(64)}`;
    const sig = await getManifest(docker, keylessOnly, fixture.signatureTag);
    await putManifest(docker, keylessOnly, `${otherDigest.replace(':', '-')}.sig`, sig.bytes, OCI_MANIFEST);
    const verdict = await cosign.verifyKeyless(`${docker.host}/${keylessOnly}@${otherDigest}`, who(), docker);
    expect(verdict.result.stderr).toContain('invalid or missing digest in claim');
    expect(verdict.verified).toBe(false);
  });
});

describe('bundle-attestation: a recorded Sigstore bundle v0.3 (DSSE, Rekor inclusion proof) as a referrer', () => {
  const fixture = readJson(path.join(FIXTURES, 'bundle-attestation', 'fixture.json'));
  const repository = 'repo';
  let image: string;

  beforeAll(async () => {
    // Attached the way cosign attaches bundles (pkg/oci/remote/write.go, WriteReferrer): an
    // empty config, the bundle as the one layer, artifactType the bundle media type.
    // The signed image itself: go-containerregistry's empty.Image, byte for byte.
    const file = (name: string) => readFileSync(path.join(FIXTURES, 'bundle-attestation', name));
    const imageManifest = file(fixture.imageManifest);
    expect(sha256Digest(imageManifest)).toBe(fixture.image.digest);
    await pushBlob(referrers, repository, file(fixture.imageConfig));
    await putManifest(referrers, repository, 'latest', imageManifest, 'application/vnd.docker.distribution.manifest.v2+json');
    const bundle = file(fixture.bundle);
    const config = Buffer.from('{}');
    await pushBlob(referrers, repository, config);
    await pushBlob(referrers, repository, bundle);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: fixture.bundleMediaType,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256Digest(config), size: config.length },
      layers: [{ mediaType: fixture.bundleMediaType, digest: sha256Digest(bundle), size: bundle.length }],
      subject: { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: fixture.image.digest, size: imageManifest.length },
      annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope', 'dev.sigstore.bundle.predicateType': fixture.predicateType },
    }));
    await putManifest(referrers, repository, sha256Digest(manifest), manifest, OCI_MANIFEST);
    const listed = await registryRequest(referrers, `/v2/${repository}/referrers/${fixture.image.digest}`);
    expect(JSON.parse(listed.body.toString()).manifests).toHaveLength(1);
    image = `${referrers.host}/${repository}@${fixture.image.digest}`;
  });

  const attestation = (identity: string, trustedRoot = TRUSTED_ROOT) => cosign.run([
    'verify-attestation', '--type', fixture.predicateType, '--certificate-identity', identity, '--certificate-oidc-issuer', fixture.issuer,
    '--trusted-root', trustedRoot, '--allow-insecure-registry', image,
  ]);

  test('verified as an attestation: its identity and issuer, the public-good trusted root', async () => {
    const result = await attestation(fixture.identity);
    expect(result.stderr).toContain('verified');
    expect(result.code).toBe(0);
  });

  test('refused: another identity; a trusted root without the Fulcio CA that issued it', async () => {
    const identity = await attestation('someone@example.com');
    expect(identity.stderr).toContain('expected SAN value "someone@example.com", got "cody@soyland.com"');
    expect(identity.code).not.toBe(0);
    const root = await attestation(fixture.identity, rootWithoutCurrentFulcio());
    expect(root.stderr).toContain('leaf certificate verification failed');
    expect(root.code).not.toBe(0);
  });

  // cosign v3.1.3 takes every Sigstore bundle among the referrers as a signature (cmd/cosign/
  // cli/verify/verify.go: GetBundles, then VerifyImageAttestations) whatever its predicate type,
  // so `cosign verify` accepts an attestation as the image's signature. Whether trustgate asks
  // for the predicate type of `cosign sign` (https://sigstore.dev/cosign/sign/v1) is its own choice.
  test('also verified by `cosign verify`, which does not look at the predicate type', async () => {
    const verdict = await cosign.verifyKeyless(image, { identity: fixture.identity, issuer: fixture.issuer, trustedRoot: TRUSTED_ROOT }, referrers);
    expect(verdict.verified).toBe(true);
    const [claim] = JSON.parse(verdict.result.stdout);
    expect(claim.critical.type).toBe(fixture.predicateType);
    expect(claim.critical.image['docker-manifest-digest']).toBe(fixture.image.digest);
  });
});

describe('bundle-message: a recorded Sigstore bundle v0.3 of a file (message signature, SET and inclusion proof)', () => {
  const fixture = readJson(path.join(FIXTURES, 'bundle-message', 'fixture.json'));
  const file = (name: string) => path.join(FIXTURES, 'bundle-message', name);
  const verifyBlob = (artifact: string, identity: string, trustedRoot = TRUSTED_ROOT) => cosign.run([
    'verify-blob', '--bundle', file(fixture.bundle), '--certificate-identity', identity, '--certificate-oidc-issuer', fixture.issuer,
    '--trusted-root', trustedRoot, artifact,
  ]);

  test('verified: the file, its identity and issuer, the public-good trusted root', async () => {
    const result = await verifyBlob(file(fixture.artifact), fixture.identity);
    expect(result.stderr).toContain('Verified OK');
    expect(result.code).toBe(0);
  });

  test('refused: other bytes, another identity, a trusted root without the Fulcio CA that issued it', async () => {
    const other = path.join(dir, 'not-a.txt');
    writeFileSync(other, `${readFileSync(file(fixture.artifact), 'utf8')}tampered\n`);
    const bytes = await verifyBlob(other, fixture.identity);
    expect(bytes.stderr).toContain('invalid signature');
    expect(bytes.code).not.toBe(0);
    const identity = await verifyBlob(file(fixture.artifact), 'https://github.com/someone/else/.github/workflows/x.yml@refs/heads/main');
    expect(identity.stderr).toContain('no matching CertificateIdentity');
    expect(identity.code).not.toBe(0);
    const root = await verifyBlob(file(fixture.artifact), fixture.identity, rootWithoutCurrentFulcio());
    expect(root.stderr).toContain('leaf certificate verification failed');
    expect(root.code).not.toBe(0);
  });
});
