// With trustgate stopped and failurePolicy: Fail, an enforced namespace keeps working for
// everything that changes no image — deleting pods, removing a finalizer, relabelling, scaling a
// Deployment — while a new pod and an UPDATE that changes an image are still refused. The real
// API server decides, through the chart's matchConditions (charts/trustgate/templates/webhooks.yaml).
// The attempts to slip an image change past the conditions: test/security/webhook-match-conditions.test.ts.
import { eventually } from '../support/eventually.js';
import { podYaml, startWithTrustgateDown, WEBHOOK_DOWN, type DownCluster } from '../support/webhook-down.js';

const IMAGE = 'registry.example.com/team/app:1.0';
const OTHER = 'registry.example.com/team/app:2.0';
let c: DownCluster;

beforeAll(async () => {
  c = await startWithTrustgateDown('shop', [
    podYaml('held', IMAGE, { held: true }),
    podYaml('plain', IMAGE),
    podYaml('relabelled', IMAGE),
    `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 0
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: "${IMAGE}"}]}
`,
  ].join('---\n'));
});

afterAll(async () => {
  await c?.cp.stop();
});

it('refuses a new pod (trustgate is called, and is down)', async () => {
  const r = await c.kubectl(['apply', '-f', '-'], podYaml('new', IMAGE));
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(WEBHOOK_DOWN);
});

it('refuses an UPDATE that changes a pod image or a Deployment template image', async () => {
  for (const target of ['pod/plain', 'deployment/web']) {
    const r = await c.kubectl(['set', 'image', target, `app=${OTHER}`]);
    expect([target, r.code !== 0]).toEqual([target, true]);
    expect(r.stderr).toMatch(WEBHOOK_DOWN);
  }
});

it('relabels and annotates a pod', async () => {
  await c.kubectlOk(['label', 'pod', 'relabelled', 'tier=frontend']);
  await c.kubectlOk(['annotate', 'pod', 'relabelled', 'example.com/owner=team-a']);
  const labels = JSON.parse(await c.kubectlOk(['get', 'pod', 'relabelled', '-o', 'jsonpath={.metadata.labels}'])) as Record<string, string>;
  expect(labels.tier).toBe('frontend');
});

it('deletes a pod held by a finalizer once the finalizer is removed', async () => {
  await c.kubectlOk(['delete', 'pod', 'held', '--wait=false']);
  expect(await c.kubectlOk(['get', 'pod', 'held', '-o', 'jsonpath={.metadata.deletionTimestamp}'])).not.toBe('');
  await c.kubectlOk(['patch', 'pod', 'held', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
  await eventually(() => c.kubectl(['get', 'pod', 'held']), (r) => /NotFound/.test(r.stderr), 'the pod is gone');
});

it('deletes a pod', async () => {
  await c.kubectlOk(['delete', 'pod', 'plain', '--wait=false']);
  await eventually(() => c.kubectl(['get', 'pod', 'plain']), (r) => /NotFound/.test(r.stderr), 'the pod is gone');
});

it('scales a Deployment, by UPDATE and through the scale subresource, and its controller scales the ReplicaSet', async () => {
  await c.kubectlOk(['patch', 'deployment', 'web', '--type=merge', '-p', '{"spec":{"replicas":2}}']);
  await c.kubectlOk(['scale', 'deployment', 'web', '--replicas=3']);
  expect(await c.kubectlOk(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}'])).toBe('3');
  // kube-controller-manager UPDATEs the ReplicaSet's replicas: that, too, reaches no webhook.
  await eventually(() => c.kubectlOk(['get', 'replicasets', '-l', 'app=web', '-o', 'jsonpath={.items[*].spec.replicas}']), (out) => out === '3', 'the ReplicaSet scaled to 3');
  // The pods it then tries to create are new pods: refused while trustgate is down.
  await eventually(() => c.kubectlOk(['get', 'events', '--field-selector', 'reason=FailedCreate', '-o', 'jsonpath={.items[*].message}']), (out) => WEBHOOK_DOWN.test(out), 'the ReplicaSet controller was refused its pods');
  expect(await c.kubectlOk(['get', 'pods', '-l', 'app=web', '-o', 'name'])).toBe('');
});
