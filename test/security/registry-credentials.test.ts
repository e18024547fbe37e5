// Issue 10, part 2, with the rules of issue 9 (docs/adr/0005): the OCI client sends the
// credentials it is given only where they may go — the registry over HTTPS, and the HTTPS token
// realm the registry's challenge names. Never over plain HTTP, never to a plain-HTTP realm on
// another host, never with a redirect to another host (blob downloads redirect to storage), never
// to a realm a storage host names. Every server here records each Authorization header it gets.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Credentials } from '../../src/registry/index.js';
import { OciRegistryClient, type RegistryConnection } from '../../src/registry/oci/index.js';
import { FakeRegistry, send } from '../support/fake-registry.js';
import { makeTls, type TlsFiles } from '../support/tls.js';

const REPO = 'team/app';
const CREDS: Credentials = { username: 'platform', password: 'cluster-secret' };
const BLOB = Buffer.from('a layer');
const BLOB_DIGEST = `sha256:${createHash('sha256').update(BLOB).digest('hex')}`;

let tls: TlsFiles;
let ca: string;
const servers: FakeRegistry[] = [];
let client: OciRegistryClient;

beforeAll(async () => {
  tls = await makeTls(mkdtempSync(path.join(os.tmpdir(), 'trustgate-oci-creds-')));
  ca = readFileSync(tls.caCert, 'utf8');
});

beforeEach(() => {
  client = new OciRegistryClient();
});

afterEach(async () => {
  client.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(options: { https?: boolean; hostname?: string } = {}): Promise<FakeRegistry> {
  const s = await FakeRegistry.start(options.https === false ? undefined : tls, options.hostname);
  servers.push(s);
  return s;
}

function conn(registry: FakeRegistry, over: Partial<RegistryConnection> = {}): RegistryConnection {
  return { registry: registry.host, insecure: registry.origin.startsWith('http:'), caBundle: ca, credentials: CREDS, signal: undefined, timeoutMs: 10_000, ...over };
}

/** A registry that wants `Authorization` and challenges with `challenge` until it gets one. */
function gated(registry: FakeRegistry, challenge: string, then: (req: IncomingMessage, res: ServerResponse) => void): void {
  registry.route = (req, res) => {
    if (req.headers.authorization === undefined) send(res, 401, '{"errors":[{"code":"UNAUTHORIZED"}]}', { 'www-authenticate': challenge });
    else then(req, res);
  };
}

/** A token realm: hands out a token to whoever asks. */
function realmOf(realm: FakeRegistry): void {
  realm.route = (_req, res) => send(res, 200, JSON.stringify({ token: 'registry-token', expires_in: 300 }), { 'content-type': 'application/json' });
}

const serveBlob = (_req: IncomingMessage, res: ServerResponse) => send(res, 200, BLOB);
const leaked = (...s: FakeRegistry[]) => s.flatMap((x) => x.credentials()).filter((c) => c.includes(CREDS.password!));

describe('token realms', () => {
  it('the registry\'s realm on another HTTPS host gets the credentials, the registry only the token (the ADR 0005 rule)', async () => {
    const realm = await server({ hostname: 'localhost' });
    realmOf(realm);
    const registry = await server();
    gated(registry, `Bearer realm="${realm.origin}/token",service="reg"`, serveBlob);
    await expect(client.blob(conn(registry), REPO, BLOB_DIGEST, 1024)).resolves.toEqual(BLOB);
    expect(realm.credentials()).toEqual([`Basic ${CREDS.username}:${CREDS.password}`]);
    expect(realm.paths()[0]).toContain(`scope=${encodeURIComponent(`repository:${REPO}:pull`)}`);
    expect(registry.credentials()).toEqual(['Bearer registry-token']);
  });

  it('a realm over plain HTTP is never sent the credentials: AUTH_FAILED', async () => {
    const realm = await server({ https: false });
    realmOf(realm);
    const registry = await server();
    gated(registry, `Bearer realm="${realm.origin}/token",service="reg"`, serveBlob);
    await expect(client.blob(conn(registry), REPO, BLOB_DIGEST, 1024)).rejects.toMatchObject({ code: 'AUTH_FAILED', message: expect.stringContaining('not HTTPS') });
    expect(realm.received).toEqual([]);
    expect(leaked(realm, registry)).toEqual([]);
  });

  it('a realm over plain HTTP on another host is not even asked anonymously', async () => {
    const realm = await server({ https: false, hostname: 'localhost' });
    realmOf(realm);
    const registry = await server();
    gated(registry, `Bearer realm="${realm.origin}/token",service="reg"`, serveBlob);
    await expect(client.blob(conn(registry, { credentials: undefined }), REPO, BLOB_DIGEST, 1024)).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    expect(realm.received).toEqual([]);
  });
});

describe('a registry over plain HTTP (marked insecure)', () => {
  it('never gets a password: a Basic challenge is AUTH_FAILED, saying why', async () => {
    const registry = await server({ https: false });
    gated(registry, 'Basic realm="reg"', serveBlob);
    await expect(client.blob(conn(registry), REPO, BLOB_DIGEST, 1024)).rejects.toMatchObject({
      code: 'AUTH_FAILED',
      message: expect.stringContaining('never sent to a registry reached over plain HTTP'),
    });
    expect(registry.received.length).toBeGreaterThan(0);
    expect(registry.credentials()).toEqual([]);
  });

  it('gets only an anonymous token: its HTTPS realm is not sent the credentials either', async () => {
    const realm = await server({ hostname: 'localhost' });
    realmOf(realm);
    const registry = await server({ https: false });
    gated(registry, `Bearer realm="${realm.origin}/token",service="reg"`, serveBlob);
    await expect(client.blob(conn(registry), REPO, BLOB_DIGEST, 1024)).resolves.toEqual(BLOB);
    expect(realm.received).toHaveLength(1);
    expect(realm.credentials()).toEqual([]);
    expect(leaked(realm, registry)).toEqual([]);
  });

  it('is never reached over HTTP unless marked insecure: an HTTPS connection to it fails UNREACHABLE, nothing sent', async () => {
    const registry = await server({ https: false });
    await expect(client.blob(conn(registry, { insecure: false }), REPO, BLOB_DIGEST, 1024)).rejects.toMatchObject({ code: 'UNREACHABLE' });
    expect(registry.received).toEqual([]);
  });
});

describe('redirects (blob downloads go to storage)', () => {
  it('to another host: followed without the Authorization header, the blob still checked', async () => {
    const storage = await server({ hostname: 'localhost' });
    storage.route = serveBlob;
    const registry = await server();
    gated(registry, 'Basic realm="reg"', (_req, res) => void res.writeHead(307, { location: `${storage.origin}/blobs/x?sig=abc` }).end());
    await expect(client.blob(conn(registry), REPO, BLOB_DIGEST, 1024)).resolves.toEqual(BLOB);
    expect(registry.credentials()).toEqual([`Basic ${CREDS.username}:${CREDS.password}`]);
    expect(storage.received).toEqual([{ method: 'GET', path: '/blobs/x?sig=abc', authorization: undefined }]);
  });

  it('a storage host that answers 401 with its own realm gets nothing, and neither does its realm', async () => {
    const evilRealm = await server({ hostname: 'localhost' });
    realmOf(evilRealm);
    const storage = await server({ hostname: 'localhost' });
    gated(storage, `Bearer realm="${evilRealm.origin}/token",service="x"`, serveBlob);
    const registry = await server();
    gated(registry, 'Basic realm="reg"', (_req, res) => void res.writeHead(302, { location: `${storage.origin}/blobs/x` }).end());
    await expect(client.blob(conn(registry), REPO, BLOB_DIGEST, 1024)).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    expect(evilRealm.received).toEqual([]);
    expect(leaked(storage, evilRealm)).toEqual([]);
    expect(storage.credentials()).toEqual([]);
  });

  it('from HTTPS to plain HTTP is REGISTRY_ERROR, and the HTTP host gets no request', async () => {
    const storage = await server({ https: false });
    storage.route = serveBlob;
    const registry = await server();
    gated(registry, 'Basic realm="reg"', (_req, res) => void res.writeHead(302, { location: `${storage.origin}/blobs/x` }).end());
    await expect(client.blob(conn(registry), REPO, BLOB_DIGEST, 1024)).rejects.toMatchObject({ code: 'REGISTRY_ERROR', message: expect.stringContaining('not HTTPS') });
    expect(storage.received).toEqual([]);
  });

  it('more than 3 in a row is REGISTRY_ERROR', async () => {
    const registry = await server();
    registry.route = (req, res) => void res.writeHead(302, { location: `${req.url ?? '/'}x` }).end();
    await expect(client.blob(conn(registry, { credentials: undefined }), REPO, BLOB_DIGEST, 1024)).rejects.toMatchObject({ code: 'REGISTRY_ERROR', message: expect.stringContaining('more than 3 redirects') });
    expect(registry.received).toHaveLength(4);
  });
});

describe('tokens are reused within their lifetime, per credentials', () => {
  it('one token for several calls on a repository; other credentials get their own', async () => {
    const realm = await server({ hostname: 'localhost' });
    realmOf(realm);
    const registry = await server();
    gated(registry, `Bearer realm="${realm.origin}/token",service="reg"`, serveBlob);
    await client.blob(conn(registry), REPO, BLOB_DIGEST, 1024);
    await client.blob(conn(registry), REPO, BLOB_DIGEST, 1024);
    expect(realm.received).toHaveLength(1);
    // The second call sent its token at once: no 401 round trip.
    expect(registry.received.map((r) => r.authorization)).toEqual([undefined, 'Bearer registry-token', 'Bearer registry-token']);
    await client.blob(conn(registry, { credentials: { username: 'team-a', password: 'team-secret' } }), REPO, BLOB_DIGEST, 1024);
    expect(realm.credentials()).toEqual([`Basic ${CREDS.username}:${CREDS.password}`, 'Basic team-a:team-secret']);
  });
});

describe('what the client remembers is bounded (registry hosts are the pod author\'s to choose)', () => {
  it('agents, challenges and tokens stay within their bounds across many registries', async () => {
    client = new OciRegistryClient({ bounds: { agents: 2, challenges: 2, tokens: 2 } });
    const realm = await server({ hostname: 'localhost' });
    realmOf(realm);
    for (let i = 0; i < 5; i++) {
      const registry = await server();
      gated(registry, `Bearer realm="${realm.origin}/token",service="reg-${i}"`, serveBlob);
      await expect(client.blob(conn(registry), REPO, BLOB_DIGEST, 1024)).resolves.toEqual(BLOB);
    }
    expect(realm.received).toHaveLength(5);
    expect(client.sizes()).toEqual({ agents: 2, challenges: 2, tokens: 2, bytesHeld: 0, bytesWaiting: 0 });
  });
});
