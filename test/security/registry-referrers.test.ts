// Issue 10, part 2: the referrers of an image (where cosign v3 and Notation keep signatures) are
// a list the registry pages through with `Link` headers. An endless chain, a loop, a page on
// another host, a page of 100,000 descriptors, or more referrers than the verifier reads must
// each end in a clear error — not a loop, not a growing heap, not a silently shortened list —
// and the registry's token must never follow a Link off the registry.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServerResponse } from 'node:http';
import { MediaType, OciRegistryClient, referrersTag, type RegistryConnection } from '../../src/registry/oci/index.js';
import { FakeRegistry, send, sendEndless } from '../support/fake-registry.js';
import { makeTls, type TlsFiles } from '../support/tls.js';

const REPO = 'team/app';
const SUBJECT = `sha256:${'5'.repeat(64)}`;
const SIG = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const SBOM = 'application/spdx+json';
const ENDPOINT = `/v2/${REPO}/referrers/${SUBJECT}`;
const INDEX = { 'content-type': MediaType.OCI_INDEX };
const digestOf = (n: number) => `sha256:${createHash('sha256').update(String(n)).digest('hex')}`;
const descriptor = (n: number, artifactType = SIG) => ({ mediaType: MediaType.OCI_MANIFEST, digest: digestOf(n), size: 500, artifactType });
const page = (manifests: unknown[]) => JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests });

let tls: TlsFiles;
let ca: string;
let registry: FakeRegistry;
let elsewhere: FakeRegistry;
let client: OciRegistryClient;

beforeAll(async () => {
  tls = await makeTls(mkdtempSync(path.join(os.tmpdir(), 'trustgate-oci-referrers-')));
  ca = readFileSync(tls.caCert, 'utf8');
  registry = await FakeRegistry.start(tls);
  elsewhere = await FakeRegistry.start(tls, 'localhost');
});

beforeEach(() => {
  client = new OciRegistryClient();
  registry.received.length = 0;
  elsewhere.received.length = 0;
});

afterEach(() => client.close());
afterAll(async () => {
  await registry.close();
  await elsewhere.close();
});

function conn(over: Partial<RegistryConnection> = {}): RegistryConnection {
  return { registry: registry.host, insecure: false, caBundle: ca, credentials: undefined, signal: undefined, timeoutMs: 20_000, ...over };
}

/** Serves the referrers endpoint by page number (`?…&page=n`, the first page has none). */
function pages(serve: (n: number, res: ServerResponse) => void): void {
  registry.route = (req, res) => {
    const url = new URL(req.url ?? '', 'https://x');
    if (url.pathname !== ENDPOINT) return send(res, 404, '');
    serve(Number(url.searchParams.get('page') ?? '1'), res);
  };
}

const link = (n: number) => `<${ENDPOINT}?artifactType=${encodeURIComponent(SIG)}&page=${n}>; rel="next"`;
const referrers = (max = 100) => client.referrers(conn(), REPO, SUBJECT, SIG, max);

describe('referrers pages', () => {
  it('follows Link pages, filters by artifactType itself, and joins repeated descriptors', async () => {
    pages((n, res) => {
      // The registry says it filtered, yet sends an SBOM: it is dropped all the same.
      const headers = { ...INDEX, 'oci-filters-applied': 'artifactType', ...(n < 3 && { link: link(n + 1) }) };
      send(res, 200, page([descriptor(n), descriptor(100 + n, SBOM), descriptor(1)]), headers);
    });
    const found = await referrers();
    expect(found.map((d) => d.digest)).toEqual([digestOf(1), digestOf(2), digestOf(3)]);
    expect(registry.paths()[0]).toBe(`${ENDPOINT}?artifactType=${encodeURIComponent(SIG)}`);
  });

  it('an endless chain of pages is TOO_LARGE after 16 pages, not a loop', async () => {
    pages((n, res) => send(res, 200, page([descriptor(n)]), { ...INDEX, link: link(n + 1) }));
    await expect(referrers(1_000)).rejects.toMatchObject({ code: 'TOO_LARGE', message: expect.stringContaining('more than 16 pages') });
    expect(registry.received).toHaveLength(16);
  });

  it('a Link back to a page already read is REGISTRY_ERROR', async () => {
    pages((n, res) => send(res, 200, page([]), { ...INDEX, link: link(n === 3 ? 2 : n + 1) }));
    await expect(referrers()).rejects.toMatchObject({ code: 'REGISTRY_ERROR', message: expect.stringContaining('loops back') });
    expect(registry.received).toHaveLength(3);
  });

  it.each([
    ['another host', () => `<https://${elsewhere.host}${ENDPOINT}?page=2>; rel="next"`, 'off the registry'],
    ['plain HTTP on the same host', () => `<http://${registry.host}${ENDPOINT}?page=2>; rel="next"`, 'off the registry'],
    ['another endpoint of the registry', () => `</v2/${REPO}/manifests/latest>; rel="next"`, 'off the referrers of this digest'],
  ])('a Link to %s is REGISTRY_ERROR, and nothing is sent there', async (_name, header, message) => {
    pages((_n, res) => send(res, 200, page([descriptor(1)]), { ...INDEX, link: header() }));
    await expect(referrers()).rejects.toMatchObject({ code: 'REGISTRY_ERROR', message: expect.stringContaining(message) });
    expect(registry.received).toHaveLength(1);
    expect(elsewhere.received).toEqual([]);
  });

  describe('a page of 100,000 descriptors is TOO_LARGE', () => {
    const huge = Buffer.from(page(Array.from({ length: 100_000 }, (_, i) => descriptor(i))));

    it('declared in Content-Length, or streamed without one', async () => {
      pages((_n, res) => send(res, 200, huge, INDEX));
      await expect(referrers()).rejects.toMatchObject({ code: 'TOO_LARGE' });
      pages((_n, res) => sendEndless(res, INDEX, huge.subarray(0, 1 << 20).toString()));
      await expect(referrers()).rejects.toMatchObject({ code: 'TOO_LARGE' });
    });

    it('under a byte limit that lets it through, by its JSON values, before parsing', async () => {
      client = new OciRegistryClient({ limits: { referrersBytes: 64 << 20 }, bounds: { budget: { bytes: 96 << 20, reservedForSmall: 8 << 20, smallDocumentBytes: 64 << 10 } } });
      pages((_n, res) => send(res, 200, huge, INDEX));
      await expect(referrers()).rejects.toMatchObject({ code: 'TOO_LARGE', message: expect.stringContaining('JSON values') });
    });

    it('in pages each within bounds, by the descriptors listed in all', async () => {
      pages((n, res) => send(res, 200, page(Array.from({ length: 4_000 }, (_, i) => descriptor(n * 10_000 + i, SBOM))), { ...INDEX, link: link(n + 1) }));
      await expect(referrers()).rejects.toMatchObject({ code: 'TOO_LARGE', message: expect.stringContaining('more than 10000 listed') });
      // Three pages, each asked for twice: within a small document's share, then its whole limit.
      expect(new Set(registry.paths()).size).toBe(3);
    });
  });

  it('more referrers of the type than the caller reads is TOO_LARGE, never a shortened list', async () => {
    pages((_n, res) => send(res, 200, page(Array.from({ length: 11 }, (_, i) => descriptor(i))), INDEX));
    await expect(referrers(10)).rejects.toMatchObject({ code: 'TOO_LARGE', message: expect.stringContaining('more than 10') });
  });

  it.each([
    ['application/json', page([])],
    ['text/html', '<html>Not here</html>'],
  ])('a referrers page served as %s is REGISTRY_ERROR', async (type, body) => {
    pages((_n, res) => send(res, 200, body, { 'content-type': type }));
    await expect(referrers()).rejects.toMatchObject({ code: 'REGISTRY_ERROR' });
  });

  it('a descriptor of the type with a digest trustgate cannot verify is REGISTRY_ERROR', async () => {
    pages((_n, res) => send(res, 200, page([{ ...descriptor(1), digest: `blake3:${'a'.repeat(64)}` }]), INDEX));
    await expect(referrers()).rejects.toMatchObject({ code: 'REGISTRY_ERROR', message: expect.stringContaining('cannot verify') });
  });
});

describe('the referrers tag schema, when the API answers 404', () => {
  const TAG_PATH = `/v2/${REPO}/manifests/${referrersTag(SUBJECT)}`;

  function tagSchema(serve: (res: ServerResponse) => void): void {
    registry.route = (req, res) => {
      if (req.url === TAG_PATH) serve(res);
      else send(res, 404, '{"errors":[{"code":"NAME_UNKNOWN"}]}');
    };
  }

  it('reads the index tagged sha256-<hex>, filtered by artifactType', async () => {
    tagSchema((res) => send(res, 200, page([descriptor(1), descriptor(2, SBOM)]), INDEX));
    expect((await referrers()).map((d) => d.digest)).toEqual([digestOf(1)]);
    expect(registry.paths()).toEqual([`${ENDPOINT}?artifactType=${encodeURIComponent(SIG)}`, TAG_PATH]);
  });

  it('no tag, or a tag that is no OCI index, is no referrers', async () => {
    tagSchema((res) => send(res, 404, ''));
    await expect(referrers()).resolves.toEqual([]);
    tagSchema((res) => send(res, 200, JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config: descriptor(1), layers: [] }), { 'content-type': MediaType.OCI_MANIFEST }));
    await expect(referrers()).resolves.toEqual([]);
  });

  it('an index whose bytes are not what Docker-Content-Digest names is HASH_MISMATCH', async () => {
    tagSchema((res) => send(res, 200, page([descriptor(1)]), { ...INDEX, 'docker-content-digest': digestOf(7) }));
    await expect(referrers()).rejects.toMatchObject({ code: 'HASH_MISMATCH' });
  });

  it('an index too large, or listing more than the caller reads, is TOO_LARGE', async () => {
    tagSchema((res) => sendEndless(res, INDEX, '{"schemaVersion":2,"manifests":['));
    await expect(referrers()).rejects.toMatchObject({ code: 'TOO_LARGE' });
    tagSchema((res) => send(res, 200, page(Array.from({ length: 11 }, (_, i) => descriptor(i))), INDEX));
    await expect(referrers(10)).rejects.toMatchObject({ code: 'TOO_LARGE' });
  });
});
