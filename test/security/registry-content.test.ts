// Issue 10, part 2: what a registry sends the OCI client (src/registry/oci/) is content it must
// prove — a manifest or blob is the bytes its digest names, of a media type that was asked for,
// within its byte and JSON bounds, within the call's deadline — or the call fails with the code
// that says why. Faults Debian's docker-registry cannot produce come from a registry of our own
// (test/support/fake-registry.ts).
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MediaType, OciRegistryClient, type RegistryConnection } from '../../src/registry/oci/index.js';
import { FakeRegistry, send, sendEndless } from '../support/fake-registry.js';
import { makeTls, type TlsFiles } from '../support/tls.js';

const REPO = 'team/app';
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const manifestBytes = (n: number) =>
  Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config: { mediaType: MediaType.OCI_EMPTY, digest: sha256(Buffer.from('{}')), size: 2 }, layers: [], annotations: { n: String(n) } }));
const M1 = manifestBytes(1);
const M2 = manifestBytes(2);
const D1 = sha256(M1);
const OCI = { 'content-type': MediaType.OCI_MANIFEST };

let tls: TlsFiles;
let ca: string;
let registry: FakeRegistry;
let client: OciRegistryClient;

beforeAll(async () => {
  tls = await makeTls(mkdtempSync(path.join(os.tmpdir(), 'trustgate-oci-content-')));
  ca = readFileSync(tls.caCert, 'utf8');
  registry = await FakeRegistry.start(tls);
});

beforeEach(() => {
  client = new OciRegistryClient();
  registry.received.length = 0;
});

afterEach(() => client.close());
afterAll(() => registry.close());

function conn(over: Partial<RegistryConnection> = {}): RegistryConnection {
  return { registry: registry.host, insecure: false, caBundle: ca, credentials: undefined, signal: undefined, timeoutMs: 20_000, ...over };
}

function routes(table: Record<string, (req: IncomingMessage, res: ServerResponse) => void>): void {
  registry.route = (req, res) => {
    const handler = table[`${req.method} ${req.url}`];
    if (handler) handler(req, res);
    else send(res, 404, '{"errors":[{"code":"MANIFEST_UNKNOWN"}]}', { 'content-type': 'application/json' });
  };
}

describe('a manifest is the bytes its digest names', () => {
  it('fetched by digest: other bytes are HASH_MISMATCH, whatever Docker-Content-Digest says', async () => {
    routes({ [`GET /v2/${REPO}/manifests/${D1}`]: (_q, res) => send(res, 200, M2, { ...OCI, 'docker-content-digest': D1 }) });
    await expect(client.manifest(conn(), REPO, D1, 1 << 20)).rejects.toMatchObject({ code: 'HASH_MISMATCH' });
  });

  it('a tag whose HEAD names one digest while GET serves other bytes: the digest named never comes with the other bytes', async () => {
    routes({
      [`HEAD /v2/${REPO}/manifests/1.0`]: (_q, res) => void res.writeHead(200, { ...OCI, 'docker-content-digest': D1, 'content-length': String(M1.length) }).end(),
      [`GET /v2/${REPO}/manifests/1.0`]: (_q, res) => send(res, 200, M2, { ...OCI, 'docker-content-digest': D1 }),
      [`GET /v2/${REPO}/manifests/${D1}`]: (_q, res) => send(res, 200, M2, OCI),
    });
    // The tag resolves to what HEAD names: the registry's word for it...
    await expect(client.resolveTag(conn(), REPO, '1.0')).resolves.toBe(D1);
    // ...and nothing fetched by that digest or under that header is other bytes.
    await expect(client.manifest(conn(), REPO, D1, 1 << 20)).rejects.toMatchObject({ code: 'HASH_MISMATCH' });
    await expect(client.manifest(conn(), REPO, '1.0', 1 << 20)).rejects.toMatchObject({ code: 'HASH_MISMATCH', message: expect.stringContaining(sha256(M2)) });
  });

  it('fetched by tag without Docker-Content-Digest: named by the digest of the bytes served', async () => {
    routes({
      [`HEAD /v2/${REPO}/manifests/1.0`]: (_q, res) => void res.writeHead(200, OCI).end(),
      [`GET /v2/${REPO}/manifests/1.0`]: (_q, res) => send(res, 200, M2, OCI),
    });
    await expect(client.resolveTag(conn(), REPO, '1.0')).resolves.toBe(sha256(M2));
    await expect(client.manifest(conn(), REPO, '1.0', 1 << 20)).resolves.toMatchObject({ digest: sha256(M2), mediaType: MediaType.OCI_MANIFEST });
  });

  it('a blob is checked against its digest', async () => {
    const blob = Buffer.from('layer');
    routes({ [`GET /v2/${REPO}/blobs/${sha256(blob)}`]: (_q, res) => send(res, 200, 'other layer', { 'docker-content-digest': sha256(blob) }) });
    await expect(client.blob(conn(), REPO, sha256(blob), 1 << 20)).rejects.toMatchObject({ code: 'HASH_MISMATCH' });
  });
});

describe('media types', () => {
  it.each([
    ['text/html', M1],
    ['application/json', M1],
    ['application/vnd.docker.distribution.manifest.v1+prettyjws', M1],
    // The document's own mediaType contradicts the Content-Type.
    [MediaType.OCI_INDEX, M1],
  ])('a manifest served as %s is REGISTRY_ERROR', async (type, bytes) => {
    routes({ [`GET /v2/${REPO}/manifests/${sha256(bytes)}`]: (_q, res) => send(res, 200, bytes, { 'content-type': type }) });
    await expect(client.manifest(conn(), REPO, sha256(bytes), 1 << 20)).rejects.toMatchObject({ code: 'REGISTRY_ERROR' });
  });

  it('asks for OCI and Docker manifests and indexes', async () => {
    let accept: string | undefined;
    routes({ [`GET /v2/${REPO}/manifests/${D1}`]: (req, res) => ((accept = req.headers.accept), send(res, 200, M1, OCI)) });
    await client.manifest(conn(), REPO, D1, 1 << 20);
    expect(accept?.split(', ').sort()).toEqual([MediaType.DOCKER_MANIFEST, MediaType.DOCKER_MANIFEST_LIST, MediaType.OCI_INDEX, MediaType.OCI_MANIFEST].sort());
  });
});

describe('bounds', () => {
  const big = Buffer.alloc(1 << 20, 0x20);

  it.each([
    ['manifest', (c: OciRegistryClient) => c.manifest(conn(), REPO, sha256(big), 64 * 1024), `/v2/${REPO}/manifests/${sha256(big)}`],
    ['blob', (c: OciRegistryClient) => c.blob(conn(), REPO, sha256(big), 64 * 1024), `/v2/${REPO}/blobs/${sha256(big)}`],
  ])('a %s larger than allowed is TOO_LARGE: declared, or streaming without end', async (_kind, fetch, url) => {
    routes({ [`GET ${url}`]: (_q, res) => send(res, 200, big, OCI) });
    await expect(fetch(client)).rejects.toMatchObject({ code: 'TOO_LARGE' });
    // No Content-Length and no end: refused at the limit, long before the 20 s deadline.
    routes({ [`GET ${url}`]: (_q, res) => sendEndless(res, OCI, '{"schemaVersion":2,') });
    await expect(fetch(client)).rejects.toMatchObject({ code: 'TOO_LARGE' });
  });

  it('JSON nested 10,000 deep is refused before parsing (REGISTRY_ERROR), one of too many values is TOO_LARGE', async () => {
    const deep = Buffer.from(`{"schemaVersion":2,"mediaType":"${MediaType.OCI_MANIFEST}","x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`);
    const wide = Buffer.from(`{"schemaVersion":2,"mediaType":"${MediaType.OCI_MANIFEST}","x":[${'0,'.repeat(300_000)}0]}`);
    routes({
      [`GET /v2/${REPO}/manifests/${sha256(deep)}`]: (_q, res) => send(res, 200, deep, OCI),
      [`GET /v2/${REPO}/manifests/${sha256(wide)}`]: (_q, res) => send(res, 200, wide, OCI),
    });
    await expect(client.manifest(conn(), REPO, sha256(deep), 1 << 20)).rejects.toMatchObject({ code: 'REGISTRY_ERROR', message: expect.stringContaining('nested deeper than 32') });
    await expect(client.manifest(conn(), REPO, sha256(wide), 1 << 20)).rejects.toMatchObject({ code: 'TOO_LARGE', message: expect.stringContaining('JSON values') });
  });

  it('a stalled registry is a TIMEOUT at the call\'s deadline, before or after its headers', async () => {
    routes({
      [`HEAD /v2/${REPO}/manifests/1.0`]: () => {},
      [`GET /v2/${REPO}/manifests/${D1}`]: (_q, res) => void res.writeHead(200, OCI).write('{"schemaVersion":'),
    });
    const started = Date.now();
    await expect(client.resolveTag(conn({ timeoutMs: 300 }), REPO, '1.0')).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(client.manifest(conn({ timeoutMs: 300 }), REPO, D1, 1 << 20)).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('the caller\'s signal ends a call at once', async () => {
    routes({ [`HEAD /v2/${REPO}/manifests/1.0`]: () => {} });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(client.resolveTag(conn({ signal: controller.signal }), REPO, '1.0')).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('a name, tag or digest that could leave the repository\'s paths is refused before any request', async () => {
    routes({});
    await expect(client.resolveTag(conn(), '../v2/other', '1.0')).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(client.resolveTag(conn(), REPO, '../../x')).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(client.manifest(conn(), REPO, 'sha256:../../x', 1024)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(client.blob(conn(), REPO, `md5:${'0'.repeat(32)}`, 1024)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    expect(registry.received).toEqual([]);
  });
});
