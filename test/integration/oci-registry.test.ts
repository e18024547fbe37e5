// The OCI client (src/registry/oci/) against Debian's docker-registry (distribution 2.8), the
// registry most private clusters run: images pushed by skopeo, artifacts and a referrers index
// pushed through the registry's own API as cosign and notation push them where the referrers
// API is missing; Basic (htpasswd) and token auth checked by the registry itself.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MediaType, OciRegistryClient, readImageManifest, referrersTag, DEFAULT_REGISTRY_LIMITS, type RegistryConnection } from '../../src/registry/oci/index.js';
import { DockerRegistry, sha256 } from '../support/docker-registry.js';
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

function conn(registry: DockerRegistry, over: Partial<RegistryConnection> = {}): RegistryConnection {
  return { registry: registry.host, insecure: registry.insecure, caBundle: registry.insecure ? undefined : ca, credentials: undefined, signal: undefined, timeoutMs: 10_000, ...over };
}

describe('an anonymous registry over plain HTTP (marked insecure)', () => {
  let registry: DockerRegistry;

  beforeAll(async () => {
    registry = await DockerRegistry.start(dir);
  });

  afterAll(() => registry.stop());

  it('resolves a tag to the digest of the manifest pushed, and fetches it and its blobs checked', async () => {
    const pushed = await registry.pushImage('team/app', '1.0', 'one');
    const digest = await client.resolveTag(conn(registry), 'team/app', '1.0');
    expect(digest).toBe(pushed.digest);
    const byTag = await client.manifest(conn(registry), 'team/app', '1.0', 1 << 20);
    const byDigest = await client.manifest(conn(registry), 'team/app', pushed.digest, 1 << 20);
    expect(byTag).toEqual({ digest: pushed.digest, mediaType: MediaType.OCI_MANIFEST, bytes: pushed.bytes });
    expect(byDigest).toEqual(byTag);
    const manifest = readImageManifest(byDigest!.bytes, DEFAULT_REGISTRY_LIMITS, 'm');
    for (const d of [manifest.config, ...manifest.layers]) {
      const blob = await client.blob(conn(registry), 'team/app', d.digest, 1 << 20);
      expect(sha256(blob)).toBe(d.digest);
      expect(blob.length).toBe(d.size);
    }
  });

  it('reads Docker schema 2 manifests as such', async () => {
    const pushed = await registry.pushImage('team/docker', '1.0', 'docker', { format: 'v2s2' });
    expect(pushed.mediaType).toBe(MediaType.DOCKER_MANIFEST);
    await expect(client.resolveTag(conn(registry), 'team/docker', '1.0')).resolves.toBe(pushed.digest);
    await expect(client.manifest(conn(registry), 'team/docker', pushed.digest, 1 << 20)).resolves.toMatchObject({ mediaType: MediaType.DOCKER_MANIFEST });
  });

  it('a tag, manifest or repository that does not exist is undefined; a missing blob is REGISTRY_ERROR', async () => {
    await registry.pushImage('team/app', '1.0', 'one');
    const nothing = `sha256:${'0'.repeat(64)}`;
    await expect(client.resolveTag(conn(registry), 'team/app', 'nope')).resolves.toBeUndefined();
    await expect(client.resolveTag(conn(registry), 'team/nobody', '1.0')).resolves.toBeUndefined();
    await expect(client.manifest(conn(registry), 'team/app', nothing, 1 << 20)).resolves.toBeUndefined();
    await expect(client.blob(conn(registry), 'team/app', nothing, 1 << 20)).rejects.toMatchObject({ code: 'REGISTRY_ERROR' });
  });

  it('a manifest larger than the caller allows is TOO_LARGE', async () => {
    const pushed = await registry.pushImage('team/app', '1.0', 'one');
    await expect(client.manifest(conn(registry), 'team/app', pushed.digest, pushed.size - 1)).rejects.toMatchObject({ code: 'TOO_LARGE' });
  });

  describe('referrers: the registry has no referrers API, so the tag schema', () => {
    /** An artifact as cosign v3 writes one: empty config, one layer, the image as subject. */
    async function pushArtifact(repo: string, subject: { digest: string; size: number; mediaType: string }, artifactType: string, content: string) {
      const empty = await registry.pushBlob(repo, Buffer.from('{}'));
      const layer = await registry.pushBlob(repo, Buffer.from(content));
      return registry.pushManifest(repo, undefined, MediaType.OCI_MANIFEST, {
        schemaVersion: 2,
        mediaType: MediaType.OCI_MANIFEST,
        artifactType,
        config: { mediaType: MediaType.OCI_EMPTY, ...empty },
        layers: [{ mediaType: artifactType, ...layer }],
        subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      });
    }

    it('falls back on the 404 and reads the index tagged sha256-<hex>, filtered by artifactType', async () => {
      const image = await registry.pushImage('team/signed', '1.0', 'signed');
      const sig = await pushArtifact('team/signed', image, SIG, 'bundle');
      const sbom = await pushArtifact('team/signed', image, SBOM, 'sbom');
      const descriptor = (m: typeof sig, artifactType: string) => ({ mediaType: m.mediaType, digest: m.digest, size: m.size, artifactType });
      await registry.pushManifest('team/signed', referrersTag(image.digest), MediaType.OCI_INDEX, {
        schemaVersion: 2,
        mediaType: MediaType.OCI_INDEX,
        manifests: [descriptor(sig, SIG), descriptor(sbom, SBOM)],
      });
      await expect(client.referrers(conn(registry), 'team/signed', image.digest, SIG, 10)).resolves.toEqual([descriptor(sig, SIG)]);
      await expect(client.referrers(conn(registry), 'team/signed', image.digest, SBOM, 10)).resolves.toEqual([descriptor(sbom, SBOM)]);
      // The referrer itself is a manifest whose subject is the image.
      const fetched = await client.manifest(conn(registry), 'team/signed', sig.digest, 1 << 20);
      expect(readImageManifest(fetched!.bytes, DEFAULT_REGISTRY_LIMITS, 'sig').subject?.digest).toBe(image.digest);
    });

    it('an image without the tag has no referrers', async () => {
      const image = await registry.pushImage('team/unsigned', '1.0', 'unsigned');
      await expect(client.referrers(conn(registry), 'team/unsigned', image.digest, SIG, 10)).resolves.toEqual([]);
    });
  });
});

describe('a registry over HTTPS with htpasswd (Basic) auth', () => {
  const USER = { username: 'alice', password: 'htpasswd-secret' };
  let registry: DockerRegistry;
  let digest: string;

  beforeAll(async () => {
    registry = await DockerRegistry.start(dir, { tls, htpasswd: USER });
    digest = (await registry.pushImage('team/private', '1.0', 'private', { creds: `${USER.username}:${USER.password}` })).digest;
  });

  afterAll(() => registry.stop());

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
  let registry: DockerRegistry;
  let tokens: TokenServer;
  let digest: string;

  beforeAll(async () => {
    tokens = new TokenServer(tls, dir);
    const realm = await tokens.listen();
    registry = await DockerRegistry.start(dir, { tls, token: { realm, service: TOKEN_SERVICE, issuer: TOKEN_ISSUER, rootCertBundle: tokens.bundle } });
    digest = (await registry.pushImage('team/tokened', '1.0', 'tokened', { creds: `${TOKEN_USER.username}:${TOKEN_USER.password}` })).digest;
  });

  afterAll(async () => {
    await registry.stop();
    await tokens.close();
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
