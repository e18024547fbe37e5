// Issue 9, item 9: a pod listing thousands of imagePullSecrets made trustgate read each one from
// the API server, one after the other, outside the review deadline (3,000 → 24 s, far past the
// webhook's timeout). The real `trustgate serve` reviews pods whose pull secrets are read from a
// stand-in API server that answers late (the real one cannot be slowed on demand); the answer
// must come within the deadline, with a clear code, after a bounded number of reads.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadKubeConfig, PullSecretReader } from '../../src/kube/index.js';
import { CredentialRecorder } from '../support/credential-recorder.js';
import { freePort } from '../support/processes.js';
import { review, workload } from '../support/reviews.js';
import { ServeProcess } from '../support/serve-process.js';
import { SlowApiServer } from '../support/slow-api-server.js';
import { makeTls } from '../support/tls.js';

const REG = 'registry.example.com';
const DEADLINE_MS = 3000;
let api: SlowApiServer;
let trustServer: CredentialRecorder;
let serve: ServeProcess;
let kubeconfig: string;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-pull-secrets-'));
  const tls = await makeTls(dir);
  api = new SlowApiServer(tls, REG);
  kubeconfig = await api.listen(dir);
  // The cluster's trust server: asks for credentials, then has no trust data for anything.
  trustServer = new CredentialRecorder(tls);
  const trustPort = await trustServer.listen();
  const ca = readFileSync(tls.caCert, 'utf8');
  writeFileSync(path.join(dir, 'policies.yaml'), JSON.stringify({
    apiVersion: 'trustgate.dev/v1alpha1',
    kind: 'ClusterImagePolicy',
    metadata: { name: 'verify' },
    spec: { images: [`${REG}/**`], action: 'verify', trust: { server: `https://127.0.0.1:${trustPort}`, caBundle: ca, trustOnFirstUse: true } },
  }));
  const config = path.join(dir, 'config.yaml');
  writeFileSync(config, JSON.stringify({
    listen: `127.0.0.1:${await freePort()}`,
    tls: { certFile: tls.cert, keyFile: tls.key },
    policies: { files: ['policies.yaml'] },
    kubernetes: { kubeconfig, policies: false, pullSecrets: true, events: false },
    // The stand-in API server serves secrets and ServiceAccounts only, and counts every request
    // in flight: the audit's Lease and lists (docs/audit.md) would count beside the reads.
    audit: { enabled: false },
    deadlineSeconds: DEADLINE_MS / 1000,
    logLevel: 'info',
  }));
  serve = await ServeProcess.start(config, tls.caCert);
});

afterAll(async () => {
  await serve?.stop();
  await api?.close();
  await trustServer?.close();
});

/** Reviews a team-a pod listing `count` pull secrets named `<prefix>-<i>`; the answer and how long it took. */
async function admit(prefix: string, count: number) {
  const imagePullSecrets = Array.from({ length: count }, (_, i) => ({ name: `${prefix}-${i}` }));
  const started = performance.now();
  const answer = await serve.review('mutate', review('Pod', workload('Pod', prefix, { containers: [{ name: 'app', image: `${REG}/team/app:1.0` }], imagePullSecrets })));
  return { answer, ms: performance.now() - started };
}

describe('pull secrets of the pod under review', () => {
  it('3,000 imagePullSecrets: denied at once with TOO_MANY_PULL_SECRETS, and not one of them read', async () => {
    api.delayMs = 10;
    const { answer, ms } = await admit('flood', 3000);
    expect(answer.allowed).toBe(false);
    expect(answer.status?.message).toMatch(/TOO_MANY_PULL_SECRETS: the pod lists 3000 imagePullSecrets; at most 64 are read/);
    expect(api.secretReads('flood')).toBe(0);
    expect(ms).toBeLessThan(DEADLINE_MS);
  });

  it('are read in parallel, a few at a time, and the pod\'s credentials reach the cluster\'s trust server', async () => {
    api.delayMs = 400;
    api.maxInFlight = 0;
    const { answer, ms } = await admit('few', 12);
    // 12 reads of 400 ms one after the other take 4.8 s; 8 at a time, two rounds (0.8 s).
    expect(ms).toBeLessThan(2500);
    expect(api.secretReads('few')).toBe(12);
    expect(api.maxInFlight).toBeGreaterThan(1);
    expect(api.maxInFlight).toBeLessThanOrEqual(8);
    // The last secret naming the registry wins, as before; the trust server has nothing signed.
    expect(trustServer.credentials()).toContain('Basic few-11:pw');
    expect(answer.status?.message).toMatch(/NO_TRUST_DATA/);
  });

  it('a slow API server: the review is denied with TIMEOUT within its deadline, and reading stops', async () => {
    api.delayMs = 1000;
    api.maxInFlight = 0;
    const { answer, ms } = await admit('slow', 64);
    expect(answer.allowed).toBe(false);
    expect(answer.status?.message).toMatch(/TIMEOUT: the pull secrets of namespace team-a were not read from the API server within 3000 ms/);
    expect(ms).toBeLessThan(DEADLINE_MS + 1000);
    expect(api.maxInFlight).toBeLessThanOrEqual(8);
    // Reads not started by the deadline are never started: 8 at a time for 3 s (three or four
    // rounds of 1 s), not all 64.
    await new Promise((r) => setTimeout(r, 1500));
    expect(api.secretReads('slow')).toBeLessThanOrEqual(32);
  });

  it('with kubernetes.pullSecretNamespaces, a pod elsewhere has none read (trustgate may not read them there)', async () => {
    api.delayMs = 0;
    const reader = new PullSecretReader(loadKubeConfig(kubeconfig), undefined, ['team-b']);
    const elsewhere = await reader.credentials({ namespace: 'team-a', serviceAccountName: undefined, imagePullSecrets: ['listed-0'] }, 1000);
    expect(elsewhere.namespace.size).toBe(0);
    expect(api.secretReads('listed')).toBe(0);
    const listed = await reader.credentials({ namespace: 'team-b', serviceAccountName: undefined, imagePullSecrets: ['listed-1'] }, 1000);
    expect(listed.namespace.get(REG)).toEqual({ username: 'listed-1', password: 'pw' });
  });
});
