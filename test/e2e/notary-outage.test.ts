// A Notary outage as kubectl sees it (issue 12, docs/adr/0014): the chart installed on the real
// control plane, its webhooks calling `trustgate serve` on loopback (webhook.url), trust state in
// TrustRecords, and the durable trust stack (notary-server and notary-signer on PostgreSQL,
// test/support/stack.ts) so notary-server can be killed and come back with its data.
// - With notary-server killed, an image verified before is still admitted and pinned to its
//   signed digest, with the kubectl warning; one never verified is refused, naming the outage.
// - Once notary-server is started again, everything recovers without restarting trustgate: the
//   image is verified afresh (no warning), the unseen one and a tag signed after the restart
//   are admitted.
// Short cache TTLs make the refresh, and so the stale path, happen within the test: answers are
// fresh for 1 s (cache.maxTtlSeconds) and a failed refresh is retried every second
// (cache.negativeTtlSeconds); a Notary answer then stands in until its metadata expires (ADR 14).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ControlPlane } from '../support/control-plane.js';
import { eventually } from '../support/eventually.js';
import { freePort, type RunResult } from '../support/processes.js';
import { ServeProcess } from '../support/serve-process.js';
import { TrustStack, type PushedImage } from '../support/stack.js';

let cp: ControlPlane;
let stack: TrustStack;
let serve: ServeProcess | undefined;
let gun: string;
const images = new Map<string, PushedImage>();

const STALE_WARNING = /Warning: trustgate: container "[^"]+" image "[^"]+:1\.0" admitted on its last verified answer: its trust server or registry could not be asked \((UNREACHABLE|TIMEOUT)\); that answer stands until \d{4}-/;

/** Creates a pod with kubectl in the enforced namespace; returns kubectl's result. */
const runPod = (name: string, tag: string, ...extra: string[]): Promise<RunResult> =>
  cp.kubectl(['run', name, `--image=${gun}:${tag}`, '-n', 'enforced', '--restart=Never', ...extra]);
const podImage = (name: string) => cp.kubectlOk(['get', 'pod', name, '-n', 'enforced', '-o', 'jsonpath={.spec.containers[0].image}']);
const pinned = (tag: string) => `${gun}:${tag}@${images.get(tag)!.digest}`;

beforeAll(async () => {
  [cp, stack] = await Promise.all([ControlPlane.start(), TrustStack.start({ durable: true })]);
  gun = `${stack.registry}/team/app`;
  for (const tag of ['1.0', '2.0', '3.0']) images.set(tag, await stack.pushImage('team/app', tag, `e2e outage: build ${tag}`));
  await stack.init(gun);
  await stack.sign(gun, '1.0', images.get('1.0')!);
  await stack.sign(gun, '2.0', images.get('2.0')!);
  const port = await freePort();
  const caBundle = readFileSync(stack.tls.caCert, 'utf8');
  await cp.installChart({
    port,
    caPem: caBundle,
    policies: [{ name: 'signed-images', spec: { images: [`${stack.registry}/**`], trust: { server: stack.notaryUrl, caBundle, trustOnFirstUse: true } } }],
  });
  const config = path.join(stack.dir, 'trustgate.yaml');
  writeFileSync(config, `listen: "127.0.0.1:${port}"
tls: {certFile: ${stack.tls.cert}, keyFile: ${stack.tls.key}}
kubernetes: {kubeconfig: ${cp.kubeconfig}, pullSecrets: false}
trustState: {store: kubernetes, namespace: trustgate}
trust: {requestTimeoutSeconds: 2}
cache: {maxTtlSeconds: 1, negativeTtlSeconds: 1, staleForSeconds: 86400}
defaultAction: deny
`);
  serve = await ServeProcess.start(config, stack.tls.caCert);
  await serve.waitReady(30_000);
  await cp.kubectlOk(['create', 'namespace', 'enforced']);
  await cp.kubectlOk(['label', 'namespace', 'enforced', 'trustgate.dev/enforce=true']);
  await eventually(() => cp.kubectlOk(['get', 'clusterimagepolicy', 'signed-images', '-o', 'jsonpath={.status.accepted}']), (v) => v === 'true', 'the chart\'s policy accepted');
});

afterAll(async () => {
  await serve?.stop();
  await stack?.stop();
  await cp?.stop();
});

it('with notary-server killed, a verified image is still admitted and pinned with a warning, an unseen one refused naming the outage', async () => {
  const before = await runPod('before', '1.0');
  expect(before.stderr).toBe('');
  expect(await podImage('before')).toBe(pinned('1.0'));

  await stack.stopNotary({ kill: true });
  // Once the answer is past its 1 s freshness, its refresh fails and the last answer stands in.
  await eventually(() => runPod('probe', '1.0', '--dry-run=server'), (r) => STALE_WARNING.test(r.stderr), 'the stale answer given');
  const during = await runPod('during', '1.0');
  expect(during.code).toBe(0);
  expect(during.stderr).toMatch(STALE_WARNING);
  expect(await podImage('during')).toBe(pinned('1.0'));

  // 2.0 is signed on the server, but this trustgate never verified it: nothing to stand in.
  const unseen = await runPod('unseen', '2.0');
  expect(unseen.code).not.toBe(0);
  expect(unseen.stderr).toMatch(/denied the request: container "unseen" image "[^"]+:2\.0": (UNREACHABLE|TIMEOUT)/);
  expect((await cp.kubectl(['get', 'pod', 'unseen', '-n', 'enforced'])).code).not.toBe(0);
});

it('after notary-server restarts, everything recovers without restarting trustgate', async () => {
  await stack.startNotary();
  // Verified afresh: no warning once the retry after the last failed refresh is due (1 s).
  await eventually(() => runPod('probe', '1.0', '--dry-run=server'), (r) => r.code === 0 && r.stderr === '', 'verified afresh, without a warning');
  const fresh = await runPod('fresh', '1.0');
  expect(fresh.stderr).toBe('');
  expect(await podImage('fresh')).toBe(pinned('1.0'));

  const unseen = await runPod('unseen', '2.0');
  expect(unseen.stderr).toBe('');
  expect(await podImage('unseen')).toBe(pinned('2.0'));

  // Signed after the restart: a new timestamp from the key notary-signer kept on PostgreSQL.
  await stack.sign(gun, '3.0', images.get('3.0')!);
  const signedAfter = await runPod('signed-after', '3.0');
  expect(signedAfter.stderr).toBe('');
  expect(await podImage('signed-after')).toBe(pinned('3.0'));
});
