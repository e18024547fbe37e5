// ATTACKER: any pod author in a reviewed namespace (no policy rights at all), with ONE image
// reference naming a registry host they run, tries to stall trustgate for every namespace.
//
// Under a `**` verify policy (the chart's default-verify-all), the trust server of a made-up
// registry is `https://<registry>` (docker's default), i.e. the attacker's. Its metadata is
// verified synchronously on the event loop (src/trust/verify-role.ts checkThreshold), so each
// public-key operation it can make trustgate do blocks every other review. Found by an
// independent attacker, measured before the fix (13.8 s and 6.6 s of /healthz silence):
//   A. a root listing an RSA key with a 3072-bit modulus and a 3071-bit public exponent (each
//      verification a full-size exponentiation, ~9 ms against ~0.02 ms for e = 65537), and
//      1,500 junk signatures under that key ID in timestamp.json (< 1 MiB);
//   B. a 16384-bit key with e = 65537 and 5,500 junk signatures in targets.json (< 16 MiB, then
//      the role limit; run here with 1,700, under today's 5 MiB);
//   C. within the signature cap: 63 distinct keys like A's, one junk signature each, in each of
//      timestamp, snapshot and targets (~0.6 s per document, so no single stall passes 1 s:
//      the CPU the lookup costs is what shows it).
// (OpenSSL refuses exponents over 64 bits for moduli over 3072 bits, so A's key is the worst.)
//
// Defences (src/trust/keys.ts, verify-role.ts, metadata.ts): RSA moduli of at most 8192 bits
// and odd exponents from 3 to 2^31-1 (else UNSUPPORTED_KEY), each key ID tried once per
// document, at most 64 signatures per document (else TOO_LARGE).
//
// (The attacker's repository is validly signed by the attacker's own keys: under trust on first
// use it may be admitted, as docker would; the point here is the stall, not the admission.)
//
// SAFE outcome asserted: while that image is reviewed, trustgate still answers /healthz (and
// therefore reviews of other namespaces) within 1 s, and the lookup costs it under 0.5 s of CPU (C costs 1.2 s without the exponent bound).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { canonicalize } from '@tufjs/canonical-json';
import { DEFAULT_LIMITS } from '../../src/trust/limits.js';
import { buildRepository, digestOf, standardKeys, standardSpec } from '../support/repo-builder.js';
import { review, workload } from '../support/reviews.js';
import { fullSizeExponent, rsaKeyJson, rsaSpki } from '../support/rsa-spki.js';
import { ServeProcess, verifyAllOnFirstUse, writeServeConfig } from '../support/serve-process.js';
import { makeTls } from '../support/tls.js';
import { serveTrustFiles } from '../support/attack-server.js';

let dir: string;
let serve: ServeProcess;
let evil: https.Server;
let registry: string;
const files = new Map<string, Buffer>();

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tg-attack-rsa-'));
  const tls = await makeTls(dir);
  ({ server: evil, registry } = await serveTrustFiles(tls, files));

  addRepository('evil/exponent', ['timestamp'], [rsaSpki(384, fullSizeExponent(384))], 384, 1500);
  addRepository('evil/count', ['targets'], [rsaSpki(2048, 65537n)], 2048, 1700);
  const manyKeys = Array.from({ length: 63 }, () => rsaSpki(384, fullSizeExponent(384)));
  addRepository('evil/many-keys', ['timestamp', 'snapshot', 'targets'], manyKeys, 384, 1);
  // The catch-all that trusts on first use, so the attacker's metadata is read and verified in full.
  serve = await ServeProcess.start(await writeServeConfig(dir, tls, verifyAllOnFirstUse(readFileSync(tls.caCert, 'utf8'))), tls.caCert);
});

/**
 * A validly signed repository whose `roles` also list the heavy keys, with `perKey` junk
 * signatures under each placed before the valid ones.
 */
function addRepository(repo: string, roles: Array<'timestamp' | 'snapshot' | 'targets'>, heavy: Buffer[], sigBytes: number, perKey: number): void {
  const gun = `${registry}/${repo}`;
  const spec = standardSpec(gun, standardKeys(gun), { '1': digestOf(repo) });
  const keys = heavy.map((spki) => {
    const json = rsaKeyJson(spki);
    return { json, id: createHash('sha256').update(canonicalize(json)).digest('hex') };
  });
  spec.root.edit = (signed) => {
    for (const key of keys) {
      (signed.keys as Record<string, unknown>)[key.id] = key.json;
      for (const role of roles) (signed.roles as Record<string, { keyids: string[] }>)[role]!.keyids.push(key.id);
    }
  };
  for (const role of roles) {
    spec[role].tamper = (envelope) => {
      const junk = keys.flatMap((key) =>
        Array.from({ length: perKey }, () => ({ keyid: key.id, method: 'rsapkcs1v15', sig: randomBytes(sigBytes).fill(0x11, 0, 1).toString('base64') })),
      );
      envelope.signatures = [...junk, ...envelope.signatures];
    };
  }
  for (const [name, bytes] of buildRepository(spec).files) files.set(`${gun} ${name}`, bytes);
  expect(files.get(`${gun} root`)!.length).toBeLessThan(512 * 1024);
  expect(files.get(`${gun} timestamp`)!.length).toBeLessThan(1024 * 1024);
  expect(files.get(`${gun} targets`)!.length).toBeLessThan(DEFAULT_LIMITS.roleBytes);
}

afterAll(async () => {
  await serve?.stop();
  await new Promise((resolve) => evil?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

it.each([
  ['a 3071-bit public exponent, 1,500 junk signatures in timestamp.json', 'evil/exponent'],
  ['a 16384-bit modulus with e = 65537, 1,700 junk signatures in targets.json', 'evil/count'],
  ['63 distinct keys with 3071-bit exponents in each of three roles, within the signature cap', 'evil/many-keys'],
])('one pod naming an attacker-run registry does not stop trustgate answering everyone else (%s)', async (_what, repo) => {
  const pod = workload('Pod', 'evil', { containers: [{ name: 'c', image: `${registry}/${repo}:1` }] });
  const cpuBefore = cpuSeconds();
  const evilReview = serve.review('mutate', review('Pod', pod, { namespace: 'team-evil' }));
  await new Promise((r) => setTimeout(r, 300));
  const latencies: number[] = [];
  let settled = false;
  void evilReview.finally(() => (settled = true));
  // At least one probe, even if the review has already been answered.
  do {
    const started = performance.now();
    const r = await serve.request('GET', '/healthz');
    expect(r.status).toBe(200);
    latencies.push(performance.now() - started);
    await new Promise((r) => setTimeout(r, 100));
  } while (!settled && latencies.length < 100);
  const answer = await evilReview;
  const cpu = cpuSeconds() - cpuBefore;
  console.log(`${repo}: evil review allowed=${answer.allowed} ${answer.status?.message ?? ''}\ncpu ${cpu.toFixed(2)} s; /healthz latencies (ms): ${latencies.map((l) => l.toFixed(0)).join(' ')}`);
  expect(Math.max(...latencies)).toBeLessThan(1_000);
  expect(cpu).toBeLessThan(0.5);
});

/** CPU time (user + system) the serve process has used, from /proc/PID/stat (clock ticks of 1/100 s). */
function cpuSeconds(): number {
  const stat = readFileSync(`/proc/${serve.pid!}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
