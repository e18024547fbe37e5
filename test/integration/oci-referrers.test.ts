// The OCI client's referrers path against the real parts: the referrers registry of the tools
// (go-containerregistry's pkg/registry behind a layer that follows the distribution spec:
// test/tools/referrers-registry), signed by the real cosign CLI in its v3 bundle format; and
// Debian's docker-registry, where cosign falls back to the referrers tag schema. Each image's
// signatures are first confirmed by `cosign verify`; what the client lists is what cosign wrote.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_REGISTRY_LIMITS, MediaType, OciRegistryClient, readImageManifest, referrersTag, type RegistryConnection } from '../../src/registry/oci/index.js';
import { Cosign, type CosignKeyPair } from '../support/cosign.js';
import { getManifest, pushBlob, pushImage, putManifest, sha256Digest, startDockerRegistry, startReferrersRegistry, type PushedImage, type RegistryServer } from '../support/registries.js';
import { testTools } from '../support/test-tools.js';
import { makeTls, type TlsFiles } from '../support/tls.js';

const BUNDLE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const SBOM = 'application/spdx+json';

// Built (minutes on a fresh machine) while the file loads, before jest's hook timeouts run.
testTools();

let dir: string;
let tls: TlsFiles;
let cosign: Cosign;
let key: CosignKeyPair;
let client: OciRegistryClient;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-oci-referrers-'));
  tls = await makeTls(dir);
  cosign = Cosign.create(path.join(dir, 'cosign'));
  key = await cosign.generateKeyPair('publisher');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeEach(() => {
  client = new OciRegistryClient();
});

afterEach(() => client.close());

function conn(registry: RegistryServer): RegistryConnection {
  const caBundle = registry.caCert === undefined ? undefined : readFileSync(registry.caCert, 'utf8');
  return { registry: registry.host, insecure: caBundle === undefined, caBundle, credentials: undefined, signal: undefined, timeoutMs: 10_000 };
}

/** Signs with cosign (bundle format) and checks cosign's own verify takes it. */
async function signBundle(registry: RegistryServer, image: PushedImage): Promise<void> {
  await cosign.sign(image.ref, key, 'bundle', registry);
  const verdict = await cosign.verifyWithKey(image.ref, key.pub, registry);
  expect(verdict.result.stderr).toContain('The signatures were verified against the specified public key');
}

/** The bundles the client lists, each a manifest whose subject is the image and whose layer is a bundle. */
async function listedBundles(registry: RegistryServer, image: PushedImage, max = 10): Promise<string[]> {
  const found = await client.referrers(conn(registry), image.repository, image.digest, BUNDLE, max);
  for (const d of found) {
    expect(d).toMatchObject({ mediaType: MediaType.OCI_MANIFEST, artifactType: BUNDLE });
    const fetched = await client.manifest(conn(registry), image.repository, d.digest, 1 << 20);
    const manifest = readImageManifest(fetched!.bytes, DEFAULT_REGISTRY_LIMITS, 'referrer');
    expect(manifest.subject?.digest).toBe(image.digest);
    expect(manifest.layers.map((l) => l.mediaType)).toEqual([BUNDLE]);
  }
  return found.map((d) => d.digest);
}

/** An SBOM-typed artifact of the image, pushed by hand: another artifactType to filter out. */
async function pushSbom(registry: RegistryServer, image: PushedImage): Promise<string> {
  const empty = Buffer.from('{}');
  const layer = Buffer.from('{"spdxVersion":"SPDX-2.3"}');
  const subjectSize = (await getManifest(registry, image.repository, image.digest)).bytes.length;
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.OCI_MANIFEST,
    artifactType: SBOM,
    config: { mediaType: MediaType.OCI_EMPTY, digest: await pushBlob(registry, image.repository, empty), size: empty.length },
    layers: [{ mediaType: SBOM, digest: await pushBlob(registry, image.repository, layer), size: layer.length }],
    subject: { mediaType: MediaType.OCI_MANIFEST, digest: image.digest, size: subjectSize },
  }));
  await putManifest(registry, image.repository, sha256Digest(manifest), manifest, MediaType.OCI_MANIFEST);
  return sha256Digest(manifest);
}

describe('the referrers registry (OCI 1.1 referrers API), over TLS, one descriptor per page', () => {
  let registry: RegistryServer;

  beforeAll(async () => {
    registry = await startReferrersRegistry(dir, { tls, pageSize: 1 });
  });

  afterAll(() => registry?.stop());

  it('lists the bundles cosign attached across Link pages, and no other artifact of the image', async () => {
    const image = await pushImage(registry, 'team/app', 'v1', 'referrers api', dir);
    await signBundle(registry, image);
    await signBundle(registry, image);
    const sbom = await pushSbom(registry, image);
    const bundles = await listedBundles(registry, image);
    expect(bundles).toHaveLength(2);
    expect(bundles).not.toContain(sbom);
    await expect(client.referrers(conn(registry), image.repository, image.digest, SBOM, 10)).resolves.toEqual([expect.objectContaining({ digest: sbom, artifactType: SBOM })]);
    // The API answered: cosign wrote no tag schema, and the client needed none.
    expect((await getManifest(registry, image.repository, referrersTag(image.digest))).status).toBe(404);
  });

  it('more bundles than the caller reads is TOO_LARGE, not a shortened list', async () => {
    const image = await pushImage(registry, 'team/many', 'v1', 'many', dir);
    for (let i = 0; i < 3; i++) await cosign.sign(image.ref, key, 'bundle', registry);
    await expect(listedBundles(registry, image, 3)).resolves.toHaveLength(3);
    await expect(client.referrers(conn(registry), image.repository, image.digest, BUNDLE, 2)).rejects.toMatchObject({ code: 'TOO_LARGE' });
  });

  it('an unsigned image has no referrers', async () => {
    const image = await pushImage(registry, 'team/unsigned', 'v1', 'unsigned', dir);
    await expect(client.referrers(conn(registry), image.repository, image.digest, BUNDLE, 10)).resolves.toEqual([]);
  });
});

describe('docker-registry (no referrers API): what cosign wrote to the tag schema', () => {
  let registry: RegistryServer;

  beforeAll(async () => {
    registry = await startDockerRegistry(dir);
  });

  afterAll(() => registry?.stop());

  it('finds the bundle cosign attached through the sha256-<hex> index', async () => {
    const image = await pushImage(registry, 'team/app', 'v1', 'tag schema', dir);
    await signBundle(registry, image);
    const tagSchema = await getManifest(registry, image.repository, referrersTag(image.digest));
    expect(tagSchema.status).toBe(200);
    expect(await listedBundles(registry, image)).toEqual(tagSchema.json.manifests.map((m: { digest: string }) => m.digest));
  });
});
