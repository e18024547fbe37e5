// Bypass class: kinds and subresources. An image reaches a node through a pod, and a pod comes
// from many places: a Pod, a workload's template, an ephemeral container added through
// pods/ephemeralcontainers (kubectl debug), a copy of a pod (kubectl debug --copy-to), an image
// changed in place (kubectl set image). The attacker looks for the one trustgate does not see:
// a container type the code skips, a kind or subresource the webhook rules leave out, or a kind
// in the rules the code refuses (so the platform team turns the gate off to get work done).
//   1. in-process: every container type in every reviewed kind, through decide();
//   2. the chart's rendered webhook rules against the kinds the code reviews;
//   3. on the real control plane, as a tenant whose RBAC is limited to its namespace: what
//      kubectl and the API server actually send, including duplicate and case-variant keys.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { decide, isReviewedKind, parseReview, type DecisionContext } from '../../src/admission/index.js';
import { ContainerType } from '../../src/admission/workloads.js';
import { PolicySet } from '../../src/policy/index.js';
import { ControlPlane, controlPlaneBinaries, type Tenant } from '../support/control-plane.js';
import { ScriptedVerifier } from '../support/fake-verifier.js';
import { policy, TOFU } from '../support/policies.js';
import { freePort, run } from '../support/processes.js';
import { applyPatch, review, workload, type PodSpecLike } from '../support/reviews.js';
import { ServeProcess } from '../support/serve-process.js';
import { makeTls } from '../support/tls.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const SIGNED = 'registry.example.com/team/app:1.0';
const UNSIGNED = 'registry.example.com/team/app:latest';
const KINDS = ['Pod', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicationController'];
const TYPES = [ContainerType.INIT, ContainerType.APP, ContainerType.EPHEMERAL];

// ---- 1. every container type in every kind ---------------------------------------------------

describe.each(KINDS)('a %s', (kind) => {
  // Whether each container is looked at is the point, not how it is verified.
  const ctx = (): DecisionContext => ({
    policies: new PolicySet([policy('internal', ['registry.example.com/**'], TOFU)]), verifier: new ScriptedVerifier({ [SIGNED]: D1 }),
    defaultAction: 'deny', mutateWorkloads: true, deadlineMs: 2000, credentialsFor: () => undefined,
  });
  const spec = (type: string, image: string): PodSpecLike => ({
    containers: [{ name: 'app', image: type === ContainerType.APP ? image : `${SIGNED}@${D1}` }],
    ...(type !== ContainerType.APP && { [type]: [{ name: 'extra', image }] }),
  });

  it.each(TYPES)('with an unsigned image in %s is denied by both endpoints', async (type) => {
    for (const endpoint of ['mutate', 'validate'] as const) {
      const d = await decide(parseReview(review(kind, workload(kind, 'web', spec(type, UNSIGNED)))), endpoint, ctx());
      expect(d.allowed).toBe(false);
      expect(d.message).toContain(UNSIGNED);
    }
  });

  it.each(TYPES)('with a signed tag in %s is pinned there', async (type) => {
    const object = workload(kind, 'web', spec(type, SIGNED));
    const d = await decide(parseReview(review(kind, object)), 'mutate', ctx());
    expect(d.allowed).toBe(true);
    expect(JSON.stringify(applyPatch(object, d.patch))).toContain(`"image":"${SIGNED}@${D1}"`);
    expect(JSON.stringify(applyPatch(object, d.patch))).not.toContain(`"image":"${SIGNED}"`);
  });
});

// ---- 2. the chart's rules against the code -----------------------------------------------------

/** What each resource a webhook rule can name is, for trustgate: a kind it reviews, or why not. */
const RESOURCE_KINDS: Record<string, string> = {
  pods: 'Pod', 'pods/ephemeralcontainers': 'Pod', replicationcontrollers: 'ReplicationController',
  deployments: 'Deployment', replicasets: 'ReplicaSet', statefulsets: 'StatefulSet', daemonsets: 'DaemonSet', jobs: 'Job', cronjobs: 'CronJob',
};
/**
 * Every resource through which a request can create a pod or set a container image. Not in
 * this list, by decision: podtemplates (no built-in controller creates pods from one), the
 * scale subresources (they change replicas, never a template: the pods they cause are CREATEs of
 * pods), pods/binding, pods/status, pods/resize (cannot change an image: proven on the control
 * plane below), pods/exec, pods/attach, pods/portforward (CONNECT to a running container).
 */
const POD_CREATING = ['pods', 'pods/ephemeralcontainers', 'replicationcontrollers', 'deployments', 'replicasets', 'statefulsets', 'daemonsets', 'jobs', 'cronjobs'];

interface Rule {
  apiGroups: string[];
  operations: string[];
  resources: string[];
}

describe("the chart's webhook rules and the kinds trustgate reviews", () => {
  let rendered: Map<string, Rule[]>[];
  beforeAll(async () => {
    const bin = controlPlaneBinaries();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-helm-'));
    const helm = (extra: string[]) =>
      run(path.join(bin, 'helm'), ['template', 'trustgate', path.resolve('charts/trustgate'), '--kube-version', '1.37.0', ...extra], {
        timeoutMs: 60_000, env: { HELM_CACHE_HOME: path.join(dir, 'c'), HELM_CONFIG_HOME: path.join(dir, 'g'), HELM_DATA_HOME: path.join(dir, 'd') },
      });
    try {
      rendered = [];
      for (const extra of [[], ['--set', 'config.mutateWorkloads=true'], ['--set', 'scope=clusterWide']]) {
        const r = await helm(extra);
        if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr}`);
        const byWebhook = new Map<string, Rule[]>();
        for (const doc of parseAllDocuments(r.stdout)) {
          const o = doc.toJS() as { kind?: string; webhooks?: { name: string; rules: Rule[] }[] } | null;
          if (o?.kind === 'MutatingWebhookConfiguration' || o?.kind === 'ValidatingWebhookConfiguration') {
            for (const w of o.webhooks ?? []) byWebhook.set(w.name, w.rules);
          }
        }
        rendered.push(byWebhook);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every resource in a rule is one whose kind the code reviews (none is refused with UNSUPPORTED_KIND)', () => {
    for (const byWebhook of rendered) {
      for (const rules of byWebhook.values()) {
        for (const resource of rules.flatMap((r) => r.resources)) {
          expect({ resource, kind: RESOURCE_KINDS[resource] }).toEqual({ resource, kind: expect.any(String) as unknown });
          expect(isReviewedKind(RESOURCE_KINDS[resource]!)).toBe(true);
        }
      }
    }
  });

  it('every pod-creating resource is validated on CREATE and UPDATE, in every rendering', () => {
    for (const byWebhook of rendered) {
      const rules = byWebhook.get('validate.trustgate.dev');
      expect(rules).toBeDefined();
      for (const resource of POD_CREATING) {
        const covering = rules!.filter((r) => r.resources.includes(resource) || r.resources.includes('*'));
        expect({ resource, operations: [...new Set(covering.flatMap((r) => r.operations))].sort() }).toEqual({ resource, operations: ['CREATE', 'UPDATE'] });
      }
    }
  });

  it('pods and their ephemeral containers are pinned on CREATE and UPDATE, in every rendering', () => {
    for (const byWebhook of rendered) {
      const rules = byWebhook.get('mutate.trustgate.dev')!;
      for (const resource of ['pods', 'pods/ephemeralcontainers']) {
        expect([...new Set(rules.filter((r) => r.resources.includes(resource)).flatMap((r) => r.operations))].sort()).toEqual(['CREATE', 'UPDATE']);
      }
    }
  });
});

// ---- 3. on the API server ------------------------------------------------------------------------

const OK = 'registry.example.com/ok/app:1.0';
const OK_DEBUG = 'registry.example.com/ok/busybox:1.0';
const DENIED = 'registry.example.com/denied/app:1.0';

describe('on kube-apiserver, as a tenant limited to its namespace', () => {
  let cp: ControlPlane;
  let serve: ServeProcess | undefined;
  let tenant: Tenant;
  let dir: string;
  const ns = 'team-a';

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-kinds-'));
    const [plane, tls, port] = await Promise.all([ControlPlane.start(), makeTls(dir), freePort()]);
    cp = plane;
    const configFile = path.join(dir, 'trustgate.yaml');
    writeFileSync(configFile, `listen: "127.0.0.1:${port}"\ntls: {certFile: ${tls.cert}, keyFile: ${tls.key}}\nkubernetes: {kubeconfig: ${cp.kubeconfig}}\ndefaultAction: deny\n`);
    // Which requests reach trustgate is the point, not how images are verified: an allow and a
    // deny policy tell the two apart, and the default action denies the rest.
    await cp.installChart({
      port, caPem: readFileSync(tls.caCert, 'utf8'),
      policies: [
        { name: 'ok', spec: { images: ['registry.example.com/ok/**'], action: 'allow' } },
        { name: 'denied', spec: { images: ['registry.example.com/denied/**'], action: 'deny' } },
      ],
    });
    serve = await ServeProcess.start(configFile, tls.caCert);
    await serve.waitReady(30_000);
    tenant = await cp.tenant(ns, 'alice');
    await cp.kubectlOk(['label', 'namespace', ns, 'trustgate.dev/enforce=true']);
    // The webhook configurations were just created: wait until kube-apiserver calls them.
    const deadline = Date.now() + 30_000;
    while ((await tenant.kubectl(['run', 'probe', `--image=${DENIED}`, '--restart=Never', '--dry-run=server'])).code === 0) {
      if (Date.now() > deadline) throw new Error('the webhooks were never called');
      await new Promise((r) => setTimeout(r, 500));
    }
    expect((await tenant.kubectl(['run', 'base', `--image=${OK}`, '--restart=Never'])).code).toBe(0);
  });

  afterAll(async () => {
    await serve?.stop();
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const stored = async (name: string, path = '{.spec.containers[*].image}') => (await cp.kubectlOk(['get', 'pod', name, '-n', ns, '-o', `jsonpath=${path}`])).trim();
  const exists = async (name: string) => (await cp.kubectl(['get', 'pod', name, '-n', ns])).code === 0;
  const deniedBy = (stderr: string) => expect(stderr).toMatch(/admission webhook "(mutate|validate)\.trustgate\.dev" denied the request/);

  it('kubectl run with a denied image is denied', async () => {
    const r = await tenant.kubectl(['run', 'bad', `--image=${DENIED}`, '--restart=Never']);
    deniedBy(r.stderr);
    expect(await exists('bad')).toBe(false);
  });

  it('kubectl set image on a running pod is denied, and the pod keeps its image', async () => {
    const r = await tenant.kubectl(['set', 'image', 'pod/base', `base=${DENIED}`]);
    deniedBy(r.stderr);
    expect(await stored('base')).toBe(OK);
  });

  it('a JSON patch of the image is denied', async () => {
    const r = await tenant.kubectl(['patch', 'pod', 'base', '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/containers/0/image', value: DENIED }])]);
    deniedBy(r.stderr);
    expect(await stored('base')).toBe(OK);
  });

  it('kubectl debug (pods/ephemeralcontainers) with a denied image is denied, with an allowed one admitted', async () => {
    const bad = await tenant.kubectl(['debug', 'base', `--image=${DENIED}`, '--container=dbg-bad']);
    deniedBy(bad.stderr);
    const good = await tenant.kubectl(['debug', 'base', `--image=${OK_DEBUG}`, '--container=dbg-ok']);
    expect(good.stderr).not.toMatch(/denied/);
    expect(await stored('base', '{.spec.ephemeralContainers[*].image}')).toBe(OK_DEBUG);
  });

  it('kubectl debug --copy-to with a denied image is denied (the copy is a new pod)', async () => {
    const setImage = await tenant.kubectl(['debug', 'base', '--copy-to=copy-a', `--set-image=*=${DENIED}`]);
    deniedBy(setImage.stderr);
    const added = await tenant.kubectl(['debug', 'base', '--copy-to=copy-b', `--image=${DENIED}`, '--container=dbg']);
    deniedBy(added.stderr);
    expect(await exists('copy-a')).toBe(false);
    expect(await exists('copy-b')).toBe(false);
  });

  it('the status and resize subresources cannot change an image (they are outside the rules for that reason)', async () => {
    // A platform role that grants pods/* would let a tenant write these; the API server must
    // ignore or refuse an image change through them, since trustgate never sees them.
    for (const subresource of ['status', 'resize']) {
      const r = await cp.kubectl(['patch', 'pod', 'base', '-n', ns, `--subresource=${subresource}`, '--type=merge', '-p', JSON.stringify({ spec: { containers: [{ name: 'base', image: DENIED }] } })]);
      expect({ subresource, stored: await stored('base') }).toEqual({ subresource, stored: OK });
      // Either refused outright, or accepted with the spec change dropped; never stored.
      if (r.code !== 0) expect(r.stderr).not.toMatch(/trustgate/);
    }
  });

  it('every workload kind with a denied image is denied at create (admin: the tenant may not create them)', async () => {
    for (const kind of KINDS.filter((k) => k !== 'Pod')) {
      const manifest = workload(kind, `w-${kind.toLowerCase()}`, { containers: [{ name: 'app', image: DENIED }] }, { namespace: ns });
      delete (manifest.metadata as Record<string, unknown>).uid;
      // The fixtures are review-shaped; as the API server wants them: no replicas on a
      // DaemonSet, a plain label map as a ReplicationController's selector.
      const spec = manifest.spec as Record<string, unknown>;
      if (kind === 'DaemonSet') delete spec.replicas;
      if (kind === 'ReplicationController') spec.selector = { app: `w-${kind.toLowerCase()}` };
      const r = await cp.kubectl(['create', '-f', '-'], JSON.stringify(manifest));
      expect({ kind, code: r.code }).toEqual({ kind, code: 1 });
      deniedBy(r.stderr);
    }
  });

  it('kubectl set image on a Deployment is denied, and its template keeps the image', async () => {
    await cp.kubectlOk(['create', 'deployment', 'web', `--image=${OK}`, '-n', ns]);
    const r = await cp.kubectl(['set', 'image', 'deployment/web', `app=${DENIED}`, '-n', ns]);
    deniedBy(r.stderr);
    expect(await cp.kubectlOk(['get', 'deployment', 'web', '-n', ns, '-o', 'jsonpath={.spec.template.spec.containers[*].image}'])).toBe(OK);
  });

  describe('what kube-apiserver does with keys a client repeats or capitalises', () => {
    // trustgate reads what kube-apiserver sends, which it re-encodes from what it decoded: the
    // question is whether what it stores is what trustgate was shown. Raw bodies, as a client
    // other than kubectl would send them.
    const raw = (name: string, container: string) =>
      tenant.kubectl(['create', '--raw', `/api/v1/namespaces/${ns}/pods`, '-f', '-'],
        `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"${name}"},"spec":{"restartPolicy":"Never","containers":[${container}]}}`);

    it('"image" twice: the last one is stored, and it is the one trustgate decided on', async () => {
      deniedBy((await raw('dup-bad', `{"name":"app","image":"${OK}","image":"${DENIED}"}`)).stderr);
      expect(await exists('dup-bad')).toBe(false);
      expect((await raw('dup-ok', `{"name":"app","image":"${DENIED}","image":"${OK}"}`)).code).toBe(0);
      expect(await stored('dup-ok')).toBe(OK);
    });

    it('"containers" twice: the last list is stored and decided on', async () => {
      deniedBy((await raw('dup-list', `{"name":"app","image":"${OK}"}],"containers":[{"name":"app","image":"${DENIED}"}`)).stderr);
      expect(await exists('dup-list')).toBe(false);
    });

    it('"Image" beside "image": field names are case-sensitive, the capitalised one is dropped', async () => {
      expect((await raw('case-a', `{"name":"app","image":"${OK}","Image":"${DENIED}"}`)).code).toBe(0);
      expect(await stored('case-a')).toBe(OK);
      expect(await cp.kubectlOk(['get', 'pod', 'case-a', '-n', ns, '-o', 'json'])).not.toContain(DENIED);
    });
  });

  describe('tenant ImagePolicies on the API server', () => {
    it('one whose metadata.namespace names another namespace is refused by the API server', async () => {
      const body = { apiVersion: 'trustgate.dev/v1alpha1', kind: 'ImagePolicy', metadata: { name: 'elsewhere', namespace: 'kube-system' }, spec: { images: ['**'], action: 'allow' } };
      const r = await tenant.kubectl(['create', '--raw', `/apis/trustgate.dev/v1alpha1/namespaces/${ns}/imagepolicies`, '-f', '-'], JSON.stringify(body));
      expect(r.code).not.toBe(0);
      expect((await cp.kubectl(['get', 'imagepolicy', 'elsewhere', '-n', 'kube-system'])).code).not.toBe(0);
    });

    it('an accepted allow-everything ImagePolicy does not admit a denied image', async () => {
      const policyYaml = `apiVersion: trustgate.dev/v1alpha1\nkind: ImagePolicy\nmetadata: {name: "0-allow-all"}\nspec: {images: ["**"], action: allow}\n`;
      expect((await tenant.kubectl(['apply', '-f', '-'], policyYaml)).code).toBe(0);
      const deadline = Date.now() + 20_000;
      while ((await cp.kubectlOk(['get', 'imagepolicy', '0-allow-all', '-n', ns, '-o', 'jsonpath={.status.accepted}'])) !== 'true') {
        if (Date.now() > deadline) throw new Error('the tenant policy was never accepted');
        await new Promise((r) => setTimeout(r, 250));
      }
      deniedBy((await tenant.kubectl(['run', 'after-policy', `--image=${DENIED}`, '--restart=Never'])).stderr);
      deniedBy((await tenant.kubectl(['run', 'after-policy-2', '--image=elsewhere.example.org/app:1.0', '--restart=Never'])).stderr);
    });
  });
});
