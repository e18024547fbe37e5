// deploy/trustgate.yaml is applied whole by `kubectl apply -f`: every YAML document in it must be
// exactly one object, and every CRD of the chart must be its own document. Two CRDs run together
// without `---` are one document with duplicate keys, of which kubectl keeps the last: the first
// CRD is never created and every ClusterImagePolicy then fails with "no matches for kind".
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

const docs = parseAllDocuments(readFileSync('deploy/trustgate.yaml', 'utf8'));
const objects = docs.map((d) => d.toJS() as { apiVersion?: string; kind?: string; metadata?: { name?: string } } | null).filter((o) => o !== null);

it('has one object per YAML document, with no duplicate keys', () => {
  expect(docs.flatMap((d) => d.errors.map((e) => e.message))).toEqual([]);
  for (const o of objects) {
    expect(typeof o.apiVersion).toBe('string');
    expect(typeof o.kind).toBe('string');
  }
});

it('holds every CRD of the chart, each as a document of its own', () => {
  const nameOf = (dir: string, f: string) => (parseAllDocuments(readFileSync(path.join(dir, f), 'utf8'))[0]!.toJS() as { metadata: { name: string } }).metadata.name;
  // The chart's own CRDs (crds/), and the wgpolicyk8s.io report CRDs of the audit (files/,
  // rendered by templates/policyreport-crds.yaml: `helm template` always renders them).
  const crds = [...readdirSync('charts/trustgate/crds').map((f) => nameOf('charts/trustgate/crds', f)), ...readdirSync('charts/trustgate/files').filter((f) => f.startsWith('wgpolicyk8s.io_')).map((f) => nameOf('charts/trustgate/files', f))];
  expect(crds.length).toBeGreaterThanOrEqual(2);
  const deployed = objects.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata?.name);
  expect(deployed.sort()).toEqual(crds.sort());
});
