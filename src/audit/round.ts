// One audit round: every running pod of the audited namespaces, decided by the webhook's own
// decide() (through a RoundVerifier: one verification per image per round), its findings written
// as reports. No I/O of its own: listing, deciding and writing are injected (src/kube/audit.ts and
// cmd/cli/serve-audit.ts), so the bounds below are tested without an API server.
import type { Decision } from '../admission/index.js';
import type { TrustKind } from '../trust/index.js';
import { AuditCode, findingsOf, STATUS_ORDER, type AuditStatus, type Finding, type PodRef } from './findings.js';
import { clusterReport, emptySummary, namespaceReports, resultKey, type NamespaceSummary, type PolicyReportObject, type ReportBounds, type RoundProblem } from './report.js';

/** A pod as the audit needs it: who it is, and the object decide() reads. */
export interface AuditPod extends PodRef {
  /** The pod as the API server has it (its spec: images, pull secrets, service account). */
  readonly object: Record<string, unknown>;
}

export interface PodPage {
  readonly pods: readonly AuditPod[];
  /** More pods than the limit asked for: the round stops there. */
  readonly truncated: boolean;
}

export interface RoundIo {
  /** The namespaces to audit, at most `limit`; `truncated` when there were more. */
  namespaces(limit: number): Promise<{ names: string[]; truncated: boolean }>;
  /** Running pods of a namespace (not Succeeded or Failed), at most `limit`. */
  pods(namespace: string, limit: number): Promise<PodPage>;
  /** The webhook's decision for the pod, as if it were created now. */
  decide(pod: AuditPod): Promise<Decision>;
  /** Replaces the namespace's reports with these, and deletes its others (fewer objects than last round). */
  writeNamespace(namespace: string, reports: PolicyReportObject[]): Promise<void>;
  /** The first-found times of the namespace's current results (report timestamps), read before building. */
  timestamps(namespace: string): Promise<Map<string, number>>;
  writeCluster(report: PolicyReportObject): Promise<void>;
  /** Deletes trustgate's reports in namespaces not audited this round (no longer reviewed). */
  removeOthers(audited: ReadonlySet<string>): Promise<void>;
  /** Whether this replica still leads: checked before every write. */
  leading(): boolean;
  /** A namespace's turn starts, with this many namespaces left (itself included): RoundVerifier.startNamespace. */
  namespaceStarted?(namespace: string, namespacesLeft: number): void;
  /** Problems found outside the round's own logic (the verification budget spent), said in the cluster report. */
  problems?(): RoundProblem[];
}

export interface RoundBounds {
  /** Pods decided per round: past it the round stops and says so. */
  readonly maxPods: number;
  /** Namespaces per round. */
  readonly maxNamespaces: number;
  /** Pods decided at once. */
  readonly concurrency: number;
  /**
   * Results one namespace's reports hold (and the round holds in memory at once): past it the
   * worst are kept and the rest summed up in one result. 10,000 results are 50 objects of 200.
   */
  readonly maxResultsPerNamespace: number;
  /**
   * Time one namespace's pods may take: namespaces are audited one after another, and a tenant's
   * ImagePolicy naming a trust server that never answers would otherwise hold the round (each of
   * its images waiting out the review deadline) and every namespace after it. Pods not started by
   * then get an `error` result saying so; those in flight finish (each bounded by the deadline).
   */
  readonly namespaceMs: number;
  readonly report: ReportBounds;
}

export const DEFAULT_ROUND_BOUNDS: RoundBounds = Object.freeze({ maxPods: 10_000, maxNamespaces: 2_000, concurrency: 8, maxResultsPerNamespace: 10_000, namespaceMs: 60_000, report: Object.freeze({ maxResults: 200, maxBytes: 768 * 1024 }) });

export interface RoundResult {
  readonly pods: number;
  readonly namespaces: number;
  readonly findings: number;
  /** Results by status. */
  readonly byStatus: Readonly<Record<'pass' | 'fail' | 'warn' | 'error', number>>;
  /** Images (results) verified by each kind of trust. */
  readonly byKind: Readonly<Partial<Record<TrustKind, number>>>;
  /** Repositories running whose images Notary v1 alone verified (the migration's DCT-only count). */
  readonly dctOnly: number;
  /**
   * Fail results that trustgate's reports did not hold before this round (no first-found time
   * to keep): newly failing. Read from the reports themselves, so a restart or a new leader does
   * not count old failures again.
   */
  readonly newFailures: number;
  readonly problems: readonly RoundProblem[];
  /** Leadership was lost during the round: it stopped writing. */
  readonly aborted: boolean;
}

/** Repositories a round remembers for the DCT-only count. */
const MAX_REPOSITORIES = 100_000;

export async function runRound(io: RoundIo, bounds: RoundBounds, now: () => number): Promise<RoundResult> {
  const problems: RoundProblem[] = [];
  const { names, truncated: tooManyNamespaces } = await io.namespaces(bounds.maxNamespaces);
  if (tooManyNamespaces) problems.push({ code: 'NAMESPACES_TRUNCATED', message: `more than ${bounds.maxNamespaces} namespaces to audit; the first ${bounds.maxNamespaces} by name were` });
  let budget = bounds.maxPods;
  let pods = 0;
  const summaries: NamespaceSummary[] = [];
  const byStatus = { pass: 0, fail: 0, warn: 0, error: 0 };
  const byKind: Partial<Record<TrustKind, number>> = {};
  const notaryOnly = new Set<string>();
  const otherKinds = new Set<string>();
  let newFailures = 0;
  let findingsTotal = 0;
  const audited = new Set<string>();
  const truncated: string[] = [];
  for (const [i, namespace] of names.entries()) {
    // A fair share of what is left: a namespace flooded with pods is cut at its share, and the
    // namespaces after it are still audited; what a small namespace leaves goes to the next ones.
    const share = Math.ceil(budget / (names.length - i));
    if (share <= 0) {
      truncated.push(namespace);
      continue;
    }
    let page: PodPage;
    try {
      page = await io.pods(namespace, share);
    } catch (error) {
      problems.push({ code: 'LIST_FAILED', message: `pods of namespace ${namespace} could not be listed: ${error instanceof Error ? error.message : String(error)}`.slice(0, 1024) });
      continue;
    }
    io.namespaceStarted?.(namespace, names.length - i);
    budget -= page.pods.length;
    pods += page.pods.length;
    if (page.truncated) truncated.push(namespace);
    // The namespace's counts include results past its bound (summed up in its reports).
    const summary = emptySummary();
    const findings = await decideAll(io, namespace, page.pods, bounds, now, (f) => {
      findingsTotal++;
      summary[f.status]++;
      byStatus[f.status]++;
      for (const kind of f.kinds) byKind[kind] = (byKind[kind] ?? 0) + 1;
      if (f.repository !== undefined && f.kinds.length > 0 && notaryOnly.size + otherKinds.size < MAX_REPOSITORIES) {
        if (f.kinds.length === 1 && f.kinds[0] === 'notary') notaryOnly.add(f.repository);
        else otherKinds.add(f.repository);
      }
    });
    if (!io.leading()) return aborted(pods, summaries.length, findingsTotal, byStatus, byKind, newFailures, problems);
    const since = await io.timestamps(namespace).catch(() => new Map<string, number>());
    const limitSeconds = Math.floor(now() / 1000);
    const firstFound = (key: string) => {
      const s = since.get(key);
      // A time ahead of now was not written by trustgate: the result is new.
      return s !== undefined && s <= limitSeconds ? s : undefined;
    };
    for (const f of findings) if (f.status === 'fail' && firstFound(resultKey(f)) === undefined) newFailures++;
    const reports = namespaceReports(namespace, findings, now(), firstFound, bounds.report);
    // Audited either way: a namespace whose write failed keeps its reports (no removeOthers).
    audited.add(namespace);
    try {
      await io.writeNamespace(namespace, reports);
    } catch (error) {
      // One namespace's write (a webhook on PolicyReports, a quota) must not stop the others'.
      problems.push({ code: 'WRITE_FAILED', message: `the PolicyReports of namespace ${namespace} could not be written: ${error instanceof Error ? error.message : String(error)}`.slice(0, 1024) });
      continue;
    }
    summaries.push({ namespace, summary, pods: page.pods.length });
  }
  if (truncated.length > 0) {
    const named = truncated.slice(0, 10).join(', ') + (truncated.length > 10 ? ` and ${truncated.length - 10} more` : '');
    problems.push({ code: 'ROUND_TRUNCATED', message: `more than ${bounds.maxPods} running pods to audit (audit.maxPods): namespaces not audited whole this round: ${named}` });
  }
  problems.push(...(io.problems?.() ?? []));
  if (!io.leading()) return aborted(pods, summaries.length, findingsTotal, byStatus, byKind, newFailures, problems);
  await io.writeCluster(clusterReport(summaries, problems, now(), bounds.report));
  // Only after a round that saw every namespace: a truncated one would delete reports it did not redo.
  if (truncated.length === 0 && !tooManyNamespaces) await io.removeOthers(audited);
  // Repositories verified by another kind anywhere are not DCT-only (DctOnlyImages' rule, per round).
  const dctOnly = [...notaryOnly].filter((r) => !otherKinds.has(r)).length;
  return { pods, namespaces: summaries.length, findings: findingsTotal, byStatus, byKind, dctOnly, newFailures, problems, aborted: false };
}

function aborted(pods: number, namespaces: number, findings: number, byStatus: RoundResult['byStatus'], byKind: RoundResult['byKind'], newFailures: number, problems: readonly RoundProblem[]): RoundResult {
  return { pods, namespaces, findings, byStatus, byKind, dctOnly: 0, newFailures, problems, aborted: true };
}

/** One `error` result for a pod the round could not decide. */
function podError(ref: PodRef, code: string, message: string): Finding {
  return {
    pod: ref, container: '', containerType: '', image: '', status: 'error', code, policy: 'trustgate', message: message.slice(0, 1024),
    kinds: [], digest: undefined, repository: undefined, byTag: false, stalePin: false, notAdmitted: false,
  };
}

/**
 * Every pod's findings, `concurrency` pods at a time; a pod whose decision throws gets one `error`
 * result, and so does each pod not started within the namespace's time (`namespaceMs`). Each
 * finding is counted (`count`) as it comes; at most `maxResultsPerNamespace` are kept, the worst.
 */
async function decideAll(io: RoundIo, namespace: string, pods: readonly AuditPod[], bounds: RoundBounds, now: () => number, count: (f: Finding) => void): Promise<Finding[]> {
  const kept = new BoundedFindings(bounds.maxResultsPerNamespace);
  const until = now() + bounds.namespaceMs;
  let next = 0;
  const worker = async () => {
    while (next < pods.length) {
      const pod = pods[next++]!;
      const ref: PodRef = { namespace: pod.namespace, name: pod.name, uid: pod.uid };
      let found: Finding[];
      if (now() >= until) {
        found = [podError(ref, 'AUDIT_TIME_SPENT', `not audited this round: namespace ${namespace} took its ${Math.round(bounds.namespaceMs / 1000)} s (a trust server slow to answer?); the next round tries again`)];
      } else {
        try {
          found = findingsOf(ref, await io.decide(pod));
        } catch (error) {
          found = [podError(ref, 'AUDIT_FAILED', `the pod could not be decided: ${error instanceof Error ? error.message : String(error)}`)];
        }
      }
      for (const f of found) {
        count(f);
        kept.add(f);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(bounds.concurrency, pods.length)) }, worker));
  return kept.all(namespace);
}

/** At most `max` findings, the worst kept; those dropped counted by status and summed up in one. */
class BoundedFindings {
  private readonly kept: Record<AuditStatus, Finding[]> = { fail: [], error: [], warn: [], pass: [] };
  private readonly omitted: Record<AuditStatus, number> = { fail: 0, error: 0, warn: 0, pass: 0 };
  private size = 0;

  constructor(private readonly max: number) {}

  add(f: Finding): void {
    this.kept[f.status].push(f);
    if (++this.size <= this.max) return;
    for (const status of [...STATUS_ORDER].reverse()) {
      if (this.kept[status].length === 0) continue;
      this.kept[status].pop();
      this.omitted[status]++;
      this.size--;
      return;
    }
  }

  all(namespace: string): Finding[] {
    const out = STATUS_ORDER.flatMap((s) => this.kept[s]);
    const counts = STATUS_ORDER.filter((s) => this.omitted[s] > 0);
    if (counts.length === 0) return out;
    const total = counts.reduce((n, s) => n + this.omitted[s], 0);
    // A result about the namespace (no pod): resultOf names the Namespace as its resource.
    out.push({
      pod: { namespace, name: '', uid: '' }, container: '', containerType: '', image: '', status: counts[0]!, code: AuditCode.RESULTS_OMITTED, policy: 'trustgate',
      message: `${total} more results in this namespace (${counts.map((s) => `${this.omitted[s]} ${s}`).join(', ')}); at most ${this.max} are reported per namespace, the worst first`,
      kinds: [], digest: undefined, repository: undefined, byTag: false, stalePin: false, notAdmitted: false,
    });
    return out;
  }
}
