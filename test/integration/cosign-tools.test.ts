// The real parts the cosign tests stand on, doing what the facts say they do: cosign v3.1 signs
// in both formats in both registries (legacy `.sig` tags; bundles as the referrers tag schema on
// docker-registry, as referrers on the referrers registry), and its own `verify` takes the
// right key and refuses a wrong one. Then the referrers registry against the OCI distribution
// spec (OCI-Subject, artifactType, filtering, paging), beside go-containerregistry's own answers.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cosign, type CosignKeyPair, type ImportedKeyType } from '../support/cosign.js';
import {
  getManifest, pushBlob, pushImage, putManifest, registryRequest, sha256Digest, startDockerRegistry, startReferrersRegistry,
  type PushedImage, type RegistryServer,
} from '../support/registries.js';
import { testTools } from '../support/test-tools.js';
import { makeTls } from '../support/tls.js';
import { TOKEN_ISSUER, TOKEN_SERVICE, TOKEN_USER, TokenServer } from '../support/token-server.js';

const BUNDLE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const EMPTY_CONFIG = 'application/vnd.oci.empty.v1+json';

// Built (minutes on a fresh machine) while the file loads, before jest's hook timeouts run.
testTools();

let dir: string;
let docker: RegistryServer;
let referrers: RegistryServer;
let cosign: Cosign;
let publisher: CosignKeyPair;
let stranger: CosignKeyPair;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-cosign-tools-'));
  [docker, referrers] = await Promise.all([startDockerRegistry(dir), startReferrersRegistry(dir)]);
  cosign = Cosign.create(path.join(dir, 'cosign'));
  [publisher, stranger] = await Promise.all([cosign.generateKeyPair('publisher'), cosign.generateKeyPair('stranger')]);
});

afterAll(async () => {
  await Promise.all([docker?.stop(), referrers?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

const fallbackTag = (digest: string) => digest.replace(':', '-');

async function blobJson(registry: RegistryServer, repository: string, digest: string): Promise<any> {
  const res = await registryRequest(registry, `/v2/${repository}/blobs/${digest}`);
  expect(res.status).toBe(200);
  expect(sha256Digest(res.body)).toBe(digest);
  return JSON.parse(res.body.toString());
}

/** The bundle cosign wrote: a DSSE in-toto statement whose subject is the image digest. */
async function expectSignBundleFor(registry: RegistryServer, image: PushedImage, referrerDigest: string): Promise<void> {
  const manifest = await getManifest(registry, image.repository, referrerDigest);
  expect(manifest.json).toMatchObject({ artifactType: BUNDLE, config: { mediaType: EMPTY_CONFIG }, subject: { digest: image.digest } });
  expect(manifest.json.layers).toHaveLength(1);
  expect(manifest.json.layers[0].mediaType).toBe(BUNDLE);
  const bundle = await blobJson(registry, image.repository, manifest.json.layers[0].digest);
  expect(bundle.mediaType).toBe(BUNDLE);
  const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString());
  expect(statement.predicateType).toBe('https://sigstore.dev/cosign/sign/v1');
  expect(statement.subject[0].digest.sha256).toBe(image.digest.replace('sha256:', ''));
}

async function expectVerdicts(image: PushedImage, registry: RegistryServer): Promise<void> {
  const right = await cosign.verifyWithKey(image.ref, publisher.pub, registry);
  expect(right.result.stderr).toContain('The signatures were verified against the specified public key');
  expect(right.verified).toBe(true);
  const wrong = await cosign.verifyWithKey(image.ref, stranger.pub, registry);
  expect(wrong.verified).toBe(false);
}

describe.each([
  ['docker-registry', () => docker],
  ['referrers-registry', () => referrers],
])('cosign on %s', (name, registry) => {
  test('legacy format: a sha256-<hex>.sig tag, one simple-signing layer naming the image digest', async () => {
    const image = await pushImage(registry(), 'legacy/app', 'v1', `legacy on ${name}`, dir);
    await cosign.sign(image.ref, publisher, 'legacy', registry());

    const sig = await getManifest(registry(), image.repository, `${fallbackTag(image.digest)}.sig`);
    expect(sig.status).toBe(200);
    expect(sig.json.layers).toHaveLength(1);
    const layer = sig.json.layers[0];
    expect(layer.mediaType).toBe(SIMPLE_SIGNING);
    expect(layer.annotations['dev.cosignproject.cosign/signature']).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const payload = await blobJson(registry(), image.repository, layer.digest);
    expect(payload.critical.image['docker-manifest-digest']).toBe(image.digest);
    expect(payload.critical.type).toBe('cosign container image signature');
    // No bundle anywhere: the legacy format writes neither a referrer nor the tag schema.
    expect((await getManifest(registry(), image.repository, fallbackTag(image.digest))).status).toBe(404);

    await expectVerdicts(image, registry());
  });

  test('bundle format (v3 default): a Sigstore bundle v0.3 attached to the image', async () => {
    const image = await pushImage(registry(), 'bundle/app', 'v1', `bundle on ${name}`, dir);
    await cosign.sign(image.ref, publisher, 'bundle', registry());

    const api = await registryRequest(registry(), `/v2/${image.repository}/referrers/${image.digest}`);
    const tagSchema = await getManifest(registry(), image.repository, fallbackTag(image.digest));
    let referrerDigest: string;
    if (name === 'docker-registry') {
      // No referrers API (distribution 2.8): cosign (go-containerregistry's writer) falls back to
      // the referrers tag schema, an OCI index tagged sha256-<hex>.
      expect(api.status).toBe(404);
      expect(tagSchema.status).toBe(200);
      expect(tagSchema.mediaType).toBe(OCI_INDEX);
      expect(tagSchema.json.manifests).toHaveLength(1);
      expect(tagSchema.json.manifests[0]).toMatchObject({ mediaType: OCI_MANIFEST, artifactType: BUNDLE });
      referrerDigest = tagSchema.json.manifests[0].digest;
    } else {
      // The referrers API answers, so cosign writes no tag schema.
      expect(api.status).toBe(200);
      expect(api.headers['content-type']).toBe(OCI_INDEX);
      const list = JSON.parse(api.body.toString());
      expect(list.manifests).toHaveLength(1);
      expect(list.manifests[0]).toMatchObject({ mediaType: OCI_MANIFEST, artifactType: BUNDLE });
      expect(tagSchema.status).toBe(404);
      referrerDigest = list.manifests[0].digest;
      // The PUT of a manifest with a subject answers OCI-Subject (cosign's own PUT goes unseen:
      // the same bytes again give the registry's answer to it).
      const again = await getManifest(registry(), image.repository, referrerDigest);
      const put = await putManifest(registry(), image.repository, referrerDigest, again.bytes, OCI_MANIFEST);
      expect(put.headers['oci-subject']).toBe(image.digest);
    }
    await expectSignBundleFor(registry(), image, referrerDigest);
    await expectVerdicts(image, registry());
  });
});

describe('cosign verify', () => {
  test('refuses an image signed by nobody, and the signature of another image', async () => {
    const signed = await pushImage(docker, 'other/app', 'signed', 'signed', dir);
    const unsigned = await pushImage(docker, 'other/app', 'unsigned', 'unsigned', dir);
    await cosign.sign(signed.ref, publisher, 'legacy', docker);
    expect((await cosign.verifyWithKey(unsigned.ref, publisher.pub, docker)).verified).toBe(false);

    // The signature manifest of `signed`, copied under the tag of `unsigned`: the payload names
    // the other digest, so cosign refuses it.
    const sig = await getManifest(docker, signed.repository, `${fallbackTag(signed.digest)}.sig`);
    await putManifest(docker, unsigned.repository, `${fallbackTag(unsigned.digest)}.sig`, sig.bytes, sig.mediaType);
    const moved = await cosign.verifyWithKey(unsigned.ref, publisher.pub, docker);
    expect(moved.verified).toBe(false);
    expect((await cosign.verifyWithKey(signed.ref, publisher.pub, docker)).verified).toBe(true);
  });

  // The signature's digest follows the key (sigstore's LoadSignerVerifier defaults: SHA-384 for
  // P-384), while `cosign verify` hashes with SHA-256 unless told otherwise
  // (--signature-digest-algorithm, cmd/cosign/cli/options/signature_digest.go).
  test.each<[ImportedKeyType, string[]]>([
    ['rsa-3072', []],
    ['ecdsa-p384', ['--signature-digest-algorithm', 'sha384']],
  ])('a %s key imported with cosign import-key-pair signs both formats; verify %j takes it', async (type, digestFlags) => {
    const key = await cosign.importKeyPair(`imported-${type}`, type);
    expect(readFileSync(key.pub, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    for (const format of ['legacy', 'bundle'] as const) {
      const image = await pushImage(referrers, `keys/${type}`, format, `${type} ${format}`, dir);
      await cosign.sign(image.ref, key, format, referrers);
      expect((await cosign.verifyWithKey(image.ref, key.pub, referrers, digestFlags)).verified).toBe(true);
      expect((await cosign.verifyWithKey(image.ref, publisher.pub, referrers, digestFlags)).verified).toBe(false);
      if (digestFlags.length > 0) expect((await cosign.verifyWithKey(image.ref, key.pub, referrers)).verified).toBe(false);
    }
  });

  // cosign signs with Ed25519ph for Ed25519 keys (pkg/cosign/keys.go, GetDefaultLoadOptions) but
  // `cosign verify --key` loads the public key as pure Ed25519: cosign v3.1.3 cannot be the
  // reference tool for Ed25519 image signatures. Should a cosign release fix it, this fails.
  test('an Ed25519 key imports and signs, and cosign v3.1.3 refuses its own signatures of it', async () => {
    const key = await cosign.importKeyPair('imported-ed25519', 'ed25519');
    for (const format of ['legacy', 'bundle'] as const) {
      const image = await pushImage(referrers, 'keys/ed25519', format, `ed25519 ${format}`, dir);
      await cosign.sign(image.ref, key, format, referrers);
      const verdict = await cosign.verifyWithKey(image.ref, key.pub, referrers);
      expect(verdict.result.stderr).toMatch(/failed to verify signature|accepted signatures do not match threshold/);
      expect(verdict.verified).toBe(false);
    }
  });
});

describe('over TLS with a test CA', () => {
  test.each(['docker-registry', 'referrers-registry'] as const)('%s: cosign signs and verifies with --registry-cacert', async (kind) => {
    const tlsDir = mkdtempSync(path.join(dir, 'tls-'));
    const tls = await makeTls(tlsDir);
    const registry = kind === 'docker-registry' ? await startDockerRegistry(tlsDir, { tls }) : await startReferrersRegistry(tlsDir, { tls });
    try {
      expect(registry.url).toMatch(/^https:/);
      const image = await pushImage(registry, 'tls/app', 'v1', `tls ${kind}`, tlsDir);
      await cosign.sign(image.ref, publisher, 'bundle', registry);
      await expectVerdicts(image, registry);
    } finally {
      await registry.stop();
    }
  });
});

describe('behind token auth (docker/distribution Bearer flow)', () => {
  test('cosign signs and verifies with registry credentials, and gets nothing without them', async () => {
    const authDir = mkdtempSync(path.join(dir, 'auth-'));
    const tls = await makeTls(authDir);
    const tokens = new TokenServer(tls, authDir);
    // go-containerregistry (in cosign) refuses a realm that is a loopback or private IP literal
    // unless it is the registry's own host:port (pkg/v1/remote/transport/bearer.go,
    // validateRealmURL: SSRF); a name is not checked, so the realm says localhost.
    const realm = (await tokens.listen()).replace('127.0.0.1', 'localhost');
    const registry = await startDockerRegistry(authDir, { tokenAuth: { realm, service: TOKEN_SERVICE, issuer: TOKEN_ISSUER, rootCertBundle: tokens.bundle } });
    try {
      expect((await registryRequest(registry, '/v2/')).status).toBe(401);
      const image = await pushImage(registry, 'auth/app', 'v1', 'behind auth', authDir, { creds: TOKEN_USER });
      const creds = ['--registry-username', TOKEN_USER.username, '--registry-password', TOKEN_USER.password];
      await cosign.sign(image.ref, publisher, 'bundle', registry, creds);
      expect((await cosign.verifyWithKey(image.ref, publisher.pub, registry, creds)).verified).toBe(true);
      const anonymous = await cosign.verifyWithKey(image.ref, publisher.pub, registry);
      expect(anonymous.result.stderr).toMatch(/UNAUTHORIZED|DENIED|401/);
      expect(anonymous.verified).toBe(false);
      expect(tokens.requests.some((r) => r.user === TOKEN_USER.username && r.scope?.includes('auth/app'))).toBe(true);
    } finally {
      await registry.stop();
      await tokens.close();
    }
  });
});

/** A referrer made by hand: an empty config, one layer, `subject` the image. */
async function pushReferrer(registry: RegistryServer, image: PushedImage, fields: { artifactType?: string; configMediaType?: string; layer: string }): Promise<{ digest: string; put: Awaited<ReturnType<typeof putManifest>> }> {
  const config = Buffer.from('{}');
  const layer = Buffer.from(fields.layer);
  await pushBlob(registry, image.repository, config);
  await pushBlob(registry, image.repository, layer);
  const subject = await getManifest(registry, image.repository, image.digest);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    ...(fields.artifactType && { artifactType: fields.artifactType }),
    config: { mediaType: fields.configMediaType ?? EMPTY_CONFIG, digest: sha256Digest(config), size: config.length },
    layers: [{ mediaType: 'application/octet-stream', digest: sha256Digest(layer), size: layer.length }],
    subject: { mediaType: subject.mediaType, digest: image.digest, size: subject.bytes.length },
    annotations: { 'org.example.layer': fields.layer },
  }));
  const digest = sha256Digest(manifest);
  return { digest, put: await putManifest(registry, image.repository, digest, manifest, OCI_MANIFEST) };
}

interface ReferrerDescriptor { digest: string; artifactType?: string; annotations?: Record<string, string> }

async function referrersList(registry: RegistryServer, pathAndQuery: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; manifests: ReferrerDescriptor[] }> {
  const res = await registryRequest(registry, pathAndQuery);
  return { status: res.status, headers: res.headers, manifests: res.status === 200 ? (JSON.parse(res.body.toString()) as { manifests: ReferrerDescriptor[] }).manifests : [] };
}

describe('the referrers registry against the distribution spec', () => {
  test('OCI-Subject on the PUT and the manifest\'s artifactType in the list, where go-containerregistry alone gives neither', async () => {
    const upstream = await startReferrersRegistry(dir, { upstream: true });
    try {
      for (const registry of [referrers, upstream]) {
        const image = await pushImage(registry, 'spec/subject', 'v1', 'subject', dir);
        const typed = await pushReferrer(registry, image, { artifactType: 'application/vnd.example.sbom.v1', layer: 'sbom' });
        const untyped = await pushReferrer(registry, image, { configMediaType: 'application/vnd.example.config.v1+json', layer: 'untyped' });
        const list = await referrersList(registry, `/v2/${image.repository}/referrers/${image.digest}`);
        const byDigest = new Map(list.manifests.map((d) => [d.digest, d]));
        expect(byDigest.get(untyped.digest)?.artifactType).toBe('application/vnd.example.config.v1+json');
        expect(byDigest.get(typed.digest)?.annotations).toEqual({ 'org.example.layer': 'sbom' });
        if (registry === referrers) {
          expect(typed.put.headers['oci-subject']).toBe(image.digest);
          expect(byDigest.get(typed.digest)?.artifactType).toBe('application/vnd.example.sbom.v1');
        } else {
          // What the wrapper fixes (go-containerregistry v0.22.1 pkg/registry/manifest.go).
          expect(typed.put.headers['oci-subject']).toBeUndefined();
          expect(byDigest.get(typed.digest)?.artifactType).toBe(EMPTY_CONFIG);
        }
      }
      // A repository it never saw: an empty list, never a 404 (which tells clients "no API").
      expect((await referrersList(referrers, `/v2/never/seen/referrers/${sha256Digest(Buffer.from('x'))}`)).status).toBe(200);
      expect((await referrersList(upstream, `/v2/never/seen/referrers/${sha256Digest(Buffer.from('x'))}`)).status).toBe(404);
    } finally {
      await upstream.stop();
    }
  });

  test('?artifactType= filters and says so in OCI-Filters-Applied', async () => {
    const image = await pushImage(referrers, 'spec/filter', 'v1', 'filter', dir);
    await pushReferrer(referrers, image, { artifactType: 'application/vnd.example.a', layer: 'a' });
    const b = await pushReferrer(referrers, image, { artifactType: 'application/vnd.example.b', layer: 'b' });
    const base = `/v2/${image.repository}/referrers/${image.digest}`;
    const all = await referrersList(referrers, base);
    expect(all.manifests).toHaveLength(2);
    expect(all.headers['oci-filters-applied']).toBeUndefined();
    const onlyB = await referrersList(referrers, `${base}?artifactType=${encodeURIComponent('application/vnd.example.b')}`);
    expect(onlyB.headers['oci-filters-applied']).toBe('artifactType');
    expect(onlyB.manifests.map((d) => d.digest)).toEqual([b.digest]);
    const none = await referrersList(referrers, `${base}?artifactType=application/vnd.example.none`);
    expect(none.status).toBe(200);
    expect(none.manifests).toEqual([]);
  });

  test('pages: Link rel="next" until the list is done, every referrer once', async () => {
    const paged = await startReferrersRegistry(dir, { pageSize: 2 });
    try {
      const image = await pushImage(paged, 'spec/pages', 'v1', 'pages', dir);
      const pushed: string[] = [];
      for (const layer of ['one', 'two', 'three', 'four', 'five']) pushed.push((await pushReferrer(paged, image, { artifactType: 'application/vnd.example.page', layer })).digest);
      const seen: string[] = [];
      let next: string | undefined = `/v2/${image.repository}/referrers/${image.digest}`;
      let pages = 0;
      while (next && pages < 10) {
        const page = await referrersList(paged, next);
        expect(page.manifests.length).toBeLessThanOrEqual(2);
        seen.push(...page.manifests.map((d) => d.digest));
        const link = page.headers.link;
        next = typeof link === 'string' ? /^<([^>]+)>;\s*rel="next"$/.exec(link)?.[1] : undefined;
        pages++;
      }
      expect(pages).toBe(3);
      expect(seen).toEqual([...pushed].sort());
    } finally {
      await paged.stop();
    }
  });

  test('refuses a manifest whose body is not the digest it is pushed under, and one over the size limit', async () => {
    const small = await startReferrersRegistry(dir, { maxManifestBytes: 1024 });
    try {
      const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, layers: [] }));
      const lie = await registryRequest(small, `/v2/spec/lies/manifests/${sha256Digest(Buffer.from('other'))}`, { method: 'PUT', headers: { 'Content-Type': OCI_MANIFEST }, body });
      expect(lie.status).toBe(400);
      expect(lie.body.toString()).toContain('DIGEST_INVALID');
      const big = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, layers: [], annotations: { pad: 'x'.repeat(2048) } }));
      const tooBig = await registryRequest(small, '/v2/spec/lies/manifests/big', { method: 'PUT', headers: { 'Content-Type': OCI_MANIFEST }, body: big });
      expect(tooBig.status).toBe(413);
    } finally {
      await small.stop();
    }
  });
});
