// `trustgate check`: the webhook's decision for manifests, in text, JSON and SARIF, and its exit codes.
import path from 'node:path';
import { ScriptedVerifier } from '../../support/fake-verifier.js';
import { policyFile, runCli, tempFiles } from '../../support/check-cli.js';

const SIGNED = `sha256:${'a'.repeat(64)}`;
const verifier = () => new ScriptedVerifier({ 'registry.test/team/app:1.0': SIGNED, 'registry.test/team/sidecar:2': SIGNED });

const DEPLOYMENT = `# the web tier
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      containers:
        - name: app
          image: registry.test/team/app:1.0
        - name: tool
          image: registry.test/team/unsigned:1
`;

function setup(files: Record<string, string>): { dir: string; policies: string } {
  const dir = tempFiles(files);
  return { dir, policies: policyFile(dir, ['registry.test/**']) };
}

describe('trustgate check', () => {
  it('exits 0 when every image would be admitted, and says so', async () => {
    const { dir, policies } = setup({ 'pod.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - {name: app, image: registry.test/team/app:1.0}\n' });
    const r = await runCli(['check', '-f', path.join(dir, 'pod.yaml'), '--policies', policies], { verifier: verifier() });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('1 objects, 1 images checked: all would be admitted (namespaces decided as if labelled trustgate.dev/enforce=true)');
  });

  it('exits 1 with one line per finding, at the image field\'s line, in the words of the webhook\'s denial', async () => {
    const { dir, policies } = setup({ 'web.yaml': DEPLOYMENT });
    const file = path.join(dir, 'web.yaml');
    const r = await runCli(['check', '-f', file, '--policies', policies], { verifier: verifier() });
    expect(r.code).toBe(1);
    const [finding, summary] = r.stdout.split('\n');
    expect(finding).toBe(`${file}:14: deny: Deployment/web: container "tool" image "registry.test/team/unsigned:1": TAG_NOT_SIGNED: tag "1" of registry.test/team/unsigned is not signed; required by ClusterImagePolicy "signed"; fix: sign this tag (docker trust sign IMAGE:TAG) or deploy a signed tag`);
    expect(summary).toMatch(/^1 objects, 2 images checked: 1 would be denied/);
  });

  it('reads a directory of manifests, naming each finding\'s file and line (the docs\' first example)', async () => {
    const dir = tempFiles({ 'web.yaml': DEPLOYMENT, 'ok.yml': 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: registry.test/team/app:1.0}]}\n', 'README.md': '# not read' });
    const policies = policyFile(dir, ['registry.test/**']);
    const r = await runCli(['check', '-f', dir, '--policies', policies], { verifier: verifier() });
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')).toEqual([expect.stringMatching(/web\.yaml:14: deny: Deployment\/web: container "tool"/) as unknown, expect.stringMatching(/^2 objects, 3 images checked: 1 would be denied/) as unknown]);
  });

  it('denies images no policy covers with the default action, unless --default-action allow', async () => {
    const { dir, policies } = setup({ 'p.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: other.test/x:1}]}\n' });
    const deny = await runCli(['check', '-f', path.join(dir, 'p.yaml'), '--policies', policies], { verifier: verifier() });
    expect(deny.code).toBe(1);
    expect(deny.stdout).toContain('NO_POLICY');
    const allow = await runCli(['check', '-f', path.join(dir, 'p.yaml'), '--policies', policies, '--default-action', 'allow'], { verifier: verifier() });
    expect(allow.code).toBe(0);
  });

  it('reads Helm output on stdin, skips kinds the webhook does not review, and uses --namespace for objects that name none', async () => {
    const { dir } = setup({});
    const nsPolicy = path.join(dir, 'ns.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(nsPolicy, 'apiVersion: trustgate.dev/v1alpha1\nkind: ClusterImagePolicy\nmetadata: {name: all}\nspec: {images: ["**"], action: allow}\n---\napiVersion: trustgate.dev/v1alpha1\nkind: ImagePolicy\nmetadata: {name: strict, namespace: team}\nspec:\n  images: ["registry.test/**"]\n  trust: {trustOnFirstUse: true}\n');
    const stdin = '---\n# Source: chart/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\n# Source: chart/templates/pod.yaml\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: registry.test/team/unsigned:1}]}\n';
    const inTeam = await runCli(['check', '-f', '-', '--policies', nsPolicy, '--namespace', 'team', '--output', 'json'], { verifier: verifier(), stdin });
    expect(inTeam.code).toBe(1);
    const json = JSON.parse(inTeam.stdout) as { objects: { kind: string; reviewed: boolean; namespace: string; decision: string }[] };
    expect(json.objects.map((o) => [o.kind, o.reviewed, o.namespace, o.decision])).toEqual([['Service', false, 'team', 'skip'], ['Pod', true, 'team', 'deny']]);
    const elsewhere = await runCli(['check', '-f', '-', '--policies', nsPolicy], { verifier: verifier(), stdin });
    expect(elsewhere.code).toBe(0);
  });

  it('prints JSON with every object and container: decision, code, message and the pinned reference', async () => {
    const { dir, policies } = setup({ 'web.yaml': DEPLOYMENT });
    const r = await runCli(['check', '-f', path.join(dir, 'web.yaml'), '--policies', policies, '--output', 'json'], { verifier: verifier() });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      admitted: false,
      objects: [{
        kind: 'Deployment', name: 'web', namespace: 'shop', document: 1, decision: 'deny', allowed: false,
        containers: [
          { name: 'app', image: 'registry.test/team/app:1.0', line: 12, decision: 'allow', code: null, pinned: `registry.test/team/app:1.0@${SIGNED}`, verifiedBy: ['notary'] },
          { name: 'tool', image: 'registry.test/team/unsigned:1', line: 14, decision: 'deny', code: 'TAG_NOT_SIGNED', message: 'tag "1" of registry.test/team/unsigned is not signed', pinned: null },
        ],
      }],
    });
  });

  it('prints SARIF 2.1.0: a rule per code with its fix, a result per finding at the image\'s line', async () => {
    const { dir, policies } = setup({ 'web.yaml': DEPLOYMENT });
    const r = await runCli(['check', '-f', dir, '--policies', policies, '--output', 'sarif'], { verifier: verifier() });
    expect(r.code).toBe(1);
    const sarif = JSON.parse(r.stdout) as { version: string; runs: { tool: { driver: { rules: { id: string; help: { text: string } }[] } }; results: { ruleId: string; level: string; locations: { physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string }; region: { startLine: number } } }[] }[] }[] };
    expect(sarif.version).toBe('2.1.0');
    const run = sarif.runs[0]!;
    expect(run.tool.driver.rules).toEqual([expect.objectContaining({ id: 'TAG_NOT_SIGNED', help: { text: 'sign this tag (docker trust sign IMAGE:TAG) or deploy a signed tag' } })]);
    expect(run.results).toEqual([expect.objectContaining({ ruleId: 'TAG_NOT_SIGNED', level: 'error', locations: [{ physicalLocation: { artifactLocation: { uri: `file://${path.join(dir, 'web.yaml')}` }, region: { startLine: 14 } } }] })]);
    // A path relative to the checkout is given relative to %SRCROOT%, where code scanning looks.
    const relative = path.relative(process.cwd(), path.join(dir, 'web.yaml'));
    const again = JSON.parse((await runCli(['check', '-f', relative, '--policies', policies, '--output', 'sarif'], { verifier: verifier() })).stdout) as typeof sarif;
    expect(again.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation).toEqual({ uri: relative, uriBaseId: '%SRCROOT%' });
  });

  it('reports warn- and audit-mode findings without failing', async () => {
    const dir = tempFiles({ 'p.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: registry.test/team/unsigned:1}]}\n' });
    const policies = policyFile(dir, ['registry.test/**'], '  mode: warn\n');
    const r = await runCli(['check', '-f', path.join(dir, 'p.yaml'), '--policies', policies], { verifier: verifier() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/p\.yaml:4: warn: Pod\/p: container "c" image "registry.test\/team\/unsigned:1": TAG_NOT_SIGNED/);
  });

  it('exits 2 for usage errors and malformed input, with no stack trace', async () => {
    const { dir, policies } = setup({ 'bad.yaml': 'apiVersion: v1\nkind: Pod\nspec: [\n' });
    const cases = [
      ['check', '--policies', policies],
      ['check', '-f', path.join(dir, 'bad.yaml')],
      ['check', '-f', path.join(dir, 'bad.yaml'), '--policies', policies, '--kubeconfig', 'k'],
      ['check', '-f', path.join(dir, 'bad.yaml'), '--policies', policies, '--output', 'xml'],
      ['check', '-f', path.join(dir, 'bad.yaml'), '--policies', policies],
      ['check', '-f', path.join(dir, 'bad.yaml'), '--policies', path.join(dir, 'missing.yaml')],
      ['check', '-f', path.join(dir, 'bad.yaml'), '--policies', policies, '--bogus'],
    ];
    for (const args of cases) {
      const r = await runCli(args, { verifier: verifier() });
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(/^trustgate: USAGE: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    const bad = await runCli(cases[4]!, { verifier: verifier() });
    expect(bad.stderr).toMatch(/bad\.yaml: document 1, line \d+: not valid YAML/);
  });

  it('decides a malformed pod spec as the webhook does: denied, at the object', async () => {
    const { dir, policies } = setup({ 'm.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: {name: m}\nspec: {containers: [{name: c, image: 42}]}\n' });
    const r = await runCli(['check', '-f', path.join(dir, 'm.yaml'), '--policies', policies], { verifier: verifier() });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('m.yaml:1: deny: Pod/m: malformed Pod: /spec/containers/0/image is missing');
  });
});
