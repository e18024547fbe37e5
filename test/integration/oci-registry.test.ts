// The OCI client (src/registry/oci/) against Debian's docker-registry (distribution 2.8), the
// registry most private clusters run: images pushed by skopeo, a Docker schema 2 image and
// artifacts with a referrers index pushed through the registry's own API (as cosign and notation
// push them where the referrers API is missing); Basic (htpasswd) and token auth checked by the
// registry itself. Registries and pushes: test/support/registries.ts.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_REGISTRY_LIMITS, MediaType, OciRegistryClient, readImageManifest, referrersTag, type RegistryConnection } from '../../src/registry/oci/index.js';
import { tarWithFile } from '../support/oci.js';
import { getManifest, pushBlob, pushImage, putManifest, sha256Digest, startDockerRegistry, type RegistryServer } from '../support/registries.js';
import { TOKEN_ISSUER, TOKEN_SERVICE, TOKEN_USER, TokenServer } from '../support/token-server.js';
import { makeTls, type TlsFiles } from '../support/tls.js';

const SIG = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const SBOM = 'application/spdx+json';

let dir: string;
let tls: TlsFiles;
let ca: string;
let client: OciRegistryClient;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-oci-'));
  tls = await makeTls(dir);
  ca = readFileSync(tls.caCert, 'utf8');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeEach(() => {
  client = new OciRegistryClient();
});

afterEach(() => client.close());

function conn(registry: RegistryServer, over: Partial<RegistryConnection> = {}): RegistryConnection {
  const insecure = registry.caCert === undefined;
  return { registry: registry.host, insecure, caBundle: insecure ? undefined : ca, credentials: undefined, signal: undefined, timeoutMs: 10_000, ...over };
}

/** A manifest pushed under its digest (and `tag`), from its document. */
async function push(registry: RegistryServer, repo: string, mediaType: string, doc: unknown, tag?: string) {
  const bytes = Buffer.from(JSON.stringify(doc));
  const digest = sha256Digest(bytes);
  await putManifest(registry, repo, tag ?? digest, bytes, mediaType);
  return { mediaType, digest, size: bytes.length };
}

describe('an anonymous registry over plain HTTP (marked insecure)', () => {
  let registry: RegistryServer;

  beforeAll(async () => {
    registry = await startDockerRegistry(dir);
  });

  afterAll(() => registry?.stop());

  it('resolves a tag to the digest of the manifest pushed, and fetches it and its blobs checked', async () => {
    const pushed = await pushImage(registry, 'team/app', '1.0', 'one', dir);
    const served = await getManifest(registry, 'team/app', '1.0');
    await expect(client.resolveTag(conn(registry), 'team/app', '1.0')).resolves.toBe(pushed.digest);
    const byTag = await client.manifest(conn(registry), 'team/app', '1.0', 1 << 20);
    const byDigest = await client.manifest(conn(registry), 'team/app', pushed.digest, 1 << 20);
    expect(byTag).toEqual({ digest: pushed.digest, mediaType: MediaType.OCI_MANIFEST, bytes: served.bytes });
    expect(byDigest).toEqual(byTag);
    const manifest = readImageManifest(byDigest!.bytes, DEFAULT_REGISTRY_LIMITS, 'm');
    for (const d of [manifest.config, ...manifest.layers]) {
      const blob = await client.blob(conn(registry), 'team/app', d.digest, 1 << 20);
      expect(sha256Digest(blob)).toBe(d.digest);
      expect(blob.length).toBe(d.size);
    }
  });

  it('reads Docker schema 2 manifests as such', async () => {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    const layer = tarWithFile('hello.txt', Buffer.from('docker'));
    const image = await push(registry, 'team/docker', MediaType.DOCKER_MANIFEST, {
      schemaVersion: 2,
      mediaType: MediaType.DOCKER_MANIFEST,
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: await pushBlob(registry, 'team/docker', config), size: config.length },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar', digest: await pushBlob(registry, 'team/docker', layer), size: layer.length }],
    }, '1.0');
    await expect(client.resolveTag(conn(registry), 'team/docker', '1.0')).resolves.toBe(image.digest);
    await expect(client.manifest(conn(registry), 'team/docker', image.digest, 1 << 20)).resolves.toMatchObject({ mediaType: MediaType.DOCKER_MANIFEST });
  });

  it('a tag, manifest or repository that does not exist is undefined; a missing blob is REGISTRY_ERROR', async () => {
    await pushImage(registry, 'team/app', '1.0', 'one', dir);
    const nothing = `sha256:${'0'.repeat(64)}`;
    await expect(client.resolveTag(conn(registry), 'team/app', 'nope')).resolves.toBeUndefined();
    await expect(client.resolveTag(conn(registry), 'team/nobody', '1.0')).resolves.toBeUndefined();
    await expect(client.manifest(conn(registry), 'team/app', nothing, 1 << 20)).resolves.toBeUndefined();
    await expect(client.blob(conn(registry), 'team/app', nothing, 1 << 20)).rejects.toMatchObject({ code: 'REGISTRY_ERROR' });
  });

  it('a manifest larger than the caller allows is TOO_LARGE', async () => {
    const pushed = await pushImage(registry, 'team/app', '1.0', 'one', dir);
    const size = (await getManifest(registry, 'team/app', pushed.digest)).bytes.length;
    await expect(client.manifest(conn(registry), 'team/app', pushed.digest, size - 1)).rejects.toMatchObject({ code: 'TOO_LARGE' });
    await expect(client.manifest(conn(registry), 'team/app', pushed.digest, size)).resolves.toMatchObject({ digest: pushed.digest });
  });

  describe('referrers: the registry has no referrers API, so the tag schema', () => {
    /** An artifact as cosign v3 writes one: empty config, one layer, the image as subject. */
    async function pushArtifact(repo: string, subject: { digest: string; size: number; mediaType: string }, artifactType: string, content: string) {
      const empty = Buffer.from('{}');
      const layer = Buffer.from(content);
      return push(registry, repo, MediaType.OCI_MANIFEST, {
        schemaVersion: 2,
        mediaType: MediaType.OCI_MANIFEST,
        artifactType,
        config: { mediaType: MediaType.OCI_EMPTY, digest: await pushBlob(registry, repo, empty), size: empty.length },
        layers: [{ mediaType: artifactType, digest: await pushBlob(registry, repo, layer), size: layer.length }],
        subject,
      });
    }

    it('falls back on the 404 and reads the index tagged sha256-<hex>, filtered by artifactType', async () => {
      const image = await pushImage(registry, 'team/signed', '1.0', 'signed', dir);
      const subject = { mediaType: MediaType.OCI_MANIFEST, digest: image.digest, size: (await getManifest(registry, 'team/signed', image.digest)).bytes.length };
      const sig = { ...(await pushArtifact('team/signed', subject, SIG, 'bundle')), artifactType: SIG };
      const sbom = { ...(await pushArtifact('team/signed', subject, SBOM, 'sbom')), artifactType: SBOM };
      await push(registry, 'team/signed', MediaType.OCI_INDEX, { schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: [sig, sbom] }, referrersTag(image.digest));
      await expect(client.referrers(conn(registry), 'team/signed', image.digest, SIG, 10)).resolves.toEqual([sig]);
      await expect(client.referrers(conn(registry), 'team/signed', image.digest, SBOM, 10)).resolves.toEqual([sbom]);
      // The referrer itself is a manifest whose subject is the image.
      const fetched = await client.manifest(conn(registry), 'team/signed', sig.digest, 1 << 20);
      expect(readImageManifest(fetched!.bytes, DEFAULT_REGISTRY_LIMITS, 'sig').subject?.digest).toBe(image.digest);
    });

    it('an image without the tag has no referrers', async () => {
      const image = await pushImage(registry, 'team/unsigned', '1.0', 'unsigned', dir);
      await expect(client.referrers(conn(registry), 'team/unsigned', image.digest, SIG, 10)).resolves.toEqual([]);
    });
  });
});

describe('a registry over HTTPS with htpasswd (Basic) auth', () => {
  const USER = { username: 'alice', password: 'htpasswd-secret' };
  let registry: RegistryServer;
  let digest: string;

  beforeAll(async () => {
    registry = await startDockerRegistry(dir, { tls, htpasswd: USER });
    digest = (await pushImage(registry, 'team/private', '1.0', 'private', dir, { creds: USER })).digest;
  });

  afterAll(() => registry?.stop());

  it('reads with the credentials given, over the connection\'s CA', async () => {
    await expect(client.resolveTag(conn(registry, { credentials: USER }), 'team/private', '1.0')).resolves.toBe(digest);
    await expect(client.manifest(conn(registry, { credentials: USER }), 'team/private', digest, 1 << 20)).resolves.toMatchObject({ digest });
  });

  it('without credentials, or with a wrong password, is AUTH_FAILED', async () => {
    await expect(client.resolveTag(conn(registry), 'team/private', '1.0')).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    await expect(client.resolveTag(conn(registry, { credentials: { ...USER, password: 'wrong' } }), 'team/private', '1.0')).rejects.toMatchObject({ code: 'AUTH_FAILED' });
  });

  it('without the CA bundle, TLS fails: UNREACHABLE', async () => {
    await expect(client.resolveTag(conn(registry, { credentials: USER, caBundle: undefined }), 'team/private', '1.0')).rejects.toMatchObject({ code: 'UNREACHABLE' });
  });
});

describe('a registry over HTTPS with token auth', () => {
  let registry: RegistryServer;
  let tokens: TokenServer;
  let digest: string;

  beforeAll(async () => {
    tokens = new TokenServer(tls, dir);
    const realm = await tokens.listen();
    registry = await startDockerRegistry(dir, { tls, tokenAuth: { realm, service: TOKEN_SERVICE, issuer: TOKEN_ISSUER, rootCertBundle: tokens.bundle } });
    digest = (await pushImage(registry, 'team/tokened', '1.0', 'tokened', dir, { creds: TOKEN_USER })).digest;
  });

  afterAll(async () => {
    await registry?.stop();
    await tokens?.close();
  });

  it('gets one pull token for the repository and reuses it across calls', async () => {
    tokens.requests.length = 0;
    await expect(client.resolveTag(conn(registry, { credentials: TOKEN_USER }), 'team/tokened', '1.0')).resolves.toBe(digest);
    await expect(client.manifest(conn(registry, { credentials: TOKEN_USER }), 'team/tokened', digest, 1 << 20)).resolves.toMatchObject({ digest });
    expect(tokens.requests).toEqual([{ method: 'GET', user: TOKEN_USER.username, scope: 'repository:team/tokened:pull', grant: undefined }]);
  });

  it('anonymously is AUTH_FAILED: the registry refuses the token that grants nothing', async () => {
    await expect(client.resolveTag(conn(registry), 'team/tokened', '1.0')).rejects.toMatchObject({ code: 'AUTH_FAILED' });
  });
});
