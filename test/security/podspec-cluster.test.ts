// The pod-spec bypasses on the real control plane (one for the file): kube-apiserver 1.37 with
// the chart installed, trustgate serve on loopback, Debian's notary-server and docker-registry,
// and a tenant allowed only pods and ImagePolicy objects in its namespace. Asserted through the
// API server: what was refused, and what the stored pod runs.
//   - image volumes are verified and pinned (in-process: image-volumes.test.ts)
//   - a failing audit ImagePolicy does not cancel the cluster's pin, and a later mutating
//     webhook that strips the digest meets NOT_PINNED (in-process: pin-not-cancelled.test.ts)
//   - an UPDATE of a pod being deleted is reviewed (in-process: update-of-deleted-objects.test.ts)
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { ControlPlane, type Tenant } from '../support/control-plane.js';
import { freePort } from '../support/processes.js';
import { ServeProcess } from '../support/serve-process.js';
import { TrustStack, type PushedImage } from '../support/stack.js';
import { eventually } from '../support/eventually.js';

let cp: ControlPlane;
let stack: TrustStack;
let serve: ServeProcess | undefined;
let tenant: Tenant;
let stripper: https.Server | undefined;
let app: string;
let data: string;
let signedApp: PushedImage;
let signedData: PushedImage;
const NS = 'team-a';

beforeAll(async () => {
  [cp, stack] = await Promise.all([ControlPlane.start(), TrustStack.start()]);
  app = `${stack.registry}/team/app`;
  data = `${stack.registry}/team/data`;
  signedApp = await stack.pushImage('team/app', '1.0', 'podspec: signed app');
  signedData = await stack.pushImage('team/data', '1', 'podspec: signed plugin data');
  for (const [gun, tag, image] of [[app, '1.0', signedApp], [data, '1', signedData]] as const) {
    await stack.init(gun);
    await stack.sign(gun, tag, image);
  }
  // What a pod left on its tag would run: unsigned content pushed over the signed tag.
  await stack.pushImage('team/app', '1.0', 'podspec: unsigned rebuild pushed over the signed tag');
  await stack.pushImage('team/payload', 'unsigned', 'podspec: never signed');
  const port = await freePort();
  const config = path.join(stack.dir, 'trustgate.yaml');
  writeFileSync(config, `listen: "127.0.0.1:${port}"
tls: {certFile: ${stack.tls.cert}, keyFile: ${stack.tls.key}}
kubernetes: {kubeconfig: ${cp.kubeconfig}}
defaultAction: deny
`);
  const caPem = readFileSync(stack.tls.caCert, 'utf8');
  await cp.installChart({ port, caPem, policies: [{ name: 'signed-images', spec: { images: [`${stack.registry}/**`], trust: { server: stack.notaryUrl, caBundle: caPem, trustOnFirstUse: true } } }] });
  serve = await ServeProcess.start(config, stack.tls.caCert);
  await serve.waitReady();
  tenant = await cp.tenant(NS, 'alice');
  await cp.kubectlOk(['label', 'namespace', NS, 'trustgate.dev/enforce=true']);
});

afterAll(async () => {
  await new Promise((resolve) => (stripper ? stripper.close(resolve) : resolve(undefined)));
  await serve?.stop();
  await stack?.stop();
  await cp?.stop();
});

function podYaml(name: string, options: { image?: string; volumeImage?: string; finalizers?: boolean } = {}): string {
  const volume = options.volumeImage === undefined ? '' : `
  volumes: [{name: plugins, image: {reference: "${options.volumeImage}", pullPolicy: IfNotPresent}}]`;
  const mount = options.volumeImage === undefined ? '' : ', volumeMounts: [{name: plugins, mountPath: /plugins}]';
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}${options.finalizers ? ', finalizers: [example.com/hold]' : ''}}
spec:
  containers: [{name: app, image: "${options.image ?? `${app}:1.0`}"${mount}}]${volume}
`;
}

const get = (name: string, jsonpath: string) => cp.kubectlOk(['get', 'pod', name, '-n', NS, '-o', `jsonpath=${jsonpath}`]);
const exists = async (name: string) => (await cp.kubectl(['get', 'pod', name, '-n', NS])).code === 0;

describe('image volumes, as a tenant', () => {
  it('refuses an unsigned image volume beside a signed container, naming the volume', async () => {
    const r = await tenant.kubectl(['create', '-f', '-'], podYaml('unsigned-volume', { volumeImage: `${stack.registry}/team/payload:unsigned` }));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/denied the request: volume "plugins" image ".*team\/payload:unsigned": NO_TRUST_DATA/);
    expect(await exists('unsigned-volume')).toBe(false);
  });

  it('admits a signed image volume and stores it pinned to the signed digest', async () => {
    const r = await tenant.kubectl(['create', '-f', '-'], podYaml('signed-volume', { volumeImage: `${data}:1` }));
    expect(r.stderr).toBe('');
    expect(await get('signed-volume', '{.spec.volumes[0].image.reference}')).toBe(`${data}:1@${signedData.digest}`);
    expect(await get('signed-volume', '{.spec.containers[0].image}')).toBe(`${app}:1.0@${signedApp.digest}`);
    expect(JSON.parse(await get('signed-volume', '{.metadata.annotations.trustgate\\.dev/original-images}'))).toEqual({ app: `${app}:1.0`, 'volume:plugins': `${data}:1` });
  });
});

describe('an enforcing pin holds', () => {
  it('a tenant\'s failing audit-mode ImagePolicy leaves the pod pinned to the cluster-verified digest', async () => {
    const r = await tenant.kubectl(['apply', '-f', '-'], `apiVersion: trustgate.dev/v1alpha1
kind: ImagePolicy
metadata: {name: audit-pinned-root}
spec: {images: ["${stack.registry}/team/**"], mode: audit, trust: {rootKeys: ["${'a'.repeat(64)}"]}}
`);
    expect(r.stderr).toBe('');
    await eventually(() => tenant.kubectl(['get', 'imagepolicy', 'audit-pinned-root', '-o', 'jsonpath={.status.accepted}']), (v) => v.stdout === 'true', 'ImagePolicy accepted');
    // trustgate writes .status after taking the policy in: it is in force now.
    expect((await tenant.kubectl(['create', '-f', '-'], podYaml('audited'))).code).toBe(0);
    await serve!.waitForLog(/"endpoint":"mutate","namespace":"team-a","kind":"Pod","name":"audited".*"decision":"audit"/);
    // The audit finding did not cancel the pin: the pod runs the signed build, not what the
    // registry now serves for the tag.
    expect(await get('audited', '{.spec.containers[0].image}')).toBe(`${app}:1.0@${signedApp.digest}`);
    await tenant.kubectl(['delete', 'imagepolicy', 'audit-pinned-root']);
  });

  it('an UPDATE that strips the digest is pinned again (the image change is reviewed)', async () => {
    await tenant.kubectl(['create', '-f', '-'], podYaml('updated'));
    expect(await get('updated', '{.spec.containers[0].image}')).toBe(`${app}:1.0@${signedApp.digest}`);
    const r = await tenant.kubectl(['patch', 'pod', 'updated', '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/containers/0/image', value: `${app}:1.0` }])]);
    expect(r.code).toBe(0);
    expect(await get('updated', '{.spec.containers[0].image}')).toBe(`${app}:1.0@${signedApp.digest}`);
  });

  it('a later mutating webhook that strips the digest (even when reinvoked) is refused by /validate: NOT_PINNED', async () => {
    const port = await startStripper();
    await cp.kubectlOk(['apply', '-f', '-'], `apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: zz-strip-digests}
webhooks:
  - name: strip.attacker.test
    admissionReviewVersions: [v1]
    sideEffects: None
    failurePolicy: Fail
    reinvocationPolicy: IfNeeded
    timeoutSeconds: 5
    clientConfig: {url: "https://127.0.0.1:${port}/strip", caBundle: ${readFileSync(stack.tls.caCert).toString('base64')}}
    namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ${NS}}}
    rules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [pods], scope: Namespaced}]
`);
    try {
      // The API server takes a new webhook configuration in within moments: retry until it has.
      const r = await eventually(() => tenant.kubectl(['create', '-f', '-'], podYaml(`stripped-${Date.now() % 100000}`)), (v) => v.code !== 0, 'stripping webhook in force');
      expect(r.stderr).toMatch(new RegExp(`admission webhook "validate.trustgate.dev" denied the request: container "app" image "${app.replace(/\./g, '\\.')}:1.0": NOT_PINNED: .*${signedApp.digest}`));
      // The API server called the stripper again after trustgate pinned again: the stripper had
      // the last word, and only /validate stood between it and a pod running by tag.
      expect(Math.max(...strippedCalls.values())).toBe(2);
      const volume = await tenant.kubectl(['create', '-f', '-'], podYaml('stripped-volume', { image: `${app}:1.0@${signedApp.digest}`, volumeImage: `${data}:1` }));
      expect(volume.stderr).toMatch(/validate.trustgate.dev" denied the request: /);
      expect(volume.stderr).toMatch(/^volume "plugins" image ".*team\/data:1": NOT_PINNED: it must arrive pinned as .*team\/data:1@sha256:/m);
      expect(await exists('stripped-volume')).toBe(false);
    } finally {
      await cp.kubectlOk(['delete', 'mutatingwebhookconfiguration', 'zz-strip-digests']);
    }
  });
});

describe('UPDATEs of a pod being deleted', () => {
  it('swapping in an unsigned image is refused; removing the finalizer still works', async () => {
    await tenant.kubectl(['create', '-f', '-'], podYaml('held', { finalizers: true }));
    expect((await tenant.kubectl(['delete', 'pod', 'held', '--wait=false'])).code).toBe(0);
    expect(await get('held', '{.metadata.deletionTimestamp}')).not.toBe('');
    const r = await tenant.kubectl(['patch', 'pod', 'held', '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/containers/0/image', value: `${stack.registry}/team/payload:unsigned` }])]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/container "app" image ".*team\/payload:unsigned": NO_TRUST_DATA/);
    expect(await get('held', '{.spec.containers[0].image}')).toBe(`${app}:1.0@${signedApp.digest}`);
    expect((await tenant.kubectl(['patch', 'pod', 'held', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]'])).code).toBe(0);
    await eventually(() => exists('held'), (v) => !v, 'pod gone once its finalizer is removed');
  });
});

/** Stripping calls per pod name (each webhook call, reinvocation included, has its own uid). */
const strippedCalls = new Map<string, number>();

/** The attacker: a mutating webhook that removes `@sha256:…` from every image of a pod. */
async function startStripper(): Promise<number> {
  const port = await freePort();
  stripper = https.createServer({ cert: readFileSync(stack.tls.cert), key: readFileSync(stack.tls.key) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const review = JSON.parse(Buffer.concat(chunks).toString()) as { request: { uid: string; name: string; object: { spec: { containers?: { image: string }[]; volumes?: { image?: { reference?: string } }[] } } } };
      const spec = review.request.object.spec;
      const patch: { op: string; path: string; value: string }[] = [];
      const strip = (image: string) => image.replace(/@sha256:[0-9a-f]{64}$/, '');
      (spec.containers ?? []).forEach((c, i) => c.image !== strip(c.image) && patch.push({ op: 'replace', path: `/spec/containers/${i}/image`, value: strip(c.image) }));
      (spec.volumes ?? []).forEach((v, i) => v.image?.reference && v.image.reference !== strip(v.image.reference) && patch.push({ op: 'replace', path: `/spec/volumes/${i}/image/reference`, value: strip(v.image.reference) }));
      if (patch.length > 0) strippedCalls.set(review.request.name, (strippedCalls.get(review.request.name) ?? 0) + 1);
      const response = { uid: review.request.uid, allowed: true, ...(patch.length > 0 && { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') }) };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
    });
  });
  await new Promise<void>((resolve) => stripper!.listen(port, '127.0.0.1', resolve));
  return port;
}
