// Findings as the Kubernetes policy working group's reports (wgpolicyk8s.io/v1alpha2,
// kubernetes-sigs/wg-policy-prototypes policy-report/crd/v1alpha2, the format Kyverno writes and
// Policy Reporter shows): PolicyReport objects in each audited namespace, one result per
// container image, and one ClusterPolicyReport with a result per namespace.
//
// Splitting: an object must stay well under the API server's request limit (3 MiB, and etcd's
// 1.5 MiB default value limit), so a namespace's results go into as many objects as needed,
// `trustgate-audit-0`, `trustgate-audit-1`, …, each holding at most `maxResults` results and
// `maxBytes` of JSON, sorted worst first so the first object holds the failures.
import { createHash } from 'node:crypto';
import { STATUS_ORDER, type AuditStatus, type Finding } from './findings.js';

export const REPORT_API_VERSION = 'wgpolicyk8s.io/v1alpha2';
export const REPORT_SOURCE = 'trustgate';
/** Labels every report trustgate writes carries: the ones it lists, replaces and deletes. */
export const REPORT_LABELS: Readonly<Record<string, string>> = Object.freeze({ 'app.kubernetes.io/managed-by': 'trustgate', 'trustgate.dev/report': 'audit' });
export const REPORT_PREFIX = 'trustgate-audit';
export const CLUSTER_REPORT_NAME = 'trustgate-audit';

export interface ReportBounds {
  /** Results per report object. */
  readonly maxResults: number;
  /** Bytes of JSON per report object. */
  readonly maxBytes: number;
}

/** 200 results of at most ~3 KiB each: ~600 KiB, under etcd's 1.5 MiB value limit with room to spare. */
export const DEFAULT_REPORT_BOUNDS: ReportBounds = Object.freeze({ maxResults: 200, maxBytes: 768 * 1024 });

export interface Summary {
  pass: number;
  fail: number;
  warn: number;
  error: number;
  skip: number;
}

/** wgpolicyk8s.io PolicyReportResult (the fields trustgate fills). */
export interface ReportResult {
  policy: string;
  rule: string;
  category: string;
  source: string;
  result: AuditStatus | 'skip';
  severity?: 'high' | 'medium' | 'low' | 'info';
  scored: boolean;
  message: string;
  timestamp: { seconds: number; nanos: number };
  resources: { apiVersion: string; kind: string; name: string; namespace?: string; uid?: string }[];
  properties: Record<string, string>;
}

export interface PolicyReportObject {
  apiVersion: string;
  kind: 'PolicyReport' | 'ClusterPolicyReport';
  metadata: { name: string; namespace?: string; labels: Record<string, string>; resourceVersion?: string };
  summary: Summary;
  results: ReportResult[];
}

const SEVERITY: Readonly<Record<AuditStatus, ReportResult['severity']>> = { fail: 'high', error: 'medium', warn: 'medium', pass: undefined };

export function emptySummary(): Summary {
  return { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
}

export function summaryOf(results: readonly { result: ReportResult['result'] }[]): Summary {
  const s = emptySummary();
  for (const r of results) s[r.result]++;
  return s;
}

/** A result's identity across rounds: its pod, container and what it says. */
export function resultKey(f: Pick<Finding, 'pod' | 'container' | 'containerType' | 'status' | 'code'>): string {
  return `${f.pod.uid}/${f.containerType}/${f.container}/${f.status}/${f.code}`;
}

export function resultOf(f: Finding, seconds: number): ReportResult {
  const properties: Record<string, string> = { code: f.code };
  if (f.container) properties.container = f.container;
  if (f.containerType) properties.containerType = f.containerType;
  if (f.image) properties.image = f.image;
  if (f.kinds.length > 0) properties.verifiedBy = f.kinds.join(',');
  if (f.digest) properties.digest = f.digest;
  if (f.byTag) properties.byTag = 'true';
  if (f.stalePin) properties.stalePin = 'true';
  if (f.notAdmitted) properties.notAdmitted = 'true';
  const severity = SEVERITY[f.status];
  return {
    policy: f.policy,
    rule: f.code,
    category: 'Image trust',
    source: REPORT_SOURCE,
    result: f.status,
    ...(severity && { severity }),
    scored: true,
    message: f.message,
    timestamp: { seconds, nanos: 0 },
    // A result about the whole namespace (RESULTS_OMITTED past the namespace's bound) names no pod.
    resources: f.pod.uid === '' ? [{ apiVersion: 'v1', kind: 'Namespace', name: f.pod.namespace }] : [{ apiVersion: 'v1', kind: 'Pod', name: f.pod.name, namespace: f.pod.namespace, uid: f.pod.uid }],
    properties,
  };
}

/** Worst first, then by pod and container: the same findings give the same objects every round. */
export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort(
    (a, b) =>
      STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status) ||
      compare(a.pod.name, b.pod.name) ||
      compare(a.pod.uid, b.pod.uid) ||
      compare(a.containerType, b.containerType) ||
      compare(a.container, b.container),
  );
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The PolicyReport objects of one namespace, split under `bounds`. `since` gives each result's
 * timestamp: when it was first found (kept across rounds, so an unchanged report is not
 * rewritten), else `now`. A namespace with no pods gets one empty report: it was audited.
 */
export function namespaceReports(namespace: string, findings: Finding[], now: number, since: (key: string) => number | undefined, bounds: ReportBounds = DEFAULT_REPORT_BOUNDS): PolicyReportObject[] {
  const seconds = Math.floor(now / 1000);
  const results = sortFindings(findings).map((f) => resultOf(f, since(resultKey(f)) ?? seconds));
  const chunks = split(results, bounds);
  return chunks.map((chunk, i) => ({
    apiVersion: REPORT_API_VERSION,
    kind: 'PolicyReport',
    metadata: { name: `${REPORT_PREFIX}-${i}`, namespace, labels: { ...REPORT_LABELS } },
    summary: summaryOf(chunk),
    results: chunk,
  }));
}

/** Bytes of a result as JSON, counted once per result. */
function bytesOf(r: ReportResult): number {
  return Buffer.byteLength(JSON.stringify(r));
}

/** Room for the object around its results (apiVersion, metadata, summary). */
const ENVELOPE_BYTES = 1024;

function split(results: ReportResult[], bounds: ReportBounds): ReportResult[][] {
  const chunks: ReportResult[][] = [[]];
  let bytes = ENVELOPE_BYTES;
  for (const r of results) {
    const size = bytesOf(r) + 1;
    let last = chunks[chunks.length - 1]!;
    if (last.length > 0 && (last.length >= bounds.maxResults || bytes + size > bounds.maxBytes)) {
      last = [];
      chunks.push(last);
      bytes = ENVELOPE_BYTES;
    }
    last.push(r);
    bytes += size;
  }
  return chunks;
}

/** One namespace's line in the cluster report. */
export interface NamespaceSummary {
  readonly namespace: string;
  readonly summary: Summary;
  readonly pods: number;
}

/** What the round could not do, said in the cluster report (an `error` result each). */
export interface RoundProblem {
  readonly code: string;
  readonly message: string;
}

/**
 * The ClusterPolicyReport: one result per audited namespace (its worst status, its counts), and
 * an `error` result per problem of the round (truncated at maxPods, a namespace not listed).
 * Bounded like the namespace reports: namespaces beyond `bounds.maxResults` are counted, not listed.
 */
export function clusterReport(namespaces: readonly NamespaceSummary[], problems: readonly RoundProblem[], now: number, bounds: ReportBounds = DEFAULT_REPORT_BOUNDS): PolicyReportObject {
  const seconds = Math.floor(now / 1000);
  const results: ReportResult[] = problems.slice(0, 10).map((p) => ({
    policy: 'trustgate audit', rule: p.code, category: 'Image trust', source: REPORT_SOURCE, result: 'error', severity: 'medium', scored: true,
    message: p.message, timestamp: { seconds, nanos: 0 }, resources: [], properties: { code: p.code },
  }));
  const sorted = [...namespaces].sort((a, b) => worstIndex(a.summary) - worstIndex(b.summary) || compare(a.namespace, b.namespace));
  const room = Math.max(0, bounds.maxResults - results.length - 1);
  for (const ns of sorted.slice(0, room)) {
    const worst = STATUS_ORDER[worstIndex(ns.summary)] ?? 'pass';
    const s = ns.summary;
    results.push({
      policy: 'trustgate audit', rule: 'NAMESPACE', category: 'Image trust', source: REPORT_SOURCE, result: worst, ...(SEVERITY[worst] && { severity: SEVERITY[worst] }), scored: true,
      message: `${ns.pods} pods: ${s.fail} fail, ${s.error} error, ${s.warn} warn, ${s.pass} pass (kubectl get policyreports -n ${ns.namespace})`,
      timestamp: { seconds, nanos: 0 }, resources: [{ apiVersion: 'v1', kind: 'Namespace', name: ns.namespace }],
      properties: { fail: String(s.fail), error: String(s.error), warn: String(s.warn), pass: String(s.pass), pods: String(ns.pods) },
    });
  }
  if (sorted.length > room) {
    results.push({
      policy: 'trustgate audit', rule: 'NAMESPACES_OMITTED', category: 'Image trust', source: REPORT_SOURCE, result: 'warn', severity: 'medium', scored: true,
      message: `${sorted.length - room} more namespaces audited; their PolicyReports hold their results`, timestamp: { seconds, nanos: 0 }, resources: [], properties: {},
    });
  }
  return { apiVersion: REPORT_API_VERSION, kind: 'ClusterPolicyReport', metadata: { name: CLUSTER_REPORT_NAME, labels: { ...REPORT_LABELS } }, summary: summaryOf(results), results };
}

/** STATUS_ORDER index of the worst status with a count (pass when none). */
function worstIndex(s: Summary): number {
  const i = STATUS_ORDER.findIndex((status) => s[status] > 0);
  return i < 0 ? STATUS_ORDER.length - 1 : i;
}

/**
 * Whether two reports say the same (timestamps included: they are kept across rounds for
 * unchanged results), so an unchanged report is not written again.
 */
export function sameContent(a: Pick<PolicyReportObject, 'results' | 'summary'>, b: Pick<PolicyReportObject, 'results' | 'summary'>): boolean {
  return contentDigest(a) === contentDigest(b);
}

/**
 * What sameContent() compares, in 64 characters: what a report read back is remembered by until
 * its namespace is written, instead of the report itself (anyone who may write PolicyReports
 * can put trustgate's labels on reports of 1.5 MiB each).
 */
export function contentDigest(report: { results?: unknown; summary?: unknown }): string {
  return createHash('sha256').update(canonical([report.summary, report.results])).digest('hex');
}

/**
 * JSON with every object's keys sorted: the API server re-encodes a custom object from a map
 * (sorted keys), so what is read back is ordered differently from what was written.
 */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** The first-found times of a report's results, read back for `since` (bounded by what we wrote). */
export function timestampsOf(report: { results?: unknown }, into: Map<string, number>, limit: number): void {
  if (!Array.isArray(report.results)) return;
  for (const r of report.results as unknown[]) {
    if (into.size >= limit) return;
    if (typeof r !== 'object' || r === null) continue;
    const { timestamp, resources, properties, result, rule } = r as Record<string, unknown>;
    const seconds = typeof timestamp === 'object' && timestamp !== null ? (timestamp as { seconds?: unknown }).seconds : undefined;
    const resource = Array.isArray(resources) ? (resources[0] as { uid?: unknown } | undefined) : undefined;
    const props = typeof properties === 'object' && properties !== null ? (properties as Record<string, unknown>) : {};
    if (typeof seconds !== 'number' || typeof resource?.uid !== 'string' || typeof result !== 'string' || typeof rule !== 'string') continue;
    const key = `${resource.uid}/${typeof props.containerType === 'string' ? props.containerType : ''}/${typeof props.container === 'string' ? props.container : ''}/${result}/${rule}`;
    into.set(key, seconds);
  }
}
