// A pull request's manifest that `trustgate check` passes while kubectl applies another image
// (docs/ci.md: check must decide what the webhook will see). kubectl reads YAML with go-yaml v2
// (sigs.k8s.io/yaml), which resolves the YAML 1.1 merge key `<<` by decoding the merged mapping
// over the keys already read: a `<<` after `image:` replaces the image. The YAML 1.2 reading
// keeps `<<` as a plain key, and the YAML 1.1 reading (a `!!merge` tag) lets the explicit
// key win, as the merge-key spec says (yaml.org/type/merge.html): either way check decides an
// image kubectl never sends. The real kubectl of the control plane's binaries shows what it reads.
import path from 'node:path';
import { controlPlaneBinaries } from '../support/control-plane.js';
import { runOk } from '../support/processes.js';
import { ScriptedVerifier } from '../support/fake-verifier.js';
import { policyFile, runCli, tempFiles } from '../support/check-cli.js';

const SIGNED = `sha256:${'a'.repeat(64)}`;
const POLICIES = policyFile(tempFiles({}), ['registry.test/**']);
const verifier = () => new ScriptedVerifier({ 'registry.test/team/app:signed': SIGNED });

const pod = (container: string) => `apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
${container}`;

/** The same trick in every spelling the YAML readers treat differently. */
const MANIFESTS: Record<string, string> = {
  'a plain << after the image': pod(`  - name: app
    image: registry.test/team/app:signed
    <<: {image: registry.test/team/app:unsigned}
`),
  'an anchored mapping merged after the image': `x-base: &unsigned {image: registry.test/team/app:unsigned}
${pod(`  - name: app
    image: registry.test/team/app:signed
    <<: *unsigned
`)}`,
  'a sequence of mappings merged after the image': pod(`  - name: app
    image: registry.test/team/app:signed
    <<: [{image: registry.test/team/app:unsigned}]
`),
  'an explicit !!merge tag, where the yaml package merges as the spec says': pod(`  - name: app
    image: registry.test/team/app:signed
    !!merge <<: {image: registry.test/team/app:unsigned}
`),
  'the kind itself merged: check would skip a ConfigMap': `apiVersion: v1
kind: ConfigMap
<<: {kind: Pod}
metadata: {name: web}
spec:
  containers:
  - {name: app, image: registry.test/team/app:unsigned}
`,
};

let kubectl: string;
beforeAll(() => {
  kubectl = path.join(controlPlaneBinaries(), 'kubectl');
});

describe.each(Object.entries(MANIFESTS))('a YAML merge key: %s', (_name, manifest) => {
  it('kubectl applies the unsigned image, and check does not pass it', async () => {
    const dir = tempFiles({ 'pod.yaml': manifest });
    const file = path.join(dir, 'pod.yaml');
    // What kubectl would send to the API server (read locally: no cluster needed to read YAML).
    const sent = await runOk(kubectl, ['label', '--local', '-f', file, 'x=y', '-o', 'jsonpath={.kind} {.spec.containers[0].image}']);
    expect(sent.trim()).toBe('Pod registry.test/team/app:unsigned');

    const r = await runCli(['check', '-f', file, '--policies', POLICIES], { verifier: verifier() });
    // Refused (an input error) or denied; never "all would be admitted".
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toMatch(/all would be admitted/);

    // And pin never writes a pin kubectl would not read.
    const pinned = await runCli(['pin', '-f', file, '--policies', POLICIES], { verifier: verifier() });
    expect(pinned.code).not.toBe(0);
  });
});

it('a "<<" key written quoted is a plain key to kubectl too: no merge, the signed image is what both read', async () => {
  const manifest = pod(`  - name: app
    image: registry.test/team/app:signed
    "<<": {image: registry.test/team/app:unsigned}
`);
  const dir = tempFiles({ 'pod.yaml': manifest });
  const file = path.join(dir, 'pod.yaml');
  const sent = await runOk(kubectl, ['label', '--local', '-f', file, 'x=y', '-o', 'jsonpath={.spec.containers[0].image}']);
  expect(sent.trim()).toBe('registry.test/team/app:signed');
  const r = await runCli(['check', '-f', file, '--policies', POLICIES], { verifier: verifier() });
  expect(r.code).toBe(0);
});

it('the refusal names the file and line of the merge key, as an input error', async () => {
  const dir = tempFiles({ 'pod.yaml': MANIFESTS['a plain << after the image']! });
  const r = await runCli(['check', '-f', path.join(dir, 'pod.yaml'), '--policies', POLICIES], { verifier: verifier() });
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/pod\.yaml: document 1, line 8: a YAML merge key \(<<\)/);
});
