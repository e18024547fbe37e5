// Reading manifests for check and pin: every reviewed kind, Lists, multi-document streams,
// the line of each image field, and input errors that name file, document and line.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { containerImages } from '../../../src/admission/index.js';
import { lineOfField, manifestFiles, parseManifests, readSources } from '../../../cmd/cli/manifests.js';
import { UsageError } from '../../../cmd/cli/errors.js';
import { tempFiles } from '../../support/check-cli.js';

const podSpec = (indent: string) =>
  [`${indent}initContainers:`, `${indent}  - name: init`, `${indent}    image: init:1`, `${indent}containers:`, `${indent}  - name: app`, `${indent}    image: app:1`, `${indent}volumes:`, `${indent}  - name: data`, `${indent}    image:`, `${indent}      reference: data:1`].join('\n');

const KINDS: [string, string, string][] = [
  ['v1', 'Pod', `spec:\n${podSpec('  ')}`],
  ['apps/v1', 'Deployment', `spec:\n  template:\n    spec:\n${podSpec('      ')}`],
  ['apps/v1', 'ReplicaSet', `spec:\n  template:\n    spec:\n${podSpec('      ')}`],
  ['apps/v1', 'StatefulSet', `spec:\n  template:\n    spec:\n${podSpec('      ')}`],
  ['apps/v1', 'DaemonSet', `spec:\n  template:\n    spec:\n${podSpec('      ')}`],
  ['batch/v1', 'Job', `spec:\n  template:\n    spec:\n${podSpec('      ')}`],
  ['v1', 'ReplicationController', `spec:\n  template:\n    spec:\n${podSpec('      ')}`],
  ['batch/v1', 'CronJob', `spec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n${podSpec('          ')}`],
];

describe('parseManifests', () => {
  it.each(KINDS)('%s %s: the object, and the line of every image field', (apiVersion, kind, body) => {
    const text = `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: x\n${body}\n`;
    const [m] = parseManifests({ file: 'a.yaml', text });
    expect(m).toMatchObject({ kind, apiVersion, name: 'x', document: 1, line: 1 });
    const images = containerImages(kind, m!.object);
    expect(images.map((i) => i.image)).toEqual(['init:1', 'app:1', 'data:1']);
    const lines = text.split('\n');
    for (const image of images) expect(lines[lineOfField(m!, image.pointer) - 1]).toContain(image.image);
  });

  it('reads every document of a stream, skipping empty ones, and counts documents from 1', () => {
    const text = '---\n# nothing\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, image: "x:1"}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\n';
    const ms = parseManifests({ file: 'a.yaml', text });
    expect(ms.map((m) => [m.kind, m.document, m.line])).toEqual([['Pod', 2, 4], ['Service', 3, 9]]);
  });

  it('expands List and *List objects, and finds the lines of their items\' images', () => {
    const text = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: 'v1', kind: 'PodList', items: [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x:1' }] } }] },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { spec: { containers: [{ name: 'c', image: 'y:1' }] } } } },
    ] }, null, 2);
    const ms = parseManifests({ file: 'list.json', text });
    expect(ms.map((m) => [m.kind, m.name, m.path])).toEqual([['Pod', 'p', ['items', 0, 'items', 0]], ['Deployment', 'd', ['items', 1]]]);
    const lines = text.split('\n');
    expect(lines[lineOfField(ms[1]!, '/spec/template/spec/containers/0/image') - 1]).toContain('"y:1"');
  });

  it('reads JSON as well as YAML', () => {
    const [m] = parseManifests({ file: 'p.json', text: '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"j"},"spec":{"containers":[{"name":"c","image":"x:1"}]}}' });
    expect(m?.name).toBe('j');
  });

  it('names file, document and line of malformed YAML', () => {
    const text = 'apiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n';
    expect(() => parseManifests({ file: 'bad.yaml', text })).toThrow(UsageError);
    expect(() => parseManifests({ file: 'bad.yaml', text })).toThrow(/^bad\.yaml: document 2, line \d+: not valid YAML: /);
  });

  it('refuses a document that is not a Kubernetes object, naming where', () => {
    expect(() => parseManifests({ file: 'x.yaml', text: 'apiVersion: v1\nkind: Pod\n---\n- just\n- a list\n' })).toThrow('x.yaml: document 2, line 4: not a Kubernetes object (no kind)');
  });

  it('refuses duplicate keys, as kubectl does', () => {
    expect(() => parseManifests({ file: 'd.yaml', text: 'kind: Pod\nkind: Deployment\n' })).toThrow(/d\.yaml: document 1, line \d: not valid YAML/);
  });
});

describe('readSources', () => {
  it('reads a directory\'s *.yaml, *.yml and *.json, sorted, recursively, skipping hidden files and other names', () => {
    const dir = tempFiles({ 'b.yaml': 'kind: Pod\n', 'a.yml': 'kind: Pod\n', 'c.json': '{}', 'notes.txt': 'x', '.hidden.yaml': 'x' });
    mkdirSync(path.join(dir, 'sub'));
    writeFileSync(path.join(dir, 'sub', 'd.yaml'), 'kind: Pod\n');
    expect(manifestFiles(dir).map((f) => path.relative(dir, f))).toEqual(['a.yml', 'b.yaml', 'c.json', path.join('sub', 'd.yaml')]);
  });

  it('follows a symlink only when it stays inside the directory', () => {
    const outside = tempFiles({ 'secret.yaml': 'kind: Secret\n' });
    const dir = tempFiles({ 'a.yaml': 'kind: Pod\n' });
    symlinkSync(path.join(outside, 'secret.yaml'), path.join(dir, 'out.yaml'));
    symlinkSync(outside, path.join(dir, 'outdir'));
    symlinkSync(path.join(dir, 'a.yaml'), path.join(dir, 'in.yaml'));
    expect(manifestFiles(dir).map((f) => path.basename(f))).toEqual(['a.yaml', 'in.yaml']);
  });

  it('reads stdin for -, once', async () => {
    expect(await readSources(['-'], () => Promise.resolve('kind: Pod\n'))).toEqual([{ file: '-', text: 'kind: Pod\n' }]);
    await expect(readSources(['-', '-'], () => Promise.resolve(''))).rejects.toThrow('-f - (stdin) may be given once');
  });

  it('names a missing file', async () => {
    await expect(readSources(['/nonexistent/x.yaml'], () => Promise.resolve(''))).rejects.toThrow('-f: cannot read /nonexistent/x.yaml: ENOENT');
  });
});
