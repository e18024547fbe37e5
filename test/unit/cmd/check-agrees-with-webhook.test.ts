// check and pin give the webhook's answer: for every reviewed kind, the AdmissionReview the API
// server would send goes through decide() as /mutate, and the same object goes through check
// (decision and message) and pin (the images /mutate's patch writes).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { decide, parseReview } from '../../../src/admission/index.js';
import { loadPolicyFiles } from '../../../src/policy/index.js';
import { ScriptedVerifier } from '../../support/fake-verifier.js';
import { policyFile, runCli, tempFiles } from '../../support/check-cli.js';
import { applyPatch, review, workload } from '../../support/reviews.js';

const A = `sha256:${'a'.repeat(64)}`;
const script = { 'registry.test/team/app:1.0': A, 'registry.test/team/init:2': A, 'registry.test/team/data:3': A };
const KINDS = ['Pod', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicationController'];
const dir = tempFiles({});
const policies = policyFile(dir, ['registry.test/**']);

const spec = (app: string) => ({
  initContainers: [{ name: 'init', image: 'registry.test/team/init:2' }],
  containers: [{ name: 'app', image: app }],
  volumes: [{ name: 'data', image: { reference: 'registry.test/team/data:3' } }],
});

async function webhook(object: Record<string, unknown>) {
  const request = parseReview(review(String(object.kind), object));
  return decide(request, 'mutate', {
    policies: loadPolicyFiles([policies], '/').set,
    verifier: new ScriptedVerifier(script),
    defaultAction: 'deny',
    mutateWorkloads: true,
    deadlineMs: 5000,
    credentialsFor: () => undefined,
  });
}

describe.each(KINDS)('%s: check and pin agree with the webhook', (kind) => {
  it.each([['signed', 'registry.test/team/app:1.0'], ['unsigned', 'registry.test/team/unsigned:1']])('%s', async (_what, app) => {
    const object = workload(kind, 'web', spec(app));
    const decision = await webhook(object);
    const file = path.join(dir, `${kind}-${_what}.json`);
    writeFileSync(file, JSON.stringify(object, null, 2));
    const checked = await runCli(['check', '-f', file, '--policies', policies, '--output', 'json'], { verifier: new ScriptedVerifier(script) });
    expect(checked.code).toBe(decision.allowed ? 0 : 1);
    const [result] = (JSON.parse(checked.stdout) as { objects: { decision: string; message: string; namespace: string }[] }).objects;
    expect(result).toMatchObject({ decision: decision.decision, message: decision.message, namespace: 'team-a' });
    const pinned = await runCli(['pin', '-f', file, '--policies', policies], { verifier: new ScriptedVerifier(script) });
    expect(pinned.code).toBe(decision.allowed ? 0 : 1);
    if (!decision.allowed) return;
    // pin's object is the webhook's with its image replacements applied, and nothing else: the
    // annotations /mutate adds describe an admission, not the manifest.
    const replacements = decision.patch.filter((op) => op.op === 'replace');
    expect(replacements).toHaveLength(3);
    expect(parseYaml(pinned.stdout)).toEqual(applyPatch(object, replacements));
  });
});
