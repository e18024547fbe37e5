// A tenant whose RBAC allows only pods and ImagePolicy objects in its own namespace, with the
// largest ImagePolicy objects the CRD admits (16 root pins, 8 signers x 8 key pins, 256
// patterns), must not stall trustgate for other namespaces — found by an independent attacker
// when the informers re-parsed every policy of the cluster, synchronously, on every event:
//   - `kubectl label imagepolicies --all` raises one MODIFIED event per object; an unchanged
//     generation must cost no parse (policy-churn.test.ts measures p99 under steady churn; this
//     is the burst of one command);
//   - at start, the first list raises one ADD per object; trustgate must be ready long before
//     the chart's liveness budget (periodSeconds 10 x failureThreshold 3), or it crash-loops and
//     every reviewed namespace is refused.
// The bounds are the webhook's timeout and the liveness budget, with a wide margin: these are
// assertions that the work is bounded, not benchmarks.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ControlPlane, type Tenant } from '../support/control-plane.js';
import { freePort, runOk } from '../support/processes.js';
import { ServeProcess } from '../support/serve-process.js';
import { makeTls, type TlsFiles } from '../support/tls.js';
import { review, workload } from '../support/reviews.js';

let cp: ControlPlane;
let serve: ServeProcess | undefined;
let tenant: Tenant;
let tls: TlsFiles;
let dir: string;
const NS = 'team-mallory';
const POLICIES = 12;
let config: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tg-policy-restart-'));
  [cp, tls] = await Promise.all([ControlPlane.start(), makeTls(dir)]);
  const port = await freePort();
  config = path.join(dir, 'trustgate.yaml');
  writeFileSync(config, `listen: "127.0.0.1:${port}"
tls: {certFile: ${tls.cert}, keyFile: ${tls.key}}
kubernetes: {kubeconfig: ${cp.kubeconfig}}
defaultAction: deny
`);
  const caPem = readFileSync(tls.caCert, 'utf8');
  await cp.installChart({ port, caPem, policies: [{ name: 'allow-all', spec: { images: ['**'], action: 'allow' } }] });
  serve = await ServeProcess.start(config, tls.caCert);
  await serve.waitReady(30_000);
  tenant = await cp.tenant(NS, 'mallory');
});

afterAll(async () => {
  await serve?.stop();
  await cp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The largest ImagePolicy the CRD schema admits: 16 root pins, 8 signers x 8 key pins, 256 patterns. */
async function bigPolicyYaml(name: string): Promise<string> {
  const key = path.join(dir, 'pin.key');
  const cert = path.join(dir, 'pin.crt');
  await runOk('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30', '-subj', '/CN=pin', '-keyout', key, '-out', cert]);
  const pem = readFileSync(cert, 'utf8').trim();
  const doc = {
    apiVersion: 'trustgate.dev/v1alpha1',
    kind: 'ImagePolicy',
    metadata: { name, namespace: NS },
    spec: {
      images: Array.from({ length: 256 }, (_, i) => `registry-${i}.example.com/team/app-${i}/**`),
      trust: {
        rootKeys: Array<string>(16).fill(pem),
        signers: Array.from({ length: 8 }, (_, i) => ({ role: `targets/r${i}`, keys: Array<string>(8).fill(pem) })),
      },
    },
  };
  return JSON.stringify(doc);
}

async function reviewLatency(): Promise<number> {
  const body = review('Pod', workload('Pod', 'probe', { containers: [{ name: 'c', image: 'registry.example.com/x:1' }] }), { namespace: 'other-team' });
  const started = performance.now();
  await serve!.review('validate', body);
  return performance.now() - started;
}

it('a tenant relabelling its own ImagePolicies does not stall reviews of other namespaces', async () => {
  for (let i = 0; i < POLICIES; i++) {
    const r = await tenant.kubectl(['create', '-f', '-'], await bigPolicyYaml(`big-${i}`));
    expect([r.code, r.stderr]).toEqual([0, '']);
  }
  // Let the status writes and their echoes settle.
  await new Promise((r) => setTimeout(r, 15_000));
  const baseline = await reviewLatency();
  console.log(`baseline review latency ${baseline.toFixed(0)} ms`);

  const latencies: number[] = [];
  let attacking = true;
  const prober = (async () => {
    while (attacking) {
      latencies.push(await reviewLatency());
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  for (let round = 0; round < 3; round++) {
    const r = await tenant.kubectl(['label', 'imagepolicies', '--all', `touch=${round}`, '--overwrite']);
    expect(r.code).toBe(0);
    await new Promise((r) => setTimeout(r, 1500));
  }
  await new Promise((r) => setTimeout(r, 5_000));
  attacking = false;
  await prober;
  const worst = Math.max(...latencies);
  console.log(`review latencies during the attack (ms): ${latencies.map((l) => l.toFixed(0)).join(' ')}`);
  expect(worst).toBeLessThan(1_000);
});

it('a restart with the tenant\'s ImagePolicies in place is ready promptly', async () => {
  expect(await serve!.stop()).not.toBeUndefined();
  const started = Date.now();
  let restarted: ServeProcess | undefined;
  try {
    restarted = await ServeProcess.start(config, tls.caCert);
    const serving = Date.now() - started;
    await restarted.waitReady(120_000);
    const ready = Date.now() - started;
    console.log(`restart with ${POLICIES} tenant ImagePolicies: serving after ${serving} ms, ready after ${ready} ms`);
    expect(ready).toBeLessThan(15_000);
  } catch (error) {
    console.log(`restart with ${POLICIES} tenant ImagePolicies: not serving after ${Date.now() - started} ms: ${String(error).slice(0, 300)}`);
    throw error;
  } finally {
    serve = restarted;
  }
});
