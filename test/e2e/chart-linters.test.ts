// Independent linters over what the chart renders — kube-score (github.com/zegl/kube-score) and
// checkov's Kubernetes checks — built by scripts/build-lint-tools.sh. Every finding must be fixed
// or listed below with the reason it is accepted; a listed finding that no longer appears fails
// too, so the list never carries a stale excuse. Rendered as a release renders it: image pinned
// by digest (scripts/pin-chart-image.sh), everything else default.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { controlPlaneBinaries } from '../support/control-plane.js';
import { run, runOk } from '../support/processes.js';

/** Accepted findings: `check: why`. */
const KUBE_SCORE_ACCEPTED: Record<string, string> = {
  'container-resources: CPU limit is not set':
    'a CPU limit throttles the webhook mid-review (CFS quota) and turns load into TIMEOUT denials; the request reserves its share (values.yaml resources)',
  'container-image-pull-policy: ImagePullPolicy is not set to Always':
    'the image is pinned by digest: IfNotPresent can only ever run those bytes, and Always would make every restart depend on the registry',
  'pod-networkpolicy: The pod does not have a matching NetworkPolicy':
    'off by default by choice (values.yaml networkPolicy, docs/operations.md "Network policy"): where the API server connects from differs per cluster; webhook.clientAuth authenticates it instead',
  'deployment-has-host-podantiaffinity: Deployment does not have a host podAntiAffinity set':
    'replicas are kept off one node by a topologySpreadConstraint on kubernetes.io/hostname with DoNotSchedule, which kube-score does not read (docs/operations.md "High availability" says why not anti-affinity)',
};

const CHECKOV_ACCEPTED: Record<string, string> = {
  'CKV_K8S_11 CPU limits should be set': 'as kube-score container-resources above',
  'CKV_K8S_38 Ensure that Service Account Tokens are only mounted where necessary':
    'trustgate reads its policies, pull secrets and writes Events through the API server with this token (rbac.yaml grants only that)',
  'CKV2_K8S_6 Minimize the admission of pods which lack an associated NetworkPolicy': 'as kube-score pod-networkpolicy above',
};

let rendered: string;
let tools: Record<string, string>;

beforeAll(async () => {
  const out = execFileSync('bash', [path.resolve('scripts/build-lint-tools.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 3_600_000 });
  tools = Object.fromEntries(out.trim().split('\n').map((line) => line.split('=', 2) as [string, string]));
  const yaml = await runOk(path.join(controlPlaneBinaries(), 'helm'), ['template', 'trustgate', 'charts/trustgate', '--namespace', 'trustgate', '--kube-version', '1.37.2', '--set', `image.digest=sha256:${'a'.repeat(64)}`]);
  rendered = path.join(mkdtempSync(path.join(os.tmpdir(), 'trustgate-lint-')), 'trustgate.yaml');
  writeFileSync(rendered, yaml);
});

it('kube-score finds nothing beyond the accepted findings', async () => {
  const r = await run(tools['kube-score']!, ['score', '--output-format', 'json', rendered]);
  const report = JSON.parse(r.stdout) as { object_name: string; checks: { check: { id: string }; grade: number; skipped: boolean; comments: { summary: string }[] | null }[] }[];
  const findings = new Set<string>();
  for (const object of report) {
    for (const c of object.checks) {
      // Grades: 1 critical, 5 warning, 10 ok (kube-score's scorecard.Grade).
      if (c.skipped || c.grade >= 10) continue;
      for (const comment of c.comments ?? []) findings.add(`${c.check.id}: ${comment.summary}`);
    }
  }
  expect([...findings].sort()).toEqual(Object.keys(KUBE_SCORE_ACCEPTED).sort());
});

it('checkov finds nothing beyond the accepted findings', async () => {
  // --skip-download: no call to the vendor's platform for guidelines (the test runs offline).
  const r = await run(tools.checkov!, ['-f', rendered, '--framework', 'kubernetes', '--quiet', '--compact', '-o', 'json', '--skip-download'], { timeoutMs: 300_000 });
  const report = JSON.parse(r.stdout) as { results: { failed_checks: { check_id: string; check_name: string }[] } };
  const findings = new Set(report.results.failed_checks.map((f) => `${f.check_id} ${f.check_name}`));
  expect([...findings].sort()).toEqual(Object.keys(CHECKOV_ACCEPTED).sort());
});
