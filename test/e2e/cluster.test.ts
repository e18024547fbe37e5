// trustgate on a real control plane: etcd, kube-apiserver and kube-controller-manager built
// from the Go module proxy, the chart installed with helm, Debian's notary-server and
// docker-registry, and trustgate serve on loopback (webhook.url). Everything is asserted through
// the API server, as kubectl sees it.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ControlPlane } from '../support/control-plane.js';
import { freePort } from '../support/processes.js';
import { ServeProcess } from '../support/serve-process.js';
import { TrustStack, type PushedImage } from '../support/stack.js';
import { eventually } from '../support/eventually.js';

let cp: ControlPlane;
let stack: TrustStack;
let serve: ServeProcess | undefined;
let port: number;
let gun: string;
let signed: PushedImage;
let configFile: string;

const clusterPolicies = () => [
  { name: 'signed-images', spec: { images: [`${stack.registry}/**`], trust: { server: stack.notaryUrl, caBundle: readFileSync(stack.tls.caCert, 'utf8'), trustOnFirstUse: true } } },
];

async function helmInstall(extra: string[] = []): Promise<void> {
  await cp.installChart({ port, caPem: readFileSync(stack.tls.caCert, 'utf8'), policies: clusterPolicies(), extra });
}

async function startTrustgate(): Promise<ServeProcess> {
  const s = await ServeProcess.start(configFile, stack.tls.caCert);
  await s.waitReady(); // once the policy informers have listed both kinds
  return s;
}

/** Creates a pod with kubectl; returns kubectl's result. */
const runPod = (ns: string, name: string, image: string, ...extra: string[]) => cp.kubectl(['run', name, `--image=${image}`, '-n', ns, '--restart=Never', ...extra]);
const podImage = (ns: string, name: string) => cp.kubectlOk(['get', 'pod', name, '-n', ns, '-o', 'jsonpath={.spec.containers[0].image}']);

beforeAll(async () => {
  [cp, stack] = await Promise.all([ControlPlane.start(), TrustStack.start()]);
  gun = `${stack.registry}/team/app`;
  signed = await stack.pushImage('team/app', '1.0', 'e2e: signed build');
  await stack.init(gun);
  await stack.sign(gun, '1.0', signed);
  await stack.pushImage('team/app', '1.0', 'e2e: unsigned rebuild pushed over the signed tag');
  await stack.pushImage('team/app', 'unsigned', 'e2e: never signed');
  port = await freePort();
  configFile = path.join(stack.dir, 'trustgate.yaml');
  writeFileSync(configFile, `listen: "127.0.0.1:${port}"
tls: {certFile: ${stack.tls.cert}, keyFile: ${stack.tls.key}}
kubernetes: {kubeconfig: ${cp.kubeconfig}}
defaultAction: deny
`);
  await helmInstall();
  serve = await startTrustgate();
  await cp.kubectlOk(['create', 'namespace', 'enforced']);
  await cp.kubectlOk(['label', 'namespace', 'enforced', 'trustgate.dev/enforce=true']);
  await cp.kubectlOk(['create', 'namespace', 'open']);
});

afterAll(async () => {
  await serve?.stop();
  await stack?.stop();
  await cp?.stop();
});

describe('readiness', () => {
  it('/readyz is 503 until the policy informers have listed, then 200', async () => {
    // A second trustgate against an API server without the CRDs' objects listed yet: point it
    // at a kubeconfig whose server refuses connections, so the informers cannot sync.
    const dead = path.join(stack.dir, 'dead-kubeconfig');
    writeFileSync(dead, readFileSync(cp.kubeconfig, 'utf8').replace(/server: "https:\/\/127\.0\.0\.1:\d+"/, `server: "https://127.0.0.1:${await freePort()}"`));
    const config = path.join(stack.dir, 'unready.yaml');
    writeFileSync(config, `listen: "127.0.0.1:0"\ntls: {certFile: ${stack.tls.cert}, keyFile: ${stack.tls.key}}\nkubernetes: {kubeconfig: ${dead}}\n`);
    const unready = await ServeProcess.start(config, stack.tls.caCert);
    try {
      const r = await unready.request('GET', '/readyz');
      expect(r.status).toBe(503);
      expect((await unready.request('GET', '/healthz')).status).toBe(200);
    } finally {
      await unready.stop();
    }
    expect((await serve!.request('GET', '/readyz')).status).toBe(200);
  });
});

describe('a cluster with trustgate', () => {
  it('reports the chart\'s policy as accepted in its status, with printer columns', async () => {
    const accepted = await eventually(() => cp.kubectlOk(['get', 'clusterimagepolicy', 'signed-images', '-o', 'jsonpath={.status.accepted}']), (v) => v === 'true', 'policy status');
    expect(accepted).toBe('true');
    const table = await cp.kubectlOk(['get', 'clusterimagepolicies,imagepolicies', '-A']);
    expect(table).toMatch(/NAME\s+ACTION\s+MODE\s+ACCEPTED\s+AGE/);
    expect(table).toMatch(/clusterimagepolicy.trustgate.dev\/signed-images\s+verify\s+enforce\s+true/);
  });

  it('admits a signed image in an opted-in namespace, pinned to the signed digest (not the registry\'s)', async () => {
    const r = await runPod('enforced', 'signed', `${gun}:1.0`);
    expect(r.stderr).toBe('');
    expect(await podImage('enforced', 'signed')).toBe(`${gun}:1.0@${signed.digest}`);
    const annotations = await cp.kubectlOk(['get', 'pod', 'signed', '-n', 'enforced', '-o', 'jsonpath={.metadata.annotations.trustgate\\.dev/original-images}']);
    expect(JSON.parse(annotations)).toEqual({ signed: `${gun}:1.0` });
  });

  it('records an ImagePinned event for the pinned pod', async () => {
    const events = await eventually(() => cp.kubectlOk(['get', 'events', '-n', 'enforced', '--field-selector', 'reason=ImagePinned,involvedObject.name=signed', '-o', 'jsonpath={.items[*].message}']), (v) => v.length > 0, 'ImagePinned event');
    expect(events).toBe(`pinned to signed digests: signed=${signed.digest}`);
  });

  it('denies an unsigned image with a message naming container, image and reason', async () => {
    const r = await runPod('enforced', 'unsigned', `${gun}:unsigned`);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/admission webhook "mutate.trustgate.dev" denied the request: container "unsigned" image ".*team\/app:unsigned": TAG_NOT_SIGNED/);
    expect((await cp.kubectl(['get', 'pod', 'unsigned', '-n', 'enforced'])).code).not.toBe(0);
  });

  it('records an ImageNotTrusted event for the denial', async () => {
    const events = await eventually(() => cp.kubectlOk(['get', 'events', '-A', '--field-selector', 'reason=ImageNotTrusted', '-o', 'jsonpath={.items[*].message}']), (v) => v.includes('TAG_NOT_SIGNED'), 'ImageNotTrusted event');
    expect(events).toMatch(/team\/app:unsigned/);
  });

  it('leaves the same pod untouched in a namespace without the label, and in kube-system', async () => {
    expect((await runPod('open', 'unsigned', `${gun}:unsigned`)).code).toBe(0);
    expect(await podImage('open', 'unsigned')).toBe(`${gun}:unsigned`);
    await cp.kubectlOk(['label', 'namespace', 'kube-system', 'trustgate.dev/enforce=true']);
    expect((await runPod('kube-system', 'unsigned', `${gun}:unsigned`)).code).toBe(0);
    expect(await podImage('kube-system', 'unsigned')).toBe(`${gun}:unsigned`);
  });

  it('refuses a Deployment with an unsigned image at create', async () => {
    const r = await cp.kubectl(['create', 'deployment', 'bad', `--image=${gun}:unsigned`, '-n', 'enforced']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/validate.trustgate.dev" denied the request: container "app" image ".*:unsigned": TAG_NOT_SIGNED/);
  });

  it('accepts a Deployment with a signed image, unchanged, and pins the pods it creates', async () => {
    await cp.kubectlOk(['create', 'deployment', 'good', `--image=${gun}:1.0`, '-n', 'enforced']);
    expect(await cp.kubectlOk(['get', 'deployment', 'good', '-n', 'enforced', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).toBe(`${gun}:1.0`);
    const images = await eventually(
      () => cp.kubectlOk(['get', 'pods', '-n', 'enforced', '-l', 'app=good', '-o', 'jsonpath={.items[*].spec.containers[0].image}']),
      (v) => v.length > 0,
      'pods of the Deployment',
    );
    expect(images).toBe(`${gun}:1.0@${signed.digest}`);
  });

  it('answers --dry-run=server without side effects', async () => {
    const r = await runPod('enforced', 'dry', `${gun}:1.0`, '--dry-run=server', '-o', 'jsonpath={.spec.containers[0].image}');
    expect(r.stdout).toBe(`${gun}:1.0@${signed.digest}`);
    expect((await cp.kubectl(['get', 'pod', 'dry', '-n', 'enforced'])).code).not.toBe(0);
    expect((await runPod('enforced', 'dry-bad', `${gun}:unsigned`, '--dry-run=server')).stderr).toMatch(/TAG_NOT_SIGNED/);
  });

  it('a namespace ImagePolicy cannot admit what the cluster policy denies', async () => {
    await cp.kubectlOk(['apply', '-f', '-'], `apiVersion: trustgate.dev/v1alpha1
kind: ImagePolicy
metadata: {name: lenient, namespace: enforced}
spec: {images: ["**"], action: allow}
`);
    await eventually(() => cp.kubectlOk(['get', 'imagepolicy', 'lenient', '-n', 'enforced', '-o', 'jsonpath={.status.accepted}']), (v) => v === 'true', 'ImagePolicy accepted');
    expect((await runPod('enforced', 'still-unsigned', `${gun}:unsigned`)).stderr).toMatch(/TAG_NOT_SIGNED/);
    await cp.kubectlOk(['delete', 'imagepolicy', 'lenient', '-n', 'enforced']);
  });

  it('refuses a malformed policy at kubectl apply (the CRD schema)', async () => {
    const r = await cp.kubectl(['apply', '-f', '-'], 'apiVersion: trustgate.dev/v1alpha1\nkind: ClusterImagePolicy\nmetadata: {name: broken}\nspec: {images: ["**"], mode: loud}\n');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/spec.mode: Unsupported value: "loud"/);
  });

  it('applies an edited ClusterImagePolicy without a restart, and warn mode shows a kubectl warning', async () => {
    await stack.pushImage('trial/tool', '0.1', 'e2e: trial tool');
    const image = `${stack.registry}/trial/tool:0.1`;
    expect((await runPod('enforced', 'trial-1', image)).code).not.toBe(0);
    await cp.kubectlOk(['apply', '-f', '-'], `apiVersion: trustgate.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: trial}
spec: {images: ["${stack.registry}/trial/**"], mode: warn, trust: {server: "${stack.notaryUrl}", caBundle: ${JSON.stringify(readFileSync(stack.tls.caCert, 'utf8'))}, trustOnFirstUse: true}}
`);
    const r = await eventually(() => runPod('enforced', `trial-${Date.now() % 100000}`, image), (v) => v.code === 0, 'warn policy in force');
    expect(r.stderr).toMatch(/Warning: trustgate: container .* would be denied: NO_TRUST_DATA \(ClusterImagePolicy "trial", mode warn\)/);
  });

  it('fails closed when trustgate is down: opted-in namespaces refuse pods, others keep working', async () => {
    await serve?.stop();
    serve = undefined;
    const r = await runPod('enforced', 'while-down', `${gun}:1.0`);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/failed calling webhook "mutate.trustgate.dev"/);
    expect((await runPod('open', 'while-down', `${gun}:unsigned`)).code).toBe(0);
    serve = await startTrustgate();
    expect((await runPod('enforced', 'after-restart', `${gun}:1.0`)).code).toBe(0);
  });

  it('reads registry credentials from pull secrets the way the kubelet does, in the pod\'s namespace only', async () => {
    const { PullSecretReader, loadKubeConfig } = await import('../../src/kube/index.js');
    const config = (host: string, user: string) => Buffer.from(JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:pw`).toString('base64') } } })).toString('base64');
    await cp.kubectlOk(['apply', '-f', '-'], `apiVersion: v1
kind: Secret
metadata: {name: regcred, namespace: enforced}
type: kubernetes.io/dockerconfigjson
data: {.dockerconfigjson: ${config('https://index.docker.io/v1/', 'pod-user')}}
---
apiVersion: v1
kind: Secret
metadata: {name: sa-cred, namespace: enforced}
type: kubernetes.io/dockercfg
data: {.dockercfg: ${Buffer.from(JSON.stringify({ 'registry.example.com:5000': { auth: Buffer.from('sa-user:pw').toString('base64') } })).toString('base64')}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: builder, namespace: enforced}
imagePullSecrets: [{name: sa-cred}]
---
apiVersion: v1
kind: Secret
metadata: {name: regcred, namespace: open}
type: kubernetes.io/dockerconfigjson
data: {.dockerconfigjson: ${config('docker.io', 'other-namespace')}}
`);
    const reader = new PullSecretReader(loadKubeConfig(cp.kubeconfig), undefined);
    const own = await reader.credentials({ namespace: 'enforced', serviceAccountName: undefined, imagePullSecrets: ['regcred'] }, 10_000);
    expect(own.namespace.get('docker.io')).toEqual({ username: 'pod-user', password: 'pw' });
    const viaServiceAccount = await reader.credentials({ namespace: 'enforced', serviceAccountName: 'builder', imagePullSecrets: [] }, 10_000);
    expect(viaServiceAccount.namespace.get('registry.example.com:5000')).toEqual({ username: 'sa-user', password: 'pw' });
    // Another namespace's secret of the same name is never used.
    const none = await reader.credentials({ namespace: 'team-x', serviceAccountName: undefined, imagePullSecrets: ['regcred'] }, 10_000);
    expect(none.namespace.size + none.cluster.size).toBe(0);
  });

  it('helm upgrade keeps the webhooks working and the generated certificate; helm uninstall leaves no webhook behind', async () => {
    const certBefore = await cp.kubectlOk(['get', 'secret', 'trustgate-tls', '-n', 'trustgate', '-o', 'jsonpath={.data.tls\\.crt}']);
    await helmInstall(['--set', 'webhook.timeoutSeconds=15']);
    expect(await cp.kubectlOk(['get', 'secret', 'trustgate-tls', '-n', 'trustgate', '-o', 'jsonpath={.data.tls\\.crt}'])).toBe(certBefore);
    expect(certBefore.length).toBeGreaterThan(100);
    expect(await cp.kubectlOk(['get', 'validatingwebhookconfiguration', 'trustgate', '-o', 'jsonpath={.webhooks[0].timeoutSeconds}'])).toBe('15');
    expect((await runPod('enforced', 'after-upgrade', `${gun}:unsigned`)).code).not.toBe(0);
    const un = await cp.helm(['uninstall', 'trustgate', '--namespace', 'trustgate']);
    expect(un.code).toBe(0);
    expect(await cp.kubectlOk(['get', 'mutatingwebhookconfigurations,validatingwebhookconfigurations', '-o', 'name'])).not.toMatch(/trustgate/);
    expect((await runPod('enforced', 'after-uninstall', `${gun}:unsigned`)).code).toBe(0);
  });

  it('scope=clusterWide reviews every namespace except those labelled trustgate.dev/enforce=false', async () => {
    await helmInstall(['--set', 'scope=clusterWide']);
    await cp.kubectlOk(['create', 'namespace', 'wide']);
    const denied = await eventually(() => runPod('wide', `w-${Date.now() % 100000}`, `${gun}:unsigned`), (r) => r.code !== 0, 'cluster-wide review');
    expect(denied.stderr).toMatch(/TAG_NOT_SIGNED/);
    await cp.kubectlOk(['label', 'namespace', 'wide', 'trustgate.dev/enforce=false']);
    expect((await runPod('wide', 'opted-out', `${gun}:unsigned`)).code).toBe(0);
    // kube-system stays excluded whatever its labels say.
    expect((await runPod('kube-system', 'wide-ks', `${gun}:unsigned`)).code).toBe(0);
  });

  it('break-glass: failurePolicy=Ignore admits while trustgate is down', async () => {
    await serve?.stop();
    serve = undefined;
    expect((await runPod('enforced', 'down-fail', `${gun}:1.0`)).stderr).toMatch(/failed calling webhook/);
    await helmInstall(['--set', 'scope=clusterWide', '--set', 'webhook.failurePolicy=Ignore']);
    expect((await runPod('enforced', 'down-ignore', `${gun}:unsigned`)).code).toBe(0);
  });
});
