// The audit's API bill (docs/audit.md "Bounded load"): every request it makes takes a token of
// audit.apiRequestsPerSecond, pull-secret reads included, and the audit takes as many tokens as
// KubernetesSide.credentialReads() says credentials() will read. A tenant's ServiceAccount
// listing 64 imagePullSecrets (any tenant may edit its ServiceAccounts) made that count 2 while
// credentials() read the ServiceAccount and all 64 secrets: 65 API reads per pod per round for 2
// tokens, the rate limit outrun thirtyfold by pods that merely run. Counted on the real
// kube-apiserver, by its own request metrics.
import path from 'node:path';
import pino from 'pino';
import { startKubernetesSide, type KubernetesSide } from '../../cmd/cli/serve-kubernetes.js';
import { parseServeConfig } from '../../src/config/index.js';
import type { ReviewRequest } from '../../src/admission/index.js';
import { ControlPlane } from '../support/control-plane.js';

const SECRETS = 64;
let cp: ControlPlane;
let side: KubernetesSide;

/** GETs of `resource` kube-apiserver has answered (apiserver_request_total, every code). */
async function gets(resource: string): Promise<number> {
  const metrics = await cp.kubectlOk(['get', '--raw', '/metrics']);
  let n = 0;
  for (const line of metrics.split('\n')) {
    if (line.startsWith('apiserver_request_total{') && line.includes(`resource="${resource}"`) && line.includes('verb="GET"')) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}
const reads = async () => (await gets('secrets')) + (await gets('serviceaccounts'));

/** The review the audit builds for a running pod (cmd/cli/serve-audit.ts podReview). */
function podReview(name: string, serviceAccountName: string): ReviewRequest {
  const object = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'team-a', uid: `uid-${name}` }, spec: { containers: [{ name: 'app', image: 'registry.test/team/app:1' }], serviceAccountName } };
  return { uid: `audit-uid-${name}`, kind: { group: '', version: 'v1', kind: 'Pod' }, resource: 'pods', subResource: '', namespace: 'team-a', name, operation: 'CREATE', object, oldObject: undefined, dryRun: true };
}

beforeAll(async () => {
  cp = await ControlPlane.start();
  await cp.kubectlOk(['create', 'namespace', 'team-a']);
  const auth = Buffer.from(JSON.stringify({ auths: { 'registry.test': { auth: Buffer.from('u:p').toString('base64') } } })).toString('base64');
  const items: Record<string, unknown>[] = Array.from({ length: SECRETS }, (_, i) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `pull-${i}`, namespace: 'team-a' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': auth } }));
  items.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'many', namespace: 'team-a' }, imagePullSecrets: Array.from({ length: SECRETS }, (_, i) => ({ name: `pull-${i}` })) });
  await cp.kubectlOk(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  const config = parseServeConfig(`listen: "127.0.0.1:1"
tls: {certFile: x, keyFile: y}
policies: {files: [p.yaml]}
kubernetes: {kubeconfig: ${cp.kubeconfig}, policies: false, pullSecrets: true, events: false}
audit: {enabled: false}
`, path.join(cp.dir, 'config.yaml'));
  side = await startKubernetesSide(config.kubernetes!, pino({ level: 'silent' }), () => undefined);
}, 300_000);

afterAll(async () => {
  side?.stop();
  await cp?.stop();
});

it('a ServiceAccount listing 64 pull secrets: the audit takes a token for each of the 65 reads, not 2', async () => {
  const review = podReview('runs', 'many');
  // What the audit does for a pod (cmd/cli/serve-audit.ts): tokens for the reads to come, then the reads.
  let tokens = 0;
  const take = () => {
    tokens++;
    return Promise.resolve();
  };
  const before = await reads();
  await side.readServiceAccount(review, take);
  tokens += side.credentialReads(review);
  const credentials = await side.credentials(review, 10_000);
  const made = (await reads()) - before;
  expect('code' in credentials).toBe(false);
  expect(made).toBe(SECRETS + 1);
  expect(made).toBeLessThanOrEqual(tokens);
  // Cached now (30 s): the next pod of the same ServiceAccount reads nothing, and takes nothing.
  tokens = 0;
  const again = await reads();
  await side.readServiceAccount(podReview('twin', 'many'), take);
  tokens += side.credentialReads(podReview('twin', 'many'));
  await side.credentials(podReview('twin', 'many'), 10_000);
  expect((await reads()) - again).toBe(0);
  expect(tokens).toBe(0);
});
