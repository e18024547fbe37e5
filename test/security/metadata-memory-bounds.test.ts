// ATTACKER: any pod author in a reviewed namespace, with one image reference naming a registry
// host they run, tries to push trustgate past the chart's memory limit (values.yaml
// resources.limits memory: 256Mi): the kernel OOM-kills it, the webhooks fail closed for every
// reviewed namespace, and the pod's controller retries the create — a crash loop.
//
// src/trust/update.ts fetches each role "no further than the declared length", but the length is
// declared by the attacker's own snapshot, capped only by limits.roleBytes. Two shapes:
//   - values: JSON.parse allocates per value, not per byte. Found by an independent attacker:
//     a targets.json padded to 16 MiB with `"pad":[{},{},…]` (5.6 million objects) peaked at
//     727 MiB (at today's 5 MiB role limit, 1.7 million objects, ~200 MB).
//   - bytes: a validly signed targets.json holding a 16 MiB string (a target's `custom` field,
//     which the signature covers) and a snapshot padded to 16 MiB peaked at 283 MiB: checking a
//     document takes several copies of it at once.
// Each is run at 16 MiB and just under today's role limit.
//
// Defences: a linear pre-scan counts JSON values before JSON.parse and refuses more than
// limits.maxJsonValues (500,000) as TOO_LARGE (src/shared/json-shape.ts; unit tests in
// test/unit/shared/json-shape.test.ts and test/unit/trust/work-bounds.test.ts); roles other
// than root and timestamp are limited to 5 MiB, as tuf-js and python-tuf limit targets to 5 MB.
//
// SAFE outcome asserted: after reviewing that pod, trustgate's peak resident memory (VmHWM) is
// still well under the 256 MiB the chart gives it (each shape in a fresh process).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_LIMITS } from '../../src/trust/limits.js';
import { buildRepository, digestOf, standardKeys, standardSpec, type RepoSpec } from '../support/repo-builder.js';
import { review, workload } from '../support/reviews.js';
import { ServeProcess, verifyAllOnFirstUse, writeServeConfig } from '../support/serve-process.js';
import { makeTls } from '../support/tls.js';
import { serveTrustFiles } from '../support/attack-server.js';

/** Three quarters of the chart's limit (values.yaml: 256Mi), leaving room for the other reviews in flight. */
const WELL_UNDER = 192 * 1024 * 1024;
let dir: string;
let serve: ServeProcess | undefined;
let caFile: string;
let evil: https.Server;
let registry: string;
const files = new Map<string, Buffer>();

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tg-attack-mem-'));
  const tls = await makeTls(dir);
  ({ server: evil, registry } = await serveTrustFiles(tls, files));

  const roleBytes = DEFAULT_LIMITS.roleBytes;
  for (const [name, size] of [['16mib', 16 * 1024 * 1024], ['limit', roleBytes]] as const) {
    // The signed targets, then a padding member of empty objects.
    addRepository(`evil/values-${name}`, (spec) => {
      spec.targets.bytes = (bytes) => pad(bytes, `[${'{},'.repeat(Math.floor((size - bytes.length - 64) / 3) - 1)}{}]`);
    });
    // One signed string in targets, and a padded snapshot.
    addRepository(`evil/bytes-${name}`, (spec) => {
      spec.targets.edit = (signed) => {
        (signed.targets as Record<string, Record<string, unknown>>)['1']!.custom = 'y'.repeat(size - 2_000);
      };
      spec.snapshot.bytes = (bytes) => pad(bytes, `"${'x'.repeat(size - bytes.length - 64)}"`);
    });
  }

  await writeServeConfig(dir, tls, verifyAllOnFirstUse(readFileSync(tls.caCert, 'utf8')));
  caFile = tls.caCert;
});

/** A validly signed repository, changed by `edit`. */
function addRepository(repo: string, edit: (spec: RepoSpec) => void): void {
  const gun = `${registry}/${repo}`;
  const spec = standardSpec(gun, standardKeys(gun), { '1': digestOf(randomBytes(4).toString('hex')) });
  edit(spec);
  for (const [name, bytes] of buildRepository(spec).files) files.set(`${gun} ${name}`, bytes);
}

/** The envelope with one more member, `"pad"`, after its signatures (which do not cover it). */
function pad(bytes: Buffer, value: string): Buffer {
  return Buffer.concat([bytes.subarray(0, bytes.length - 1), Buffer.from(`,"pad":${value}}`)]);
}

afterEach(async () => {
  await serve?.stop();
});

afterAll(async () => {
  await new Promise((resolve) => evil?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** Peak resident memory of the serve process (VmHWM). */
function peakRss(): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${serve!.pid!}/status`, 'utf8'))![1]!;
  return Number(kb) * 1024;
}

// Sizes: 16 MiB (the role limit before, the attacks as found), and just under today's role limit
// (5 MiB): the largest trustgate reads. The bytes shape at that size is validly signed and
// admitted (trust on first use); the rest is refused.
it.each([
  ['a targets.json of empty objects, 16 MiB (values, 727 MiB before)', 'evil/values-16mib', 'TOO_LARGE'],
  ['a targets.json of empty objects, at the role limit (values)', 'evil/values-limit', 'TOO_LARGE: targets: more than 500000 JSON values'],
  ['a signed 16 MiB string in targets.json and a 16 MiB snapshot (bytes, 283 MiB before)', 'evil/bytes-16mib', 'TOO_LARGE'],
  ['a signed string in targets.json and a padded snapshot, at the role limit (bytes)', 'evil/bytes-limit', undefined],
])("one pod naming an attacker-run registry keeps trustgate well within the chart's memory limit: %s", async (_what, repo, refusal) => {
  serve = await ServeProcess.start(path.join(dir, 'config.yaml'), caFile);
  const before = peakRss();
  const pod = workload('Pod', 'evil', { containers: [{ name: 'c', image: `${registry}/${repo}:1` }] });
  const answer = await serve.review('mutate', review('Pod', pod, { namespace: 'team-evil' }));
  const after = peakRss();
  console.log(`${repo}: peak RSS before ${(before / 2 ** 20).toFixed(0)} MiB, after one review ${(after / 2 ** 20).toFixed(0)} MiB; answer allowed=${answer.allowed} ${answer.status?.message ?? ''}`);
  expect(after).toBeLessThan(WELL_UNDER);
  expect(answer.allowed).toBe(refusal === undefined);
  if (refusal) expect(answer.status?.message).toContain(refusal);
});
