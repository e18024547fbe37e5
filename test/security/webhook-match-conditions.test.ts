// Bypass class: the webhooks' matchConditions (charts/trustgate/templates/webhooks.yaml). The API
// server skips trustgate for an UPDATE whose CEL says no image changed; the attacker's goal is an
// UPDATE that changes an image yet reads to that CEL as unchanged. On the real control plane,
// with trustgate stopped (failurePolicy: Fail), so every UPDATE the API server sends to trustgate
// is refused "failed calling webhook": each attempt below must be refused that way, and each
// object first takes a relabel, which shows the conditions are in force for it. trustgate's own
// skip of such UPDATEs (decide.ts) is tested in-process: update-paths.test.ts,
// update-of-deleted-objects.test.ts.
import { startWithTrustgateDown, WEBHOOK_DOWN, type DownCluster } from '../support/webhook-down.js';
import type { Tenant } from '../support/control-plane.js';

const A = 'registry.example.com/team/app:1.0';
const B = 'registry.example.com/team/sidecar:1.0';
const EVIL = 'registry.example.com/team/payload:unsigned';
const NS = 'team-a';

const template = (spec: string) => `{metadata: {labels: {app: w}}, spec: ${spec}}`;
const SPEC = `{containers: [{name: app, image: "${A}"}]}`;
const WITH_VOLUME = `{containers: [{name: app, image: "${A}", volumeMounts: [{name: data, mountPath: /data}]}], volumes: [{name: data, image: {reference: "${B}"}}]}`;
const TWO = `{containers: [{name: app, image: "${A}"}, {name: side, image: "${B}"}]}`;

const OBJECTS = `apiVersion: v1
kind: Pod
metadata: {name: two}
spec:
  initContainers: [{name: init, image: "${A}"}]
  containers: [{name: app, image: "${A}"}, {name: side, image: "${B}"}]
---
apiVersion: v1
kind: Pod
metadata: {name: held, finalizers: [example.com/hold]}
spec: {containers: [{name: app, image: "${A}"}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: deployment}
spec: {replicas: 0, selector: {matchLabels: {app: w}}, template: ${template(SPEC)}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: two-containers}
spec: {replicas: 0, selector: {matchLabels: {app: w}}, template: ${template(TWO)}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: image-volume}
spec: {replicas: 0, selector: {matchLabels: {app: w}}, template: ${template(WITH_VOLUME)}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: replicaset}
spec: {replicas: 0, selector: {matchLabels: {app: w}}, template: ${template(SPEC)}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: statefulset}
spec: {replicas: 0, serviceName: w, selector: {matchLabels: {app: w}}, template: ${template(SPEC)}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: daemonset}
spec: {selector: {matchLabels: {app: w}}, template: ${template(SPEC)}}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: replicationcontroller}
spec: {replicas: 0, selector: {app: w}, template: ${template(SPEC)}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: job}
spec: {suspend: true, template: {spec: {restartPolicy: Never, containers: [{name: app, image: "${A}"}]}}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: cronjob}
spec: {schedule: "0 0 1 1 *", suspend: true, jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: app, image: "${A}"}]}}}}}
`;

// About as many containers as the API server stores in one object (etcd's default 1.5 MiB
// request limit with the defaults each container gets: 16,500 here is refused "request is too
// large"). The CEL's cost grows with them; past its budget (2,500,000 per webhook for
// matchConditions) it would error, which failurePolicy: Fail turns into a refusal and Ignore
// into a skip. No storable object comes near it.
const WIDE = 15000;
const wide = () => JSON.stringify({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'wide' },
  spec: { replicas: 0, selector: { matchLabels: { app: 'w' } }, template: { metadata: { labels: { app: 'w' } }, spec: {
    initContainers: Array.from({ length: WIDE / 2 }, (_, i) => ({ name: `i${i}`, image: A })),
    containers: Array.from({ length: WIDE / 2 }, (_, i) => ({ name: `c${i}`, image: B })),
    volumes: Array.from({ length: 100 }, (_, i) => ({ name: `v${i}`, image: { reference: B } })) } } },
});

let c: DownCluster;
let tenant: Tenant;

beforeAll(async () => {
  c = await startWithTrustgateDown(NS, `${OBJECTS}---\n${wide()}\n`);
  tenant = await c.cp.tenant(NS, 'alice');
});

afterAll(async () => {
  await c?.cp.stop();
});

async function refusedByTrustgate(r: Promise<{ code: number | null; stderr: string }>, what: string): Promise<void> {
  const answer = await r;
  expect([what, answer.code !== 0]).toEqual([what, true]);
  expect([what, answer.stderr]).toEqual([what, expect.stringMatching(WEBHOOK_DOWN)]);
}

const jsonPatch = (target: string, ops: unknown[], extra: string[] = []) => c.kubectl(['patch', target, '--type=json', '-p', JSON.stringify(ops), ...extra]);

describe.each([
  ['deployment', '/spec/template/spec'],
  ['replicaset', '/spec/template/spec'],
  ['statefulset', '/spec/template/spec'],
  ['daemonset', '/spec/template/spec'],
  ['replicationcontroller', '/spec/template/spec'],
  ['cronjob', '/spec/jobTemplate/spec/template/spec'],
])('a %s', (kind, spec) => {
  it('takes a relabel, and its template image changed is sent to trustgate', async () => {
    await c.kubectlOk(['label', kind, kind, 'tier=x']);
    await refusedByTrustgate(jsonPatch(`${kind}/${kind}`, [{ op: 'replace', path: `${spec}/containers/0/image`, value: EVIL }]), kind);
  });
});

it("a Job takes a relabel, and its template image cannot be changed at all (the API server's validation)", async () => {
  await c.kubectlOk(['label', 'job', 'job', 'tier=x']);
  const r = await jsonPatch('job/job', [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: EVIL }]);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/spec\.template\.spec: Invalid value: .*: field is immutable/);
});

it(`a Deployment of ${WIDE} containers takes a relabel (the CEL stays within its cost budget), and its last image changed is sent to trustgate`, async () => {
  await c.kubectlOk(['label', 'deployment', 'wide', 'tier=x']);
  await refusedByTrustgate(jsonPatch('deployment/wide', [{ op: 'replace', path: `/spec/template/spec/containers/${WIDE / 2 - 1}/image`, value: EVIL }]), 'wide');
});

describe('a Deployment template', () => {
  it('whose image volume changes reference is sent to trustgate', async () => {
    await c.kubectlOk(['label', 'deployment', 'image-volume', 'tier=x']);
    await refusedByTrustgate(jsonPatch('deployment/image-volume', [{ op: 'replace', path: '/spec/template/spec/volumes/0/image/reference', value: EVIL }]), 'volume reference');
  });

  it('that gains an image volume is sent to trustgate', async () => {
    await refusedByTrustgate(jsonPatch('deployment/deployment', [{ op: 'add', path: '/spec/template/spec/volumes', value: [{ name: 'x', image: { reference: EVIL } }] }]), 'new image volume');
  });

  it('that gains an init container is sent to trustgate', async () => {
    await refusedByTrustgate(jsonPatch('deployment/deployment', [{ op: 'add', path: '/spec/template/spec/initContainers', value: [{ name: 'init', image: EVIL }] }]), 'new init container');
  });

  it('whose container moves to the init containers, image for image the same in one flat list, is sent to trustgate', async () => {
    await c.kubectlOk(['label', 'deployment', 'two-containers', 'tier=x']);
    const moved = [
      { op: 'add', path: '/spec/template/spec/initContainers', value: [{ name: 'app', image: A }] },
      { op: 'remove', path: '/spec/template/spec/containers/0' },
    ];
    await refusedByTrustgate(jsonPatch('deployment/two-containers', moved), 'container moved to init');
  });

  it('whose two containers swap images is sent to trustgate', async () => {
    const swapped = [
      { op: 'replace', path: '/spec/template/spec/containers/0/image', value: B },
      { op: 'replace', path: '/spec/template/spec/containers/1/image', value: A },
    ];
    await refusedByTrustgate(jsonPatch('deployment/two-containers', swapped), 'images swapped');
  });
});

describe('a pod, UPDATEd by a tenant', () => {
  beforeAll(async () => {
    const r = await tenant.kubectl(['label', 'pod', 'two', 'tier=x']);
    expect(r.stderr).toBe('');
  });

  it('whose init container image changes is sent to trustgate', async () => {
    await refusedByTrustgate(tenant.kubectl(['patch', 'pod', 'two', '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/initContainers/0/image', value: EVIL }])]), 'init image');
  });

  it('whose second container image changes is sent to trustgate', async () => {
    await refusedByTrustgate(tenant.kubectl(['set', 'image', 'pod/two', `side=${EVIL}`]), 'second container');
  });

  it('that gains an ephemeral container through the subresource is sent to trustgate', async () => {
    const debug = JSON.stringify({ spec: { ephemeralContainers: [{ name: 'debug', image: EVIL, targetContainerName: 'app' }] } });
    await refusedByTrustgate(tenant.kubectl(['patch', 'pod', 'two', '--subresource=ephemeralcontainers', '--type=strategic', '-p', debug]), 'ephemeral container');
  });

  it('changed in a server-side dry run is sent to trustgate', async () => {
    await refusedByTrustgate(tenant.kubectl(['set', 'image', 'pod/two', `app=${EVIL}`, '--dry-run=server']), 'dry run');
  });

  it('being deleted (held by a finalizer) whose image changes is sent to trustgate', async () => {
    await c.kubectlOk(['delete', 'pod', 'held', '--wait=false']);
    await c.kubectlOk(['label', 'pod', 'held', 'tier=x']);
    await refusedByTrustgate(tenant.kubectl(['set', 'image', 'pod/held', `app=${EVIL}`]), 'deleting pod');
    expect(await c.kubectlOk(['get', 'pod', 'held', '-o', 'jsonpath={.spec.containers[0].image}'])).toBe(A);
  });
});
