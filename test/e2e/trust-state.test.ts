// Two `trustgate serve` replicas sharing their trust state through TrustRecords on the real
// control plane, against Debian's notary-server (issue 12, ADR 0013):
// - a root trusted on first use by one replica is enforced by the other, and after both restart;
// - a rollback one replica saw (newer metadata) is refused by the other, which never saw it, and
//   by both after both restart.
// A replaying proxy in front of notary-server serves, on demand, the metadata it first recorded:
// stale but validly signed, as a compromised mirror or a restored backup would.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ControlPlane } from '../support/control-plane.js';
import { eventually } from '../support/eventually.js';
import { review, workload } from '../support/reviews.js';
import { ServeProcess } from '../support/serve-process.js';
import { TrustStack } from '../support/stack.js';

let cp: ControlPlane;
let stack: TrustStack;
let dir: string;
let proxy: ReplayingProxy;
let replicas: ServeProcess[] = [];

/** Forwards to notary-server, keeping the first answer to each path; `replay` serves those. */
class ReplayingProxy {
  readonly first = new Map<string, { status: number; body: Buffer }>();
  replay = false;
  url = '';
  private server: https.Server | undefined;

  async start(upstream: string, tls: { cert: string; key: string; caCert: string }): Promise<void> {
    const ca = readFileSync(tls.caCert);
    this.server = https.createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (req, res) => {
      const key = req.url ?? '';
      const kept = this.first.get(key);
      if (this.replay && kept) {
        res.writeHead(kept.status, { 'content-type': 'application/json' }).end(kept.body);
        return;
      }
      const out = https.request(`${upstream}${key}`, { method: req.method, ca, headers: { ...req.headers, host: new URL(upstream).host } }, (up) => {
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => {
          const body = Buffer.concat(chunks);
          if (!this.first.has(key) && up.statusCode === 200) this.first.set(key, { status: 200, body });
          res.writeHead(up.statusCode ?? 502, { 'content-type': up.headers['content-type'] ?? 'application/json' }).end(body);
        });
      });
      out.on('error', () => res.writeHead(502).end());
      req.pipe(out);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const pod = (image: string) => workload('Pod', 'web', { containers: [{ name: 'app', image }] });
const answer = (replica: ServeProcess, image: string) => replica.review('mutate', review('Pod', pod(image)));
/** The denial's message, or "admitted": a failed expectation then says why. */
const verdict = async (replica: ServeProcess, image: string) => {
  const a = await answer(replica, image);
  return a.allowed ? 'admitted' : (a.status?.message ?? 'denied');
};

async function startReplica(name: string): Promise<ServeProcess> {
  const config = path.join(dir, `${name}.yaml`);
  writeFileSync(config, `listen: "127.0.0.1:0"
tls: {certFile: ${stack.tls.cert}, keyFile: ${stack.tls.key}}
policies: {files: [${path.join(dir, 'policies.yaml')}]}
kubernetes: {kubeconfig: ${cp.kubeconfig}, policies: false, pullSecrets: false, events: false}
trustState: {store: kubernetes, namespace: trustgate}
cache: {maxTtlSeconds: 0, negativeTtlSeconds: 0}
defaultAction: deny
`);
  const replica = await ServeProcess.start(config, stack.tls.caCert);
  await replica.waitReady(30_000);
  return replica;
}

async function restartBoth(): Promise<void> {
  await Promise.all(replicas.map((r) => r.stop()));
  replicas = [await startReplica('a'), await startReplica('b')];
}

beforeAll(async () => {
  [cp, stack] = await Promise.all([ControlPlane.start(), TrustStack.start()]);
  dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-state-'));
  await cp.kubectlOk(['create', 'namespace', 'trustgate']);
  await cp.kubectlOk(['apply', '-f', path.resolve('charts/trustgate/crds/trustrecords.yaml')]);
  await cp.kubectlOk(['wait', '--for=condition=Established', 'crd/trustrecords.trustgate.dev', '--timeout=60s']);
  proxy = new ReplayingProxy();
  await proxy.start(stack.notaryUrl, stack.tls);
  writeFileSync(path.join(dir, 'policies.yaml'), `apiVersion: trustgate.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: tofu}
spec:
  images: ["${stack.registry}/**"]
  trust: {server: "${proxy.url}", caBundle: ${JSON.stringify(readFileSync(stack.tls.caCert, 'utf8'))}, trustOnFirstUse: true}
`);
  replicas = [await startReplica('a'), await startReplica('b')];
});

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  await proxy?.stop();
  await stack?.stop();
  await cp?.stop();
});

it('a root trusted on first use by one replica is enforced by the other, and after both restart', async () => {
  const gun = `${stack.registry}/team/app`;
  const image = await stack.pushImage('team/app', '1.0', 'trust-state: first publisher');
  await stack.init(gun);
  await stack.sign(gun, '1.0', image);
  const [a, b] = replicas as [ServeProcess, ServeProcess];
  expect(await verdict(a, `${gun}:1.0`)).toBe('admitted');
  const table = await cp.kubectlOk(['get', 'trustrecords', '-n', 'trustgate']);
  expect(table).toContain(gun);

  // The repository is deleted and initialised again with a new root, nothing signed by the old one.
  await stack.notaryOk(['delete', gun, '--remote']);
  await stack.init(gun);
  await stack.sign(gun, '1.0', image);
  // b never saw the repository: without the shared record it would trust the new root on first use.
  const refused = await answer(b, `${gun}:1.0`);
  expect(refused.allowed).toBe(false);
  expect(refused.status?.message).toMatch(/ROOT_KEY_MISMATCH/);
  expect(await answer(a, `${gun}:1.0`)).toMatchObject({ allowed: false });

  await restartBoth();
  for (const replica of replicas) {
    const again = await answer(replica, `${gun}:1.0`);
    expect(again.allowed).toBe(false);
    expect(again.status?.message).toMatch(/ROOT_KEY_MISMATCH/);
  }
});

it('a rollback one replica saw is refused by the other, and by both after both restart', async () => {
  const gun = `${stack.registry}/team/rollback`;
  const v1 = await stack.pushImage('team/rollback', '1.0', 'trust-state: rollback v1');
  await stack.init(gun);
  await stack.sign(gun, '1.0', v1);
  const [a, b] = replicas as [ServeProcess, ServeProcess];
  // Both see version 1 of the metadata (the proxy keeps it); then a alone sees version 2 after a
  // new signature. b holds the record already, so only the watch can tell it of version 2.
  expect(await verdict(a, `${gun}:1.0`)).toBe('admitted');
  expect(await verdict(b, `${gun}:1.0`)).toBe('admitted');
  const v2 = await stack.pushImage('team/rollback', '2.0', 'trust-state: rollback v2');
  await stack.sign(gun, '2.0', v2);
  expect(await verdict(a, `${gun}:2.0`)).toBe('admitted');
  const name = (await cp.kubectlOk(['get', 'trustrecords', '-n', 'trustgate', '-o', `jsonpath={.items[?(@.spec.gun=="${gun}")].metadata.name}`])).trim();
  const floor = async () => (JSON.parse(await cp.kubectlOk(['get', 'trustrecord', name, '-n', 'trustgate', '-o', 'jsonpath={.spec.versions}'])) as Record<string, number>).timestamp ?? 0;
  await eventually(floor, (timestamp) => timestamp >= 2, 'the newer timestamp version recorded');

  // The trust server now replays version 1, validly signed and unexpired, to b.
  proxy.replay = true;
  try {
    const refused = await answer(b, `${gun}:1.0`);
    expect(refused.allowed).toBe(false);
    expect(refused.status?.message).toMatch(/ROLLBACK/);
    // Neither restarted process remembers version 2 in memory: only the TrustRecord does.
    await restartBoth();
    for (const replica of replicas) {
      const again = await answer(replica, `${gun}:1.0`);
      expect(again.allowed).toBe(false);
      expect(again.status?.message).toMatch(/ROLLBACK/);
    }
  } finally {
    proxy.replay = false;
  }
});
