// ATTACKER: any pod author in a reviewed namespace, with one image reference naming a registry
// host they run, tries to push trustgate past the chart's memory limit (values.yaml
// resources.limits memory: 256Mi): the kernel OOM-kills it, the webhooks fail closed for every
// reviewed namespace, and the pod's controller retries the create — a crash loop.
//
// src/trust/update.ts fetches each role "no further than the declared length", but the length is
// declared by the attacker's own snapshot and capped only by limits.roleBytes = 16 MiB. JSON.parse
// allocates per value, not per byte: 16 MiB of `[{},{},…]` is ~5.6 million JavaScript objects.
// Found by an independent attacker: 727 MiB peak resident memory from one lookup, before the fix.
//
// Defence (src/trust/json-scan.ts, encoding.ts): a linear pre-scan counts JSON values and
// nesting before JSON.parse and refuses a document of more than limits.maxJsonValues (500,000:
// 62,500 tags) as TOO_LARGE (test/unit/trust/json-scan.test.ts, work-bounds.test.ts).
//
// SAFE outcome asserted: after reviewing that pod, trustgate's peak resident memory (VmHWM) is
// still under the 256 MiB the chart gives it, and the pod is refused.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../support/processes.js';
import { buildRepository, digestOf, standardKeys, standardSpec } from '../support/repo-builder.js';
import { review, workload } from '../support/reviews.js';
import { ServeProcess } from '../support/serve-process.js';
import { makeTls } from '../support/tls.js';

const CHART_MEMORY_LIMIT = 256 * 1024 * 1024;
let dir: string;
let serve: ServeProcess;
let evil: https.Server;
let registry: string;
const files = new Map<string, Buffer>();

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tg-attack-mem-'));
  const tls = await makeTls(dir);
  evil = https.createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (req, res) => {
    const m = /^\/v2\/(.+)\/_trust\/tuf\/(.+)\.json$/.exec(req.url ?? '');
    const bytes = m && files.get(`${m[1]!} ${m[2]!}`);
    if (!bytes) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length }).end(bytes);
  });
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
  registry = `127.0.0.1:${(evil.address() as AddressInfo).port}`;

  const gun = `${registry}/evil/memory`;
  const spec = standardSpec(gun, standardKeys(gun), { '1': digestOf(`${randomBytes(4).toString('hex')}`) });
  // Just under 16 MiB: the signed targets, then a padding member of empty objects.
  spec.targets.bytes = (bytes) => {
    const room = 16 * 1024 * 1024 - bytes.length - 64;
    const pad = `,"pad":[${'{},'.repeat(Math.floor(room / 3) - 1)}{}]}`;
    return Buffer.concat([bytes.subarray(0, bytes.length - 1), Buffer.from(pad)]);
  };
  for (const [name, bytes] of buildRepository(spec).files) files.set(`${gun} ${name}`, bytes);
  expect(files.get(`${gun} targets`)!.length).toBeLessThan(16 * 1024 * 1024);

  const ca = readFileSync(tls.caCert, 'utf8');
  writeFileSync(path.join(dir, 'policies.yaml'), `apiVersion: trustgate.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: default-verify-all}
spec:
  images: ["**"]
  trust: {caBundle: ${JSON.stringify(ca)}}
`);
  writeFileSync(path.join(dir, 'config.yaml'), `listen: "127.0.0.1:${await freePort()}"
tls: {certFile: ${tls.cert}, keyFile: ${tls.key}}
policies: {files: ["policies.yaml"]}
defaultAction: deny
`);
  serve = await ServeProcess.start(path.join(dir, 'config.yaml'), tls.caCert);
});

afterAll(async () => {
  await serve?.stop();
  await new Promise((resolve) => evil?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** Peak resident memory of the serve process (VmHWM). */
function peakRss(): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${serve.pid!}/status`, 'utf8'))![1]!;
  return Number(kb) * 1024;
}

it('one pod naming an attacker-run registry keeps trustgate within the chart\'s memory limit', async () => {
  const before = peakRss();
  const pod = workload('Pod', 'evil', { containers: [{ name: 'c', image: `${registry}/evil/memory:1` }] });
  const answer = await serve.review('mutate', review('Pod', pod, { namespace: 'team-evil' }));
  const after = peakRss();
  console.log(`peak RSS before ${(before / 2 ** 20).toFixed(0)} MiB, after one review ${(after / 2 ** 20).toFixed(0)} MiB; answer allowed=${answer.allowed} ${answer.status?.message ?? ''}`);
  expect(after).toBeLessThan(CHART_MEMORY_LIMIT);
  expect(answer.allowed).toBe(false);
  expect(answer.status?.message).toContain('TOO_LARGE');
});
