// `trustgate pin`: only the image scalars change; comments, key order, quoting and layout are
// kept byte for byte; nothing is written when any image would be denied.
import { chmodSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { formatPinned, parseReference } from '../../../src/reference/index.js';
import { ScriptedVerifier } from '../../support/fake-verifier.js';
import { policyFile, runCli, tempFiles } from '../../support/check-cli.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const verifier = () => new ScriptedVerifier({ 'registry.test/team/app:1.0': A, 'registry.test/team/init:latest': B, 'registry.test/team/data:3': B });

const MANIFESTS = `# Deployed by Argo CD: keep this comment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # trailing comment
  annotations: {owner: "team"}
spec:
  template:
    spec:
      initContainers:
        - name: init
          image: 'registry.test/team/init'   # single-quoted, no tag
      containers:
        # the app itself
        - name: app
          image: registry.test/team/app:1.0 # plain
          args: ["--port",   "8080"]
        - {name: pinned, image: "registry.test/team/app:1.0@${A}"}
      volumes:
        - name: data
          image:
            reference: "registry.test/team/data:3"
---
# a second document
apiVersion: v1
kind: ConfigMap
metadata:
  name: untouched
data:
  image: registry.test/team/app:1.0
`;

function pinnedOf(image: string, digest: string): string {
  return formatPinned(parseReference(image), digest);
}

describe('trustgate pin', () => {
  it('rewrites every verified image in its own quoting style, and not one other byte', async () => {
    const dir = tempFiles({ 'web.yaml': MANIFESTS });
    const r = await runCli(['pin', '-f', path.join(dir, 'web.yaml'), '--policies', policyFile(dir, ['registry.test/**'])], { verifier: verifier() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const expected = MANIFESTS
      .replace("'registry.test/team/init'", `'${pinnedOf('registry.test/team/init', B)}'`)
      .replace('image: registry.test/team/app:1.0 # plain', `image: ${pinnedOf('registry.test/team/app:1.0', A)} # plain`)
      .replace('"registry.test/team/data:3"', `"${pinnedOf('registry.test/team/data:3', B)}"`);
    expect(`${r.stdout}\n`).toBe(expected);
    expect(expected).toContain(`'registry.test/team/init:latest@${B}'`);
    // Only the lines of the three images differ; the ConfigMap's `image:` key is no image.
    const before = MANIFESTS.split('\n');
    const changed = `${r.stdout}\n`.split('\n').map((line, i) => (line === before[i] ? undefined : i + 1)).filter((n) => n !== undefined);
    expect(changed).toEqual([12, 16, 22]);
  });

  it('pins JSON in place of its strings, keeping its layout', async () => {
    const json = '{\n  "apiVersion": "v1",\n  "kind": "Pod",\n  "metadata": { "name": "p" },\n  "spec": {"containers": [ {"name": "c", "image": "registry.test/team/app:1.0"} ]}\n}\n';
    const r = await runCli(['pin', '-f', '-', '--policies', policyFile(tempFiles({}), ['registry.test/**'])], { verifier: verifier(), stdin: json });
    expect(r.code).toBe(0);
    expect(`${r.stdout}\n`).toBe(json.replace('"registry.test/team/app:1.0"', `"registry.test/team/app:1.0@${A}"`));
  });

  it('refuses, writing nothing, when any image would be denied', async () => {
    const text = MANIFESTS.replace('registry.test/team/data:3', 'registry.test/team/unsigned:1');
    const dir = tempFiles({ 'web.yaml': text });
    const file = path.join(dir, 'web.yaml');
    const r = await runCli(['pin', '-f', file, '--policies', policyFile(dir, ['registry.test/**']), '--in-place'], { verifier: verifier() });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('volume "data" image "registry.test/team/unsigned:1": TAG_NOT_SIGNED');
    expect(r.stderr).toContain('nothing written');
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('--in-place replaces the file atomically, keeping its mode and leaving no temporary file', async () => {
    const dir = tempFiles({ 'web.yaml': MANIFESTS });
    const file = path.join(dir, 'web.yaml');
    chmodSync(file, 0o640);
    const policies = policyFile(dir, ['registry.test/**']);
    const r = await runCli(['pin', '-f', file, '--policies', policies, '--in-place'], { verifier: verifier() });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(readFileSync(file, 'utf8')).toContain(`image: registry.test/team/app:1.0@${A} # plain`);
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir).sort()).toEqual(['policies.yaml', 'web.yaml']);
    // Pinning a pinned file changes nothing: GitOps sees no drift.
    const again = readFileSync(file, 'utf8');
    expect((await runCli(['pin', '-f', file, '--policies', policies, '--in-place'], { verifier: verifier() })).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(again);
  });

  it('refuses an image written as an alias or a block scalar rather than rewriting around it', async () => {
    const policies = policyFile(tempFiles({}), ['registry.test/**']);
    const alias = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {img: &img registry.test/team/app:1.0}}\nspec: {containers: [{name: c, image: *img}]}\n';
    const r1 = await runCli(['pin', '-f', '-', '--policies', policies], { verifier: verifier(), stdin: alias });
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain('stdin:4: the image is a YAML alias');
    const block = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: >-\n        registry.test/team/app:1.0\n';
    const r2 = await runCli(['pin', '-f', '-', '--policies', policies], { verifier: verifier(), stdin: block });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('block scalar');
  });

  it('takes one file, and --in-place only with a file', async () => {
    const policies = policyFile(tempFiles({}), ['registry.test/**']);
    expect((await runCli(['pin', '-f', '-', '--in-place', '--policies', policies])).stderr).toContain('--in-place needs a file');
    expect((await runCli(['pin', '-f', 'a', '-f', 'b', '--policies', policies])).stderr).toContain('pin takes one -f');
  });
});
