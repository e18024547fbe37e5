// mutateWorkloads: true on the real control plane (kube-controller-manager runs the Deployment
// controller): trustgate pins the Deployment's template and every pod, and leaves the ReplicaSet
// the controller makes as written. A ReplicaSet pinned apart from its Deployment no longer
// matches the Deployment's template; the controller then makes another under a new name
// (status.collisionCount), again and again.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ControlPlane } from '../support/control-plane.js';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/processes.js';
import { ServeProcess } from '../support/serve-process.js';
import { TrustStack, type PushedImage } from '../support/stack.js';

let cp: ControlPlane;
let stack: TrustStack;
let serve: ServeProcess | undefined;
let signed: PushedImage;
let image: string;
const NS = 'shop';

const deployment = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${NS}}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec: {containers: [{name: app, image: "${image}"}]}
`;
const get = (what: string, jsonpath: string) => cp.kubectlOk(['get', ...what.split(' '), '-n', NS, '-o', `jsonpath=${jsonpath}`]);

beforeAll(async () => {
  [cp, stack] = await Promise.all([ControlPlane.start(), TrustStack.start()]);
  const gun = `${stack.registry}/team/app`;
  image = `${gun}:1.0`;
  signed = await stack.pushImage('team/app', '1.0', 'owned workloads: signed build');
  await stack.init(gun);
  await stack.sign(gun, '1.0', signed);
  const port = await freePort();
  const config = path.join(stack.dir, 'trustgate.yaml');
  writeFileSync(config, `listen: "127.0.0.1:${port}"
tls: {certFile: ${stack.tls.cert}, keyFile: ${stack.tls.key}}
kubernetes: {kubeconfig: ${cp.kubeconfig}}
defaultAction: deny
mutateWorkloads: true
`);
  const caPem = readFileSync(stack.tls.caCert, 'utf8');
  await cp.installChart({ port, caPem, extra: ['--set', 'config.mutateWorkloads=true'], policies: [{ name: 'signed', spec: { images: [`${stack.registry}/**`], trust: { server: stack.notaryUrl, caBundle: caPem, trustOnFirstUse: true } } }] });
  serve = await ServeProcess.start(config, stack.tls.caCert);
  await serve.waitReady();
  await cp.kubectlOk(['create', 'namespace', NS]);
  // Made before the namespace is enforced: its template keeps the tag, as in a cluster that
  // turns enforcement on with workloads already running.
  await cp.kubectlOk(['apply', '-f', '-'], deployment('before'));
  await cp.kubectlOk(['label', 'namespace', NS, 'trustgate.dev/enforce=true']);
});

afterAll(async () => {
  await serve?.stop();
  await stack?.stop();
  await cp?.stop();
});

it('pins a new Deployment, and its ReplicaSet carries the pinned template as the controller copied it', async () => {
  await cp.kubectlOk(['apply', '-f', '-'], deployment('after'));
  expect(await get('deployment after', '{.spec.template.spec.containers[0].image}')).toBe(`${image}@${signed.digest}`);
  const rs = await eventually(() => get('replicasets -l app=after', '{.items[*].spec.template.spec.containers[0].image}'), (out) => out !== '', 'a ReplicaSet');
  expect(rs).toBe(`${image}@${signed.digest}`);
});

it('leaves a ReplicaSet its Deployment made from an unpinned template as written: one ReplicaSet per rollout, no collisions', async () => {
  // A rollout that changes no image: the Deployment UPDATE is not sent to trustgate, the new
  // ReplicaSet's CREATE is (and is verified), and the pods it makes are pinned.
  await cp.kubectlOk(['patch', 'deployment', 'before', '-n', NS, '--type=merge', '-p', '{"spec":{"template":{"metadata":{"annotations":{"rollout":"2"}}}}}']);
  await eventually(() => get('replicasets -l app=before', '{.items[*].metadata.name}'), (out) => out.split(' ').length === 2, 'the rollout\'s ReplicaSet');
  await eventually(() => get('pods -l app=before', '{.items[*].spec.containers[0].image}'), (out) => out.split(' ').includes(`${image}@${signed.digest}`), 'a pinned pod of the rollout');
  // Time for the controller to notice a mismatch, had there been one.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  expect((await get('replicasets -l app=before', '{.items[*].metadata.name}')).split(' ')).toHaveLength(2);
  expect(await get('deployment before', '{.status.collisionCount}')).toBe('');
  expect(await get('replicasets -l app=before', '{.items[*].spec.template.spec.containers[0].image}')).toBe(`${image} ${image}`);
});
