// Registry credentials the way the kubelet finds them, end to end: a Notary server that requires
// token auth, and pods that can be verified only with their imagePullSecrets (or their
// ServiceAccount's). trustgate reads the secrets in the pod's namespace and nowhere else.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ControlPlane } from '../support/control-plane.js';
import { freePort } from '../support/processes.js';
import { review, workload } from '../support/reviews.js';
import { ServeProcess } from '../support/serve-process.js';
import { TrustStack } from '../support/stack.js';
import { tokenAuthStack, TOKEN_USER, type TokenServer } from '../support/token-server.js';

const GUN = 'registry.test/private/app';
const DIGEST = `sha256:${'cd'.repeat(32)}`;
let cp: ControlPlane;
let stack: TrustStack;
let tokens: TokenServer;
let serve: ServeProcess;

const dockerConfig = (user: string, password: string) =>
  Buffer.from(JSON.stringify({ auths: { 'registry.test': { auth: Buffer.from(`${user}:${password}`).toString('base64') } } })).toString('base64');

beforeAll(async () => {
  let signed;
  [cp, signed] = await Promise.all([ControlPlane.start(), tokenAuthStack(GUN, DIGEST)]);
  ({ stack, tokens } = signed);

  const port = await freePort();
  const ca = readFileSync(stack.tls.caCert, 'utf8');
  const policies = [{ name: 'private', spec: { images: ['registry.test/**'], trust: { server: stack.notaryUrl, caBundle: ca, trustOnFirstUse: true } } }];
  await cp.installChart({ port, caPem: ca, policies });
  const config = path.join(stack.dir, 'trustgate.yaml');
  writeFileSync(config, `listen: "127.0.0.1:${port}"\ntls: {certFile: ${stack.tls.cert}, keyFile: ${stack.tls.key}}\nkubernetes: {kubeconfig: ${cp.kubeconfig}}\n`);
  serve = await ServeProcess.start(config, stack.tls.caCert);
  await serve.waitReady();
  for (const ns of ['team-a', 'team-b']) {
    await cp.kubectlOk(['create', 'namespace', ns]);
    await cp.kubectlOk(['label', 'namespace', ns, 'trustgate.dev/enforce=true']);
  }
  await cp.kubectlOk(['apply', '-f', '-'], `apiVersion: v1
kind: Secret
metadata: {name: regcred, namespace: team-a}
type: kubernetes.io/dockerconfigjson
data: {.dockerconfigjson: ${dockerConfig(TOKEN_USER.username, TOKEN_USER.password)}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: deployer, namespace: team-a}
imagePullSecrets: [{name: regcred}]
---
apiVersion: v1
kind: Secret
metadata: {name: wrongcred, namespace: team-a}
type: kubernetes.io/dockerconfigjson
data: {.dockerconfigjson: ${dockerConfig(TOKEN_USER.username, 'wrong')}}
`);
});

afterAll(async () => {
  await serve?.stop();
  await tokens?.close();
  await stack?.stop();
  await cp?.stop();
});

const pod = (ns: string, name: string, spec: Record<string, unknown>) =>
  cp.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns }, spec: { containers: [{ name: 'app', image: `${GUN}:1.0` }], ...spec } }));

describe('credentials from pull secrets', () => {
  it('without credentials the Notary server refuses, and so does trustgate (AUTH_FAILED)', async () => {
    const r = await pod('team-a', 'no-creds', {});
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/AUTH_FAILED/);
  });

  it('admits and pins with the pod\'s imagePullSecrets', async () => {
    const r = await pod('team-a', 'with-secret', { imagePullSecrets: [{ name: 'regcred' }] });
    expect(r.stderr).toBe('');
    expect(await cp.kubectlOk(['get', 'pod', 'with-secret', '-n', 'team-a', '-o', 'jsonpath={.spec.containers[0].image}'])).toBe(`${GUN}:1.0@${DIGEST}`);
  });

  it('falls back to the ServiceAccount\'s imagePullSecrets', async () => {
    expect((await pod('team-a', 'with-sa', { serviceAccountName: 'deployer' })).code).toBe(0);
  });

  it('refuses wrong credentials with AUTH_FAILED', async () => {
    expect((await pod('team-a', 'wrong', { imagePullSecrets: [{ name: 'wrongcred' }] })).stderr).toMatch(/AUTH_FAILED/);
  });

  it('never uses a secret from another namespace', async () => {
    const r = await pod('team-b', 'borrowed', { imagePullSecrets: [{ name: 'regcred' }] });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/AUTH_FAILED/);
  });

  it('a burst of pods reads their ServiceAccount and its secret once, not once per pod', async () => {
    await cp.kubectlOk(['apply', '-f', '-'], 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: burst, namespace: team-a}\nimagePullSecrets: [{name: regcred}]\n');
    const before = await apiReads();
    const body = (i: number) => review('Pod', workload('Pod', `burst-${i}`, { serviceAccountName: 'burst', containers: [{ name: 'app', image: `${GUN}:1.0` }] }), { namespace: 'team-a', uid: `burst-${i}` });
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => serve.request('POST', '/mutate', body(i))));
    for (const a of answers) expect(JSON.parse(a.body)).toMatchObject({ response: { allowed: true } });
    const after = await apiReads();
    // 40 pods before this change meant 40 ServiceAccount reads; other clients may read too.
    expect(after.serviceaccounts - before.serviceaccounts).toBeLessThanOrEqual(2);
    expect(after.secrets - before.secrets).toBeLessThanOrEqual(2);
  });
});

/** GETs of single ServiceAccounts and Secrets the API server has answered (its own metrics). */
async function apiReads(): Promise<{ serviceaccounts: number; secrets: number }> {
  const text = await cp.kubectlOk(['get', '--raw', '/metrics']);
  const count = (resource: string) =>
    text
      .split('\n')
      .filter((l) => l.startsWith('apiserver_request_total{') && l.includes(`resource="${resource}"`) && l.includes('verb="GET"') && l.includes('subresource=""'))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  return { serviceaccounts: count('serviceaccounts'), secrets: count('secrets') };
}
