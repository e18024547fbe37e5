// Finding 11: anyone who can reach trustgate's Service could post an AdmissionReview of their
// own and make trustgate write Events (a forged review named kube-system and got a Warning Event
// there). Two defences, each tested on the real control plane:
//   (a) tls.clientCAFile: /mutate and /validate answer only clients with a certificate from that
//       CA (and, with tls.clientNames, one of those names). kube-apiserver presents one through
//       its AdmissionConfiguration (WebhookAdmissionConfiguration.kubeConfigFile), as here.
//   (b) Events are written only into namespaces the webhooks review (kubernetes.scope), read
//       from the namespace's labels: a forged review for any other namespace writes nothing.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { ControlPlane } from '../support/control-plane.js';
import { freePort } from '../support/processes.js';
import { review, workload } from '../support/reviews.js';
import { ServeProcess } from '../support/serve-process.js';
import { TrustStack } from '../support/stack.js';
import { issueClientCert, makeTls, type TlsFiles } from '../support/tls.js';
import { eventually } from '../support/eventually.js';

let cp: ControlPlane;
let stack: TrustStack;
/** Requires kube-apiserver's client certificate; the chart's webhooks point at it. */
let guarded: ServeProcess | undefined;
/** No client CA configured (the default): anyone who reaches it may post. */
let open: ServeProcess | undefined;
let clientCa: TlsFiles;
let apiserverClient: { cert: string; key: string };
let otherName: { cert: string; key: string };
let strangerCert: { cert: string; key: string };
let strangerCa: TlsFiles;
let image: string;
let chartConfig: ChartConfig;

interface ChartConfig {
  listen: string;
  metrics?: { listen: string };
  tls: { certFile: string; keyFile: string; clientCAFile?: string; clientNames?: string[] };
  kubernetes: { kubeconfig?: string; namespaces?: unknown };
}

const forged = (namespace: string, uid: string, name: string) =>
  review('Pod', workload('Pod', name, { containers: [{ name: 'app', image }] }, { namespace }), { namespace, uid });

const eventsOf = (namespace: string, name: string) =>
  cp.kubectlOk(['get', 'events', '-n', namespace, '--field-selector', `involvedObject.name=${name}`, '-o', 'jsonpath={.items[*].message}']);

beforeAll(async () => {
  stack = await TrustStack.start();
  const pki = path.join(stack.dir, 'webhook-clients');
  mkdirSync(pki);
  // The CA trustgate trusts for its callers, kube-apiserver's certificate from it, another
  // name from the same CA, and a stranger's certificate from a CA of its own.
  clientCa = await makeTls(pki, 'unused');
  apiserverClient = await issueClientCert(pki, clientCa, 'apiserver-webhook-client', 'kube-apiserver-webhook-client');
  otherName = await issueClientCert(pki, clientCa, 'other', 'someone-else');
  const strangerDir = path.join(stack.dir, 'stranger');
  mkdirSync(strangerDir);
  strangerCa = await makeTls(strangerDir, 'unused');
  strangerCert = await issueClientCert(strangerDir, strangerCa, 'stranger', 'kube-apiserver-webhook-client');

  const port = await freePort();
  // kube-apiserver picks the kubeconfig user named after the webhook's host:port
  // (k8s.io/apiserver util/webhook/authentication.go); in a cluster: <service>.<namespace>.svc.
  const webhookKubeconfig = path.join(stack.dir, 'webhook-kubeconfig.yaml');
  writeFileSync(webhookKubeconfig, `apiVersion: v1
kind: Config
users:
  - name: "127.0.0.1:${port}"
    user: {client-certificate: ${apiserverClient.cert}, client-key: ${apiserverClient.key}}
`);
  const plugin = (name: string) => `  - name: ${name}
    configuration:
      apiVersion: apiserver.config.k8s.io/v1
      kind: WebhookAdmissionConfiguration
      kubeConfigFile: ${webhookKubeconfig}
`;
  cp = await ControlPlane.start({
    admissionConfiguration: `apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
${plugin('ValidatingAdmissionWebhook')}${plugin('MutatingAdmissionWebhook')}`,
  });

  await stack.pushImage('team/app', 'unsigned', 'forged: never signed');
  image = `${stack.registry}/team/app:unsigned`;
  // As docs/operations.md says: the CA in a ConfigMap, the chart told to use it.
  await cp.kubectlOk(['create', 'namespace', 'trustgate']);
  await cp.kubectlOk(['-n', 'trustgate', 'create', 'configmap', 'trustgate-client-ca', `--from-file=ca.crt=${clientCa.caCert}`]);
  const caPem = readFileSync(stack.tls.caCert, 'utf8');
  await cp.installChart({
    port,
    caPem,
    policies: [{ name: 'signed', spec: { images: [`${stack.registry}/**`], trust: { server: stack.notaryUrl, caBundle: caPem, trustOnFirstUse: true } } }],
    extra: ['--set', 'webhook.clientAuth.caConfigMap=trustgate-client-ca', '--set', 'webhook.clientAuth.clientNames={kube-apiserver-webhook-client}'],
  });
  // trustgate runs on loopback with the config the chart rendered, its in-pod paths swapped
  // for this machine's files: what is tested is what the chart wires.
  const rendered = parseYaml(await cp.kubectlOk(['get', 'configmap', 'trustgate', '-n', 'trustgate', '-o', 'jsonpath={.data.config\\.yaml}'])) as ChartConfig;
  chartConfig = structuredClone(rendered);
  const local = (listen: string, client: boolean) => {
    const c = structuredClone(rendered);
    c.listen = listen;
    c.metrics = { listen: '127.0.0.1:0' };
    const { clientNames, ...tls } = c.tls;
    c.tls = client ? { ...tls, certFile: stack.tls.cert, keyFile: stack.tls.key, clientCAFile: clientCa.caCert, ...(clientNames && { clientNames }) } : { certFile: stack.tls.cert, keyFile: stack.tls.key };
    c.kubernetes = { ...c.kubernetes, kubeconfig: cp.kubeconfig };
    return stringify(c);
  };
  const guardedConfig = path.join(stack.dir, 'guarded.yaml');
  writeFileSync(guardedConfig, local(`127.0.0.1:${port}`, true));
  // The same chart without webhook.clientAuth: anyone who reaches it may post.
  const openConfig = path.join(stack.dir, 'open.yaml');
  writeFileSync(openConfig, local('127.0.0.1:0', false));
  [guarded, open] = await Promise.all([ServeProcess.start(guardedConfig, stack.tls.caCert), ServeProcess.start(openConfig, stack.tls.caCert)]);
  await Promise.all([guarded.waitReady(), open.waitReady()]);
  await cp.kubectlOk(['create', 'namespace', 'enforced']);
  await cp.kubectlOk(['label', 'namespace', 'enforced', 'trustgate.dev/enforce=true']);
  await cp.kubectlOk(['create', 'namespace', 'unreviewed']);
  await eventually(() => cp.kubectlOk(['get', 'clusterimagepolicy', 'signed', '-o', 'jsonpath={.status.accepted}']), (v) => v === 'true', 'policy accepted');
});

afterAll(async () => {
  await guarded?.stop();
  await open?.stop();
  await stack?.stop();
  await cp?.stop();
});

describe('tls.clientCAFile: only the API server may ask for a review', () => {
  it('the chart wires webhook.clientAuth: the CA mounted, the config pointing at it', async () => {
    expect(chartConfig.tls).toMatchObject({ clientCAFile: '/etc/trustgate/client-ca/ca.crt', clientNames: ['kube-apiserver-webhook-client'] });
    const deployment = JSON.parse(await cp.kubectlOk(['get', 'deployment', 'trustgate', '-n', 'trustgate', '-o', 'json'])) as {
      spec: { template: { spec: { volumes: { name: string; configMap?: { name: string } }[]; containers: { volumeMounts: { name: string; mountPath: string }[] }[] } } };
    };
    const pod = deployment.spec.template.spec;
    expect(pod.volumes).toContainEqual(expect.objectContaining({ name: 'client-ca', configMap: expect.objectContaining({ name: 'trustgate-client-ca' }) as unknown }));
    expect(pod.containers[0]?.volumeMounts).toContainEqual(expect.objectContaining({ name: 'client-ca', mountPath: '/etc/trustgate/client-ca' }));
  });

  it('kube-apiserver, presenting its client certificate, gets trustgate\'s answer', async () => {
    const r = await cp.kubectl(['run', 'real', `--image=${image}`, '-n', 'enforced', '--restart=Never']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/admission webhook "mutate.trustgate.dev" denied the request: container "real" image ".*team\/app:unsigned": NO_TRUST_DATA/);
    expect(await eventually(() => eventsOf('enforced', 'real'), (v) => v.length > 0, 'ImageNotTrusted event')).toMatch(/^deny: .*NO_TRUST_DATA/);
  });

  it('refuses a forged review without a client certificate: no decision, no Event', async () => {
    const from = guarded!.lines.length;
    for (const endpoint of ['/mutate', '/validate']) {
      const r = await guarded!.request('POST', endpoint, forged('enforced', `forged-bare${endpoint.replace('/', '-')}`, 'forged-bare'));
      expect(r.status).toBe(401);
      expect(JSON.parse(r.body)).toEqual({ error: expect.stringMatching(/^CLIENT_CERT_REQUIRED: /) as unknown });
    }
    // …nor with a certificate from another CA, nor from the right CA under another name.
    const stranger = await guarded!.request('POST', '/validate', forged('enforced', 'forged-stranger', 'forged-stranger'), strangerCert);
    expect(stranger.status).toBe(401);
    const other = await guarded!.request('POST', '/validate', forged('enforced', 'forged-other', 'forged-other'), otherName);
    expect(other.status).toBe(403);
    expect(JSON.parse(other.body)).toEqual({ error: expect.stringMatching(/^CLIENT_NOT_ALLOWED: .*someone-else/) as unknown });
    // The API server's own certificate gets an answer (a control for the refusals above), and
    // its Event, written after any the forged ones could have queued, is the only one.
    const real = await guarded!.request('POST', '/validate', forged('enforced', 'with-cert', 'with-cert'), apiserverClient);
    expect(real.status).toBe(200);
    expect(JSON.parse(real.body)).toMatchObject({ response: { uid: 'with-cert', allowed: false } });
    await eventually(() => eventsOf('enforced', 'with-cert'), (v) => v.length > 0, 'the control\'s Event');
    for (const name of ['forged-bare', 'forged-stranger', 'forged-other']) expect(await eventsOf('enforced', name)).toBe('');
    // (The API server's own reviews may be logged meanwhile: look only at the uids sent here.)
    const decided = guarded!.lines.slice(from).filter((l) => l.includes('"admission decision"')).map((l) => (JSON.parse(l) as { uid: string }).uid);
    expect(decided.filter((uid) => uid.startsWith('forged-') || uid === 'with-cert')).toEqual(['with-cert']);
  });

  it('keeps /healthz and /readyz open to the kubelet\'s probes, which present no certificate', async () => {
    expect((await guarded!.request('GET', '/healthz')).status).toBe(200);
    expect((await guarded!.request('GET', '/readyz')).status).toBe(200);
    expect((await guarded!.request('GET', '/metrics')).status).toBe(401);
  });

  it('a replaced client CA applies without a restart (a ConfigMap update reaching the pod)', async () => {
    const mark = guarded!.lines.length;
    copyFileSync(strangerCa.caCert, clientCa.caCert);
    await guarded!.waitForLog(/TLS certificate reloaded/, 20_000, mark);
    expect((await guarded!.request('POST', '/validate', forged('enforced', 'forged-old-ca', 'forged-old-ca'), apiserverClient)).status).toBe(401);
    expect((await guarded!.request('POST', '/validate', forged('enforced', 'new-ca', 'new-ca'), strangerCert)).status).toBe(200);
  });
});

describe('Events only where the webhooks review', () => {
  it('the chart tells trustgate which namespaces its webhooks review', () => {
    expect(chartConfig.kubernetes.namespaces).toEqual({ scope: 'optIn', excluded: ['trustgate', 'kube-system'] });
  });

  it('a forged review naming kube-system, or a namespace not opted in, is answered but writes no Event there', async () => {
    await cp.kubectlOk(['label', 'namespace', 'kube-system', 'trustgate.dev/enforce=true']); // kube-system is never reviewed, labels or not
    for (const [namespace, name] of [['kube-system', 'forged-ks'], ['unreviewed', 'forged-unreviewed'], ['no-such-namespace', 'forged-missing']] as const) {
      const answer = await open!.review('validate', forged(namespace, name, name));
      expect(answer).toMatchObject({ uid: name, allowed: false });
      expect(answer.status?.message).toMatch(/NO_TRUST_DATA/);
    }
    // Control, sent last: a review for a reviewed namespace still gets its Event, so by the
    // time it shows, the forged ones have been through the same queue.
    await open!.review('validate', forged('enforced', 'forged-control', 'forged-control'));
    await eventually(() => eventsOf('enforced', 'forged-control'), (v) => v.length > 0, 'the control\'s Event');
    expect(await eventsOf('kube-system', 'forged-ks')).toBe('');
    expect(await eventsOf('unreviewed', 'forged-unreviewed')).toBe('');
    expect(await cp.kubectlOk(['get', 'events', '-A', '--field-selector', 'source=trustgate', '-o', 'jsonpath={.items[*].metadata.namespace}'])).not.toMatch(/kube-system|unreviewed/);
  });
});
