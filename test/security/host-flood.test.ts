// Finding 7 of issue 9: registry names are the pod author's to choose, and each made-up
// registry is a made-up trust server (https://<registry>). 50,000 of them, sent as
// AdmissionReviews to a real `trustgate serve`, must leave every map, cache and metric label
// set within its bound. The made-up hosts are loopback addresses (127.1.x.y, port 1) that refuse
// at once: nothing leaves the machine. A second flood names 3,000 made-up repositories on one
// configured trust server that wants a token per repository, as Docker Hub's does.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { NO_PINS, TrustClient } from '../../src/trust/index.js';
import { review, workload } from '../support/reviews.js';
import { freePort } from '../support/processes.js';
import { metricValue, ServeProcess, writeServeConfig } from '../support/serve-process.js';
import { makeTls } from '../support/tls.js';

const HOSTS = 50_000;
const TOKEN_REPOSITORIES = 3_000;
const PER_POD = 200;
/** The bounds trustgate documents (docs/architecture.md, "Caches"), at their defaults. */
const BOUNDS = { agents: 256, roots: 10_000, versions: 100_000, tokens: 2_000, verificationCache: 10_000 };

let dir: string;
let serve: ServeProcess;
let tokenServer: https.Server;
let tokenOrigin: string;
let tokensIssued = 0;
let caText: string;
/** Requests for `tokens.example/slow` are answered after a pause; set when one arrives. */
let slowArrived = false;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-host-flood-'));
  const tls = await makeTls(dir);
  // A trust server that wants a token for every repository, then has no trust data for it.
  tokenServer = https.createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (req, res) => {
    if (req.url?.startsWith('/token')) {
      tokensIssued++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `t${tokensIssued}`, expires_in: 3600 }));
    } else if (req.headers.authorization?.startsWith('Bearer ')) {
      if (req.url?.includes('/tokens.example/slow/')) {
        slowArrived = true;
        setTimeout(() => res.writeHead(404).end(), 500);
      } else res.writeHead(404).end();
    } else {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${tokenOrigin}/token",service="flood"` }).end();
    }
  });
  await new Promise<void>((resolve) => tokenServer.listen(0, '127.0.0.1', resolve));
  tokenOrigin = `https://127.0.0.1:${(tokenServer.address() as AddressInfo).port}`;
  caText = readFileSync(tls.caCert, 'utf8');
  const policies = `apiVersion: trustgate.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: token-registry}
spec:
  images: ["tokens.example/**"]
  trust: {server: "${tokenOrigin}", caBundle: ${JSON.stringify(caText)}, trustOnFirstUse: true}
---
apiVersion: trustgate.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: verify-all}
spec:
  images: ["**"]
  trust: {trustOnFirstUse: true}
`;
  serve = await ServeProcess.start(await writeServeConfig(dir, tls, policies, `metrics: {listen: "127.0.0.1:${await freePort()}"}\n`), tls.caCert, false);
});

afterAll(async () => {
  await serve?.stop();
  await new Promise((resolve) => tokenServer?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** Sends the images as pods of PER_POD containers, a few pods at a time; returns the answers. */
async function flood(images: string[], concurrency = 4): Promise<boolean[]> {
  const pods: string[][] = [];
  for (let i = 0; i < images.length; i += PER_POD) pods.push(images.slice(i, i + PER_POD));
  const allowed: boolean[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let p = next++; p < pods.length; p = next++) {
        const object = workload('Pod', `flood-${p}`, { containers: pods[p]!.map((image, i) => ({ name: `c${i}`, image })) });
        allowed.push((await serve.review('mutate', review('Pod', object, { uid: `00000000-0000-4000-8000-${String(p).padStart(12, '0')}` }))).allowed);
      }
    }),
  );
  return allowed;
}

/** Distinct values of one label across a metrics text. */
function labelValues(text: string, label: string): Set<string> {
  return new Set([...text.matchAll(new RegExp(`[{,]${label}="([^"]*)"`, 'g'))].map((m) => m[1]!));
}

describe('50,000 made-up registries', () => {
  it('leave every map, cache and label set of `trustgate serve` within its bound', async () => {
    const hosts = Array.from({ length: HOSTS }, (_, i) => `127.1.${i >> 8}.${i & 255}:1/app:v1`);
    const repositories = Array.from({ length: TOKEN_REPOSITORIES }, (_, i) => `tokens.example/made-up-${i}:v1`);
    const answers = [...(await flood(hosts)), ...(await flood(repositories))];
    expect(answers).toHaveLength((HOSTS + TOKEN_REPOSITORIES) / PER_POD);
    expect(answers.every((allowed) => !allowed)).toBe(true); // nothing unsigned got in
    expect(tokensIssued).toBeGreaterThanOrEqual(TOKEN_REPOSITORIES); // the token flow really ran

    const metrics = await serve.metrics();
    // Trust servers appear by name only when the cluster configured them; the rest are `other`.
    expect([...labelValues(metrics, 'server')].sort()).toEqual([tokenOrigin, 'other'].sort());
    expect(metrics.split('\n').length).toBeLessThan(1_000);
    const entries = (structure: string) => metricValue(metrics, 'trustgate_trust_client_entries', `structure="${structure}"`);
    expect(metrics).toMatch(/^trustgate_trust_client_entries\{structure="agents"\} /m);
    expect(entries('agents')).toBeLessThanOrEqual(BOUNDS.agents);
    expect(entries('agents')).toBeGreaterThan(0);
    expect(entries('roots')).toBeLessThanOrEqual(BOUNDS.roots);
    expect(entries('versions')).toBeLessThanOrEqual(BOUNDS.versions);
    expect(entries('tokens')).toBeLessThanOrEqual(BOUNDS.tokens);
    expect(entries('tokens')).toBeGreaterThan(0);
    expect(entries('loads')).toBe(0); // every load in flight has settled and left
    expect(metricValue(metrics, 'trustgate_cache_entries')).toBeLessThanOrEqual(BOUNDS.verificationCache);
    // And the server is still answering.
    expect((await serve.request('GET', '/readyz')).status).toBe(200);
  });

  it('an agent pushed out of the LRU lets the lookup it carries finish', async () => {
    const client = new TrustClient({ requestTimeoutMs: 5000, bounds: { agents: 2 } });
    const load = (server: string, gun: string) =>
      client.loadRepository({ server, gun, pins: NO_PINS, roles: { all: false, roles: [] }, caBundle: caText, credentials: undefined, timeoutMs: 5000 });
    const slow = load(tokenOrigin, 'tokens.example/slow');
    while (!slowArrived) await new Promise((r) => setTimeout(r, 10));
    // Ten other servers push the slow lookup's agent out while its request is on the wire.
    for (let i = 1; i <= 10; i++) await load(`https://127.1.255.${i}:1`, 'app').catch(() => undefined);
    expect(client.sizes().agents).toBe(2);
    await expect(slow).rejects.toMatchObject({ code: 'NO_TRUST_DATA' }); // the server's answer, not a cut connection
    client.close();
  });
});
