// Memory of `trustgate serve` holding 10,000 distinct cached images (issue 12: RSS ≤ 200 MB).
// The built serve process (dist/, as bench/webhook.ts starts it) reviews 10,000 pods, each naming
// an image never reviewed before (1,000 repositories × 10 tags), so every verified answer is
// cached (cache.maxEntries 10,000, the default of the config and the chart); VmRSS is read from
// /proc/<pid>/status at start and after the 10,000, beside a second serve started with the same
// config that reviews nothing (the idle baseline, same run, same moments). Twice: as on this
// machine (no memory limit), and with V8's heap sized as in the chart's pod (VARIANTS).
//
// The trust server is a stand-in: an HTTPS Notary read API in this process serving repositories
// built by test/support/repo-builder.ts (notary-server's shapes, checked against the notary client
// in test/integration/attacks.test.ts), trusted on first use. What is measured is trustgate's
// memory, not the server's speed: signing 10,000 tags with the notary CLI would take hours here,
// and notary-server's answers would make no difference to what trustgate holds.
//   node dist/bench/rss-cached-images.js   (BENCH_REPOSITORIES, BENCH_TAGS to change the shape)
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../test/support/processes.js';
import { buildRepository, digestOf, standardKeys, standardSpec } from '../test/support/repo-builder.js';
import { review, workload } from '../test/support/reviews.js';
import { metricValue, POD_HEAP_NODE_OPTIONS, ServeProcess, writeServeConfig } from '../test/support/serve-process.js';
import { makeTls } from '../test/support/tls.js';

const REPOSITORIES = Number(process.env.BENCH_REPOSITORIES ?? 1000);
const TAGS = Number(process.env.BENCH_TAGS ?? 10);
const IMAGES = REPOSITORIES * TAGS;
const CONCURRENCY = 8;
const REGISTRY = '127.0.0.1:5000';

/** The Notary read API for many repositories: GET /v2/<gun>/_trust/tuf/<file>.json. */
async function serveRepositories(tls: { cert: string; key: string }, repos: ReadonlyMap<string, ReadonlyMap<string, Buffer>>): Promise<{ url: string; close(): Promise<void> }> {
  const server = https.createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (req, res) => {
    const m = /^\/v2\/(.+)\/_trust\/tuf\/(.+)\.json$/.exec(req.url ?? '');
    const body = m ? repos.get(m[1]!)?.get(m[2]!) : undefined;
    if (req.url === '/_notary_server/health') res.writeHead(200).end('{}');
    else if (body) res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    else res.writeHead(404).end();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** VmRSS and VmHWM of a process, in MiB. */
function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
}

function post(port: number, ca: Buffer, agent: https.Agent, body: string): Promise<{ allowed: boolean; message?: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/mutate', method: 'POST', ca, agent, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const answer = JSON.parse(Buffer.concat(chunks).toString()) as { response: { allowed: boolean; status?: { message: string } } };
        resolve({ allowed: answer.response.allowed, ...(answer.response.status && { message: answer.response.status.message }) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * How V8 sizes its heap. Node gives V8 the smaller of the machine's memory and the cgroup's limit
 * (nodejs/node src/api/environment.cc, SetIsolateCreateParamsForNode; nodejs/node#27508), and V8
 * makes the old generation a quarter of it times two on 64-bit, with semi-spaces of ~1 MiB for
 * such a small heap (v8 src/heap/heap.cc, HeapSizeFromPhysicalMemory). This machine has 24 GiB
 * and no limit; the chart's pod has a 256 Mi limit (charts/trustgate/values.yaml, resources),
 * which the flags of the second variant reproduce without a cgroup.
 */
const VARIANTS = [
  { name: 'no memory limit (this machine: V8 sizes its heap from 24 GiB)', nodeOptions: '' },
  { name: `heap as in the chart's pod (256 Mi limit: ${POD_HEAP_NODE_OPTIONS})`, nodeOptions: POD_HEAP_NODE_OPTIONS },
] as const;

const settle = () => new Promise((r) => setTimeout(r, 3000));
const mib = (n: number) => `${n.toFixed(1)} MiB`;

async function measure(variant: (typeof VARIANTS)[number], dir: string, tls: { cert: string; key: string; caCert: string }, policies: string, images: readonly string[]): Promise<void> {
  const serves: ServeProcess[] = [];
  try {
    for (const name of ['measured', 'idle']) {
      const sub = path.join(dir, `${name}-${serves.length}-${VARIANTS.indexOf(variant)}`);
      mkdirSync(sub);
      const config = await writeServeConfig(sub, tls, policies, `metrics: {listen: "127.0.0.1:${await freePort()}"}\ncache: {maxEntries: ${IMAGES}}\n`);
      const serve = await ServeProcess.start(config, tls.caCert, false, { NODE_OPTIONS: variant.nodeOptions });
      await serve.waitReady();
      serves.push(serve);
    }
    const [measured, idle] = serves as [ServeProcess, ServeProcess];
    await settle();
    const atStart = { measured: memory(measured.pid!), idle: memory(idle.pid!) };

    const ca = readFileSync(tls.caCert);
    const agent = new https.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    let next = 0;
    const reviewStarted = Date.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < images.length; i = next++) {
          const body = JSON.stringify(review('Pod', workload('Pod', `web-${i}`, { containers: [{ name: 'app', image: images[i]! }] })));
          const answer = await post(measured.port, ca, agent, body);
          if (!answer.allowed) throw new Error(`${images[i]} refused: ${answer.message}`);
        }
      }),
    );
    agent.destroy();
    const reviewSeconds = (Date.now() - reviewStarted) / 1000;
    await settle();
    const after = { measured: memory(measured.pid!), idle: memory(idle.pid!) };
    const metrics = await measured.metrics();
    const entries = metricValue(metrics, 'trustgate_cache_entries');
    const heapOf = (text: string, what: 'used' | 'total') => metricValue(text, `trustgate_process_nodejs_heap_size_${what}_bytes`) / 1048576;
    const idleMetrics = await idle.metrics();

    console.log(`${variant.name}:`);
    console.log(`  reviewed ${images.length} in ${reviewSeconds.toFixed(0)} s (${CONCURRENCY} at a time); trustgate_cache_entries ${entries}`);
    console.log(`  measured serve: RSS at start ${mib(atStart.measured.rss)}, after ${mib(after.measured.rss)} (peak ${mib(after.measured.hwm)})`);
    console.log(`  idle serve    : RSS at start ${mib(atStart.idle.rss)}, after ${mib(after.idle.rss)}`);
    console.log(`  V8 heap       : used ${mib(heapOf(metrics, 'used'))} of ${mib(heapOf(metrics, 'total'))} (idle: ${mib(heapOf(idleMetrics, 'used'))} of ${mib(heapOf(idleMetrics, 'total'))}), not collected on demand`);
    console.log(`  RSS over idle : ${mib(after.measured.rss - after.idle.rss)}, ${(((after.measured.rss - after.idle.rss) * 1048576) / IMAGES / 1024).toFixed(1)} KiB per cached image`);
    console.log(`  goal ≤ 200 MB : ${after.measured.rss * 1.048576 <= 200 ? 'met' : 'NOT met'} (${(after.measured.rss * 1.048576).toFixed(0)} MB)`);
  } finally {
    await Promise.all(serves.map((s) => s.stop()));
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-rss-'));
  let notary: { url: string; close(): Promise<void> } | undefined;
  try {
    const tls = await makeTls(dir);
    const started = Date.now();
    const repos = new Map<string, Map<string, Buffer>>();
    const images: string[] = [];
    for (let r = 0; r < REPOSITORIES; r++) {
      const gun = `${REGISTRY}/bench/app-${r}`;
      const tags: Record<string, string> = {};
      for (let t = 0; t < TAGS; t++) {
        tags[`1.${t}`] = digestOf(`${gun}:1.${t}`);
        images.push(`${gun}:1.${t}`);
      }
      repos.set(gun, buildRepository(standardSpec(gun, standardKeys(gun), tags)).files);
    }
    console.log(`trustgate serve (dist/), ${IMAGES} distinct images reviewed and cached: ${REPOSITORIES} repositories × ${TAGS} tags, trust on first use, cache.maxEntries ${IMAGES}`);
    console.log(`  (built the repositories in ${((Date.now() - started) / 1000).toFixed(0)} s)`);
    notary = await serveRepositories(tls, repos);
    const caBundle = readFileSync(tls.caCert, 'utf8');
    const policies = `apiVersion: trustgate.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: bench}
spec:
  images: ["${REGISTRY}/**"]
  trust: {server: "${notary.url}", caBundle: ${JSON.stringify(caBundle)}, trustOnFirstUse: true}
`;
    for (const variant of VARIANTS) await measure(variant, dir, tls, policies, images);
  } finally {
    await notary?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
