import { decide, parseReview, ORIGINAL_IMAGES_ANNOTATION, type DecisionContext } from '../../../src/admission/index.js';
import { PolicySet, refusedStandIn } from '../../../src/policy/index.js';
import { ScriptedVerifier } from '../../support/fake-verifier.js';
import { policy, TOFU } from '../../support/policies.js';
import { applyPatch, review, workload } from '../../support/reviews.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const REG = 'registry.example.com';

function ctx(over: Partial<DecisionContext> & { script?: Record<string, string> } = {}): DecisionContext & { verifier: ScriptedVerifier } {
  const verifier = new ScriptedVerifier(over.script ?? { [`${REG}/team/app:1.0`]: D1, [`${REG}/team/sidecar:2`]: D2 });
  return {
    policies: new PolicySet([policy('signed', [`${REG}/**`], TOFU)]),
    defaultAction: 'deny',
    mutateWorkloads: false,
    deadlineMs: 2000,
    credentialsFor: () => undefined,
    ...over,
    verifier: (over.verifier as ScriptedVerifier | undefined) ?? verifier,
  };
}

const pod = (containers: { name: string; image: string }[], extra: Partial<Record<'initContainers' | 'ephemeralContainers', { name: string; image: string }[]>> = {}, metadata = {}) =>
  workload('Pod', 'web', { containers, ...extra }, metadata);

async function run(body: Record<string, unknown>, endpoint: 'mutate' | 'validate' = 'mutate', c: DecisionContext = ctx()) {
  return decide(parseReview(body), endpoint, c);
}

describe('mutation', () => {
  it('pins every verified image to its signed digest and records the originals', async () => {
    const object = pod([{ name: 'app', image: `${REG}/team/app:1.0` }], { initContainers: [{ name: 'init', image: `${REG}/team/sidecar:2` }] });
    const d = await run(review('Pod', object));
    expect(d).toMatchObject({ allowed: true, decision: 'allow' });
    const patched = applyPatch(object, d.patch) as any;
    expect(patched.spec.containers[0].image).toBe(`${REG}/team/app:1.0@${D1}`);
    expect(patched.spec.initContainers[0].image).toBe(`${REG}/team/sidecar:2@${D2}`);
    expect(JSON.parse(patched.metadata.annotations[ORIGINAL_IMAGES_ANNOTATION])).toEqual({ app: `${REG}/team/app:1.0`, init: `${REG}/team/sidecar:2` });
    // Nothing else changed.
    patched.spec.containers[0].image = object.spec && (object as any).spec.containers[0].image;
    patched.spec.initContainers[0].image = (object as any).spec.initContainers[0].image;
    delete patched.metadata.annotations;
    expect(patched).toEqual(object);
  });

  it('keeps existing annotations and escapes the annotation key in the pointer', async () => {
    const object = pod([{ name: 'app', image: `${REG}/team/app:1.0` }], {}, { annotations: { keep: 'me' } });
    const d = await run(review('Pod', object));
    expect(d.patch.at(-1)?.path).toBe('/metadata/annotations/trustgate.dev~1original-images');
    expect((applyPatch(object, d.patch) as any).metadata.annotations.keep).toBe('me');
  });

  it('leaves an image that already carries the signed digest alone', async () => {
    const d = await run(review('Pod', pod([{ name: 'app', image: `${REG}/team/app:1.0@${D1}` }])));
    // The image is left as it is; only the verified-by annotation is written (every image counts).
    expect(d.allowed).toBe(true);
    expect(d.patch.map((p) => p.path)).toEqual(['/metadata/annotations']);
  });

  it('validates but does not rewrite workload templates by default; mutateWorkloads rewrites them', async () => {
    for (const kind of ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicationController']) {
      const object = workload(kind, 'app', { containers: [{ name: 'app', image: `${REG}/team/app:1.0` }] });
      expect(await run(review(kind, object))).toMatchObject({ allowed: true, patch: [] });
      const d = await run(review(kind, object), 'mutate', ctx({ mutateWorkloads: true }));
      expect(JSON.stringify(applyPatch(object, d.patch))).toContain(`${REG}/team/app:1.0@${D1}`);
    }
  });

  it('with mutateWorkloads, rewrites only top-level owners: not a ReplicaSet of a Deployment, not a Job of a CronJob', async () => {
    const controller = (kind: string) => ({ ownerReferences: [{ apiVersion: 'apps/v1', kind, name: 'owner', uid: 'u', controller: true, blockOwnerDeletion: true }] });
    const c = ctx({ mutateWorkloads: true });
    for (const [kind, owner] of [['ReplicaSet', 'Deployment'], ['Job', 'CronJob'], ['Deployment', 'Example'], ['ReplicationController', 'Example']] as const) {
      const object = workload(kind, 'app', { containers: [{ name: 'app', image: `${REG}/team/app:1.0` }] }, controller(owner));
      const d = await run(review(kind, object), 'mutate', c);
      expect([kind, d.allowed, d.patch]).toEqual([kind, true, []]);
      // /validate asks no pin of what /mutate does not pin, and still verifies every image.
      expect([kind, (await run(review(kind, object), 'validate', c)).allowed]).toEqual([kind, true]);
      const unsigned = workload(kind, 'app', { containers: [{ name: 'app', image: `${REG}/team/unsigned:1` }] }, controller(owner));
      expect([kind, (await run(review(kind, unsigned), 'validate', c)).reasons]).toEqual([kind, ['TAG_NOT_SIGNED']]);
    }
    // An owner that is not the controller (controller unset or false) leaves the object top-level.
    const shared = workload('ReplicaSet', 'app', { containers: [{ name: 'app', image: `${REG}/team/app:1.0` }] }, { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'u', controller: false }] });
    expect(JSON.stringify(applyPatch(shared, (await run(review('ReplicaSet', shared), 'mutate', c)).patch))).toContain(`@${D1}`);
  });

  it('pins a pod a controller made', async () => {
    const object = pod([{ name: 'app', image: `${REG}/team/app:1.0` }], {}, { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u', controller: true }] });
    expect((applyPatch(object, (await run(review('Pod', object))).patch) as any).spec.containers[0].image).toBe(`${REG}/team/app:1.0@${D1}`);
  });

  it('never patches on /validate', async () => {
    expect((await run(review('Pod', pod([{ name: 'app', image: `${REG}/team/app:1.0` }])), 'validate')).patch).toEqual([]);
  });

  it('makes latest explicit when no tag was written', async () => {
    const c = ctx({ script: { [`${REG}/team/app:latest`]: D1 } });
    const object = pod([{ name: 'app', image: `${REG}/team/app` }]);
    expect((applyPatch(object, (await run(review('Pod', object), 'mutate', c)).patch) as any).spec.containers[0].image).toBe(`${REG}/team/app:latest@${D1}`);
  });
});

describe('what is reviewed', () => {
  it.each(['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicationController', 'Pod'])('denies an unsigned image in a %s', async (kind) => {
    const d = await run(review(kind, workload(kind, 'x', { containers: [{ name: 'c', image: `${REG}/team/unsigned:1` }] })));
    expect(d.allowed).toBe(false);
    expect(d.message).toContain('container "c" image "registry.example.com/team/unsigned:1": TAG_NOT_SIGNED');
  });

  it('checks init and ephemeral containers, and the pods/ephemeralcontainers subresource', async () => {
    const bad = { name: 'debug', image: `${REG}/team/unsigned:1` };
    expect((await run(review('Pod', pod([{ name: 'app', image: `${REG}/team/app:1.0` }], { initContainers: [bad] })))).allowed).toBe(false);
    const withEphemeral = pod([{ name: 'app', image: `${REG}/team/app:1.0@${D1}` }], { ephemeralContainers: [bad] });
    const d = await run(review('Pod', withEphemeral, { operation: 'UPDATE', subResource: 'ephemeralcontainers', oldObject: pod([{ name: 'app', image: `${REG}/team/app:1.0@${D1}` }]) }));
    expect(d.allowed).toBe(false);
    expect(d.message).toContain('container "debug"');
  });

  it('ownerReferences grant nothing', async () => {
    const owned = pod([{ name: 'app', image: `${REG}/team/unsigned:1` }], {}, { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'x', controller: true }] });
    expect((await run(review('Pod', owned))).allowed).toBe(false);
  });

  it('never blocks an UPDATE that changes no image (finalizers removed), even of an object being deleted', async () => {
    const before = pod([{ name: 'app', image: `${REG}/team/unsigned:1` }], {}, { finalizers: ['x'] });
    const after = pod([{ name: 'app', image: `${REG}/team/unsigned:1` }]);
    expect(await run(review('Pod', after, { operation: 'UPDATE', oldObject: before }))).toMatchObject({ allowed: true, decision: 'skip' });
    const deleting = pod([{ name: 'app', image: `${REG}/team/unsigned:1` }], {}, { deletionTimestamp: '2026-11-24T00:00:00Z' });
    expect(await run(review('Pod', deleting, { operation: 'UPDATE', oldObject: before }))).toMatchObject({ allowed: true, decision: 'skip' });
    // …but being deleted is no licence to change an image (test/security/update-paths.test.ts).
    const swapped = pod([{ name: 'app', image: `${REG}/team/other:1` }], {}, { deletionTimestamp: '2026-11-24T00:00:00Z' });
    expect((await run(review('Pod', swapped, { operation: 'UPDATE', oldObject: before }))).allowed).toBe(false);
    const changed = pod([{ name: 'app', image: `${REG}/team/other:1` }]);
    expect((await run(review('Pod', changed, { operation: 'UPDATE', oldObject: before }))).allowed).toBe(false);
  });

  it('verifies each distinct image once, in parallel', async () => {
    const c = ctx();
    const images = Array.from({ length: 10 }, (_, i) => ({ name: `c${i}`, image: `${REG}/team/app:1.0` }));
    await run(review('Pod', pod(images)), 'mutate', c);
    expect(c.verifier.calls).toEqual([`${REG}/team/app:1.0`]);
  });

  it('past the deadline, denies naming the image that did not finish', async () => {
    const slow = ctx({ deadlineMs: 50, verifier: new ScriptedVerifier({ [`${REG}/team/app:1.0`]: D1 }, 500) });
    const d = await run(review('Pod', pod([{ name: 'app', image: `${REG}/team/app:1.0` }])), 'mutate', slow);
    expect(d.allowed).toBe(false);
    expect(d.message).toMatch(/TIMEOUT: verification of registry.example.com\/team\/app:1.0 did not finish within 50 ms/);
  });

  it('denies kinds it cannot read and malformed pod specs, with the reason', async () => {
    expect((await run(review('Widget', { metadata: { name: 'w' }, spec: {} }))).message).toMatch(/does not review Widget/);
    expect((await run(review('Pod', { metadata: { name: 'p' }, spec: { containers: [{ name: 'x' }] } }))).message).toMatch(/\/spec\/containers\/0\/image is missing/);
    expect((await run(review('Pod', pod([{ name: 'x', image: 'Nginx' }])))).message).toMatch(/INVALID_REFERENCE: repository name "library\/Nginx" must be lowercase/);
  });

  it('does not review DELETE', async () => {
    expect(await run(review('Pod', undefined, { operation: 'DELETE', oldObject: pod([]) }))).toMatchObject({ allowed: true, decision: 'skip' });
  });
});

describe('policies and modes', () => {
  const image = `${REG}/team/unsigned:1`;
  const one = (c: DecisionContext) => run(review('Pod', pod([{ name: 'app', image }])), 'mutate', c);

  it('warn admits with a warning kubectl shows; audit admits with an audit annotation', async () => {
    const warn = await one(ctx({ policies: new PolicySet([policy('p', ['**'], { mode: 'warn', ...TOFU })]) }));
    expect(warn).toMatchObject({ allowed: true, decision: 'warn' });
    expect(warn.warnings[0]).toMatch(/container "app" image ".*unsigned:1" would be denied: TAG_NOT_SIGNED \(ClusterImagePolicy "p", mode warn\)/);
    const audit = await one(ctx({ policies: new PolicySet([policy('p', ['**'], { mode: 'audit', ...TOFU })]) }));
    expect(audit).toMatchObject({ allowed: true, decision: 'audit', warnings: [] });
    expect(audit.auditAnnotations.audit).toMatch(/TAG_NOT_SIGNED/);
    // kube-apiserver keeps "<webhook name>/<key>" only if that is a qualified name (one prefix,
    // a name of at most 63 of [A-Za-z0-9_.-]); test/security/audit-annotations.test.ts proves it.
    for (const key of Object.keys(audit.auditAnnotations)) expect(`validate.trustgate.dev/${key}`).toMatch(/^[a-z0-9.-]{1,253}\/[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/);
  });

  it('the denial names container, image, code and words, policy and fix', async () => {
    const d = await one(ctx());
    expect(d.message).toBe(
      `container "app" image "${image}": TAG_NOT_SIGNED: tag "1" of ${REG}/team/unsigned is not signed; required by ClusterImagePolicy "signed"; fix: sign this tag (docker trust sign IMAGE:TAG) or deploy a signed tag`,
    );
  });

  it('allow and deny actions need no trust data', async () => {
    expect(await one(ctx({ policies: new PolicySet([policy('ok', ['**'], { action: 'allow' })]) }))).toMatchObject({ allowed: true, patch: [] });
    expect((await one(ctx({ policies: new PolicySet([policy('no', ['**'], { action: 'deny' })]) }))).message).toMatch(/POLICY_DENIED/);
  });

  it('no matching cluster policy → the default action', async () => {
    const none = new PolicySet([policy('other', ['other.io/**'], TOFU)]);
    expect((await one(ctx({ policies: none }))).message).toMatch(/NO_POLICY: .*required by the default action/);
    expect(await one(ctx({ policies: none, defaultAction: 'allow' }))).toMatchObject({ allowed: true });
  });

  it('a namespace policy cannot admit what the cluster policy denies', async () => {
    const policies = new PolicySet([policy('signed', [`${REG}/**`], TOFU), policy('lenient', ['**'], { action: 'allow' }, 'team-a')]);
    expect((await one(ctx({ policies }))).allowed).toBe(false);
    // …nor does a namespace policy help where only the default action (deny) covers the image.
    const onlyLocal = new PolicySet([policy('lenient', ['**'], { action: 'allow' }, 'team-a')]);
    expect((await one(ctx({ policies: onlyLocal }))).allowed).toBe(false);
  });

  it('a refused policy denies the images it names, saying why; its namespace only', async () => {
    const refused = (images: unknown, mode?: string) =>
      refusedStandIn({ kind: 'ImagePolicy', name: 'broken', namespace: 'team-a', spec: { images, ...(mode && { mode }) } }, 'spec.trust: pins nothing', 'ImagePolicy/team-a/broken');
    const open = policy('open', ['**'], { action: 'allow' });
    const d = await one(ctx({ policies: new PolicySet([open, refused([`${REG}/team/**`])]) }));
    expect(d.message).toMatch(/POLICY_REFUSED: the policy covering registry.example.com\/team\/unsigned was refused \(spec.trust: pins nothing\); required by ImagePolicy "team-a\/broken"/);
    const elsewhere = await run(review('Pod', pod([{ name: 'app', image }]), { namespace: 'team-b' }), 'mutate', ctx({ policies: new PolicySet([open, refused([`${REG}/team/**`])]) }));
    expect(elsewhere.allowed).toBe(true);
    // Patterns it does not name are untouched; unreadable patterns cover the whole namespace.
    expect((await one(ctx({ policies: new PolicySet([open, refused(['other.io/**'])]) }))).allowed).toBe(true);
    expect((await one(ctx({ policies: new PolicySet([open, refused(['a//b'])]) }))).message).toMatch(/POLICY_REFUSED/);
    // In its own mode: a refused audit policy records, it does not deny.
    expect((await one(ctx({ policies: new PolicySet([open, refused([`${REG}/team/**`], 'audit')]) }))).allowed).toBe(true);
  });

  it('a namespace policy can add requirements', async () => {
    const policies = new PolicySet([policy('open', ['**'], { action: 'allow' }), policy('strict', [`${REG}/team/**`], TOFU, 'team-a')]);
    expect((await one(ctx({ policies }))).message).toMatch(/ImagePolicy "team-a\/strict"/);
    const elsewhere = await run(review('Pod', pod([{ name: 'app', image }]), { namespace: 'team-b' }), 'mutate', ctx({ policies }));
    expect(elsewhere.allowed).toBe(true);
  });

  it('mutate: false verifies without rewriting', async () => {
    const policies = new PolicySet([policy('signed', [`${REG}/**`], { mutate: false, ...TOFU })]);
    const d = await run(review('Pod', pod([{ name: 'app', image: `${REG}/team/app:1.0` }])), 'mutate', ctx({ policies }));
    expect(d.allowed).toBe(true);
    expect(d.patch.filter((p) => p.path.includes('/containers/'))).toEqual([]);
  });
});

describe('reviews the cache can answer entirely', () => {
  // The same review decided with nothing known (every image verified: promises, deadline),
  // with everything known (answered from what the verifier already holds, nothing started),
  // and with some images known. All must give the same decision, whatever the policies say.
  const signed = `${REG}/team/app:1.0`;
  const unsigned = `${REG}/team/unsigned:1`;
  const cases: [string, PolicySet, { name: string; image: string }[], string?][] = [
    ['signed, pinned', new PolicySet([policy('signed', [`${REG}/**`], TOFU)]), [{ name: 'app', image: signed }, { name: 'side', image: `${REG}/team/sidecar:2` }]],
    ['unsigned, denied', new PolicySet([policy('signed', [`${REG}/**`], TOFU)]), [{ name: 'app', image: signed }, { name: 'bad', image: unsigned }]],
    ['wrong digest', new PolicySet([policy('signed', [`${REG}/**`], TOFU)]), [{ name: 'app', image: `${signed}@${D2}` }]],
    ['warn', new PolicySet([policy('p', ['**'], { mode: 'warn', ...TOFU })]), [{ name: 'bad', image: unsigned }]],
    ['audit', new PolicySet([policy('p', ['**'], { mode: 'audit', ...TOFU })]), [{ name: 'bad', image: unsigned }]],
    ['namespace adds a requirement', new PolicySet([policy('open', ['**'], { action: 'allow' }), policy('strict', [`${REG}/team/**`], TOFU, 'team-a')]), [{ name: 'bad', image: unsigned }]],
    ['cluster and namespace both verify', new PolicySet([policy('signed', [`${REG}/**`], TOFU), policy('strict', [`${REG}/team/**`], TOFU, 'team-a')]), [{ name: 'app', image: signed }]],
    ['deny action and no policy', new PolicySet([policy('no', [`${REG}/team/unsigned`], { action: 'deny' })]), [{ name: 'a', image: unsigned }, { name: 'b', image: 'other.io/x:1' }]],
    ['invalid reference', new PolicySet([policy('signed', ['**'], TOFU)]), [{ name: 'app', image: 'UPPER/case:1' }]],
  ];
  it.each(cases)('%s', async (_name, policies, containers) => {
    const c = ctx({ policies });
    const body = review('Pod', pod(containers));
    const verifying = await run(body, 'mutate', c);
    const calls = c.verifier.calls.length;
    const cached = await run(body, 'mutate', c);
    expect(c.verifier.calls.length).toBe(calls);
    expect(cached).toEqual(verifying);
    // Mixed: the first container's image known from an earlier review, the others not.
    const mixed = ctx({ policies });
    await run(review('Pod', pod(containers.slice(0, 1))), 'mutate', mixed);
    expect(await run(body, 'mutate', mixed)).toEqual(verifying);
  });

  it('verifies only what the cache does not know', async () => {
    const c = ctx();
    await run(review('Pod', pod([{ name: 'app', image: signed }])), 'mutate', c);
    const d = await run(review('Pod', pod([{ name: 'app', image: signed }, { name: 'side', image: `${REG}/team/sidecar:2` }])), 'mutate', c);
    expect(c.verifier.calls).toEqual([signed, `${REG}/team/sidecar:2`]);
    expect(d.patch).toHaveLength(3);
    expect(d.allowed).toBe(true);
  });
});

describe('distinct images per object', () => {
  const containers = (images: string[]) => images.map((image, i) => ({ name: `c${i}`, image }));

  it('verifies up to 256 distinct images, and 6,000 containers of one image', async () => {
    const c = ctx();
    const at = await run(review('Pod', pod(containers(Array.from({ length: 256 }, (_, i) => `${REG}/team/app:t${i}`)))), 'mutate', c);
    expect(at.reasons).toEqual(['TAG_NOT_SIGNED']);
    expect(c.verifier.calls).toHaveLength(256);
    const same = await run(review('Pod', pod(containers(Array.from({ length: 6000 }, () => `${REG}/team/app:1.0`)))));
    expect(same).toMatchObject({ allowed: true, decision: 'allow' });
  });

  it('refuses a 257th distinct image with TOO_MANY_IMAGES, before any lookup', async () => {
    const c = ctx();
    const d = await run(review('Pod', pod(containers(Array.from({ length: 257 }, (_, i) => `${REG}/team/app:t${i}`)))), 'mutate', c);
    expect(d).toMatchObject({ allowed: false, decision: 'deny', reasons: ['TOO_MANY_IMAGES'] });
    expect(d.message).toMatch(/Pod names 257 distinct images; trustgate verifies at most 256/);
    expect(c.verifier.calls).toEqual([]);
  });
});
