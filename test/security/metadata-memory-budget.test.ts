// ATTACKER: a pod author in a reviewed namespace, with one pod naming 32 repositories on a
// registry host they run (its trust server is `https://<registry>`, theirs too), every role at
// the role limit, tries to push trustgate past the chart's memory limit (values.yaml
// resources.limits memory: 256Mi): the kernel OOM-kills it, the webhooks fail closed for every
// reviewed namespace, and the controller retries — a crash loop.
//
// Each document is bounded on its own (test/security/metadata-memory-bounds.test.ts), and the
// fair share lets one namespace verify 16 repositories at once (64 in all), but loads in flight
// shared no memory budget: found by an independent attacker, this pod peaked at 316 MiB.
//
// Defence: one process-wide budget of metadata bytes held by loads in flight
// (src/trust/budget.ts, docs/adr/0008-metadata-memory-budget.md): a document holds its declared
// length (root and timestamp: a small document's share, then their cap) until its load settles,
// waits for it within the load's deadline (TIMEOUT, never cached), and documents of a few KB,
// as real Notary repositories have, draw on a share large ones cannot take.
//
// SAFE outcome asserted: trustgate's peak resident memory (VmHWM) stays under 192 MiB, and a
// signed image of another namespace, on the real notary-server, is admitted and pinned while
// the attack is being reviewed.
import { mkdirSync, readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { DEFAULT_LIMITS } from '../../src/trust/limits.js';
import { TestKey } from '../support/keys.js';
import { buildRepository, digestOf, standardKeys, standardSpec } from '../support/repo-builder.js';
import { review, workload } from '../support/reviews.js';
import { ServeProcess, writeServeConfig } from '../support/serve-process.js';
import { TrustStack, type PushedImage } from '../support/stack.js';
import { makeTls } from '../support/tls.js';
import { serveTrustFiles } from '../support/attack-server.js';

/** Three quarters of the chart's limit (values.yaml: 256Mi). */
const WELL_UNDER = 192 * 1024 * 1024;
const REPOSITORIES = 32;
let stack: TrustStack;
let serve: ServeProcess | undefined;
let evil: https.Server;
let registry: string;
let goodGun: string;
let goodImage: PushedImage;
let configFile: string;
let caFile: string;
const files = new Map<string, Buffer>();

beforeAll(async () => {
  stack = await TrustStack.start();
  goodGun = `${stack.registry}/team-good/web`;
  goodImage = await stack.pushImage('team-good/web', '1.0', 'metadata-memory-budget: the good team');
  await stack.init(goodGun);
  await stack.sign(goodGun, '1.0', goodImage);

  const dir = path.join(stack.dir, 'attack');
  mkdirSync(dir);
  const tls = await makeTls(dir);
  ({ server: evil, registry } = await serveTrustFiles(tls, files));
  buildAttack();

  const policy = (name: string, images: string, trust: Record<string, unknown>) => `---
apiVersion: trustgate.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: ${name}}
spec:
  images: [${JSON.stringify(images)}]
  trust: ${JSON.stringify({ ...trust, trustOnFirstUse: true })}
`;
  configFile = await writeServeConfig(dir, tls, [
    policy('attacker-registry', `${registry}/**`, { caBundle: readFileSync(tls.caCert, 'utf8') }),
    policy('good-registry', `${stack.registry}/**`, { server: stack.notaryUrl, caBundle: readFileSync(stack.tls.caCert, 'utf8') }),
  ].join(''));
  caFile = tls.caCert;
}, 600_000);

/**
 * REPOSITORIES validly signed repositories (trust on first use), each with targets and
 * targets/releases holding one signed string up to the role limit, a snapshot padded to it
 * and a timestamp padded to its own. Targets and releases are the same bytes in each (their
 * keys are shared; only the root, whose certificate names the repository, differs).
 */
function buildAttack(): void {
  const limit = DEFAULT_LIMITS.roleBytes;
  const shared = standardKeys(`${registry}/evil/template`);
  const releasesKey = TestKey.generate('ecdsa');
  const bigString = (signed: Record<string, unknown>) => {
    (signed.targets as Record<string, Record<string, unknown>>)['1']!.custom = 'y'.repeat(limit - 2_000);
  };
  let targets: Buffer | undefined;
  let releases: Buffer | undefined;
  for (let i = 0; i < REPOSITORIES; i++) {
    const gun = `${registry}/evil/r${i}`;
    const spec = standardSpec(gun, { ...shared, root: TestKey.generate('ecdsa-x509', { cn: gun }) }, { '1': digestOf('evil') });
    spec.targets.edit = bigString;
    spec.targets.bytes = (bytes) => (targets ??= bytes);
    spec.delegations = [{ name: 'targets/releases', keys: [releasesKey], targets: { '1': digestOf('evil') }, edit: bigString, bytes: (bytes) => (releases ??= bytes) }];
    spec.snapshot.bytes = (bytes) => pad(bytes, limit);
    spec.timestamp.bytes = (bytes) => pad(bytes, DEFAULT_LIMITS.timestampBytes);
    for (const [name, bytes] of buildRepository(spec).files) files.set(`${gun} ${name}`, bytes);
  }
}

/** The envelope with one more member, `"pad"`, after its signatures (which do not cover it), to `size` bytes. */
function pad(bytes: Buffer, size: number): Buffer {
  return Buffer.concat([bytes.subarray(0, bytes.length - 1), Buffer.from(`,"pad":"${'x'.repeat(size - bytes.length - 64)}"}`)]);
}

afterAll(async () => {
  await serve?.stop();
  if (evil) await new Promise((resolve) => evil.close(resolve));
  await stack?.stop();
});

/** Peak resident memory of the serve process (VmHWM). */
function peakRss(): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${serve!.pid!}/status`, 'utf8'))![1]!;
  return Number(kb) * 1024;
}

it("one pod naming 32 attacker repositories at the role limit keeps trustgate well within the chart's memory limit, and another namespace is admitted meanwhile", async () => {
  serve = await ServeProcess.start(configFile, caFile);
  const before = peakRss();
  const started = Date.now();
  const containers = Array.from({ length: REPOSITORIES }, (_, i) => ({ name: `c${i}`, image: `${registry}/evil/r${i}:1` }));
  let attackDone = 0;
  const attack = serve.review('mutate', review('Pod', workload('Pod', 'evil', { containers }, { namespace: 'team-evil' }), { namespace: 'team-evil' }))
    .finally(() => (attackDone = Date.now() - started));
  // The good team's pod arrives while the attack's documents are being read.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const good = await serve.review('mutate', review('Pod', workload('Pod', 'web', { containers: [{ name: 'web', image: `${goodGun}:1.0` }] }, { namespace: 'team-good' }), { namespace: 'team-good' }));
  const goodDone = Date.now() - started;
  const answer = await attack;
  const after = peakRss();
  const codes = [...new Set((answer.status?.message ?? '').match(/\b[A-Z][A-Z_]{3,}\b/g) ?? [])];
  console.log(`${REPOSITORIES} attacker repositories: peak RSS before ${(before / 2 ** 20).toFixed(0)} MiB, after ${(after / 2 ** 20).toFixed(0)} MiB; attack answered at ${attackDone} ms, allowed=${answer.allowed} ${codes.join(',')}; good pod answered at ${goodDone} ms, allowed=${good.allowed} ${good.status?.message ?? ''}`);

  expect(after).toBeLessThan(WELL_UNDER);
  expect(good.allowed).toBe(true);
  const patch = JSON.parse(Buffer.from(good.patch ?? '', 'base64').toString('utf8')) as unknown[];
  expect(patch).toContainEqual({ op: 'replace', path: '/spec/containers/0/image', value: `${goodGun}:1.0@${goodImage.digest}` });
  // Admitted during the attack, not after it.
  expect(goodDone).toBeLessThan(attackDone);
});
