// The audit's calls to the API server (src/audit/round.ts says what a round does with them):
// namespaces and running pods listed a page at a time, PolicyReports and the ClusterPolicyReport
// written (wgpolicyk8s.io/v1alpha2: kubernetes-sigs/wg-policy-prototypes policy-report/crd/v1alpha2),
// and the coordination.k8s.io/v1 Lease of leader election. Every call takes a token of one rate
// limit first (audit.apiRequestsPerSecond): a round over a large cluster is spread out, never a
// burst that competes with the API server's other clients.
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { contentDigest, LeaseConflict, REPORT_LABELS, timestampsOf, CLUSTER_REPORT_NAME, REPORT_API_VERSION, type AuditPod, type LeaseApi, type LeaseRecord, type LeaseWrite, type PodPage, type PolicyReportObject, type TokenBucket } from '../audit/index.js';

const GROUP = 'wgpolicyk8s.io';
const VERSION = REPORT_API_VERSION.split('/')[1]!;
const LABEL_SELECTOR = Object.entries(REPORT_LABELS).map(([k, v]) => `${k}=${v}`).join(',');
/** Objects per list page. */
const PAGE = 500;
/** Report objects read back per namespace (a tenant may add objects with trustgate's labels). */
const MAX_REPORTS_LISTED = 1000;
/** Namespaces whose written report versions are remembered (KubeAudit.written). */
const MAX_NAMESPACES_REMEMBERED = 10_000;
/**
 * Report objects per list page. Anyone who may write PolicyReports can put trustgate's labels
 * on reports of up to etcd's request limit (1.5 MiB, etcd --max-request-bytes): a page of 500
 * such reports is 750 MiB to parse at once. Ten are 15 MiB at most; each page is read for what
 * is needed (names, versions, first-found times, a digest of the content) and let go.
 */
const REPORT_PAGE = 10;
/** First-found times read back per namespace. */
const MAX_TIMESTAMPS = 100_000;
/**
 * Only these phases run or will run containers (core/v1 PodPhase): Succeeded and Failed pods
 * run nothing any more, and are left out by the list's field selector.
 */
const RUNNING = 'status.phase!=Succeeded,status.phase!=Failed';

interface ListedReport {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  summary?: unknown;
  results?: unknown;
}

/**
 * A custom-object list as the API server sends it: the generic client returns the JSON as is,
 * so its continue token is `metadata.continue` (ListMeta's JSON name), not the typed clients'
 * `_continue` property.
 */
interface CustomList {
  items?: ListedReport[];
  metadata?: { continue?: string };
}

/** A report as remembered between reading a namespace's reports and writing them: never its content. */
interface KnownReport {
  readonly name: string;
  readonly resourceVersion: string | undefined;
  readonly digest: string;
}

export interface KubeAuditOptions {
  readonly leaseNamespace: string;
  readonly leaseName: string;
}

export class KubeAudit {
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  /** Each namespace's reports as last listed (by timestamps()), used by its writeNamespace(). */
  private readonly listed = new Map<string, KnownReport[]>();
  /**
   * The resourceVersion of each report this process last wrote (or found already as it would
   * write it), by namespace and name. First-found times are read back only from those: a report
   * changed by anyone else since (a tenant backdating a failure to hide it from the new-failures
   * alert) has a version this process never wrote, and its times are not believed. A namespace
   * this process has not written yet (start, failover) takes the reports as it finds them.
   * Bounded: MAX_NAMESPACES_REMEMBERED namespaces, the oldest forgotten first.
   */
  private readonly written = new Map<string, Map<string, string>>();
  /** API requests made (metrics, the bench). */
  requests = 0;

  constructor(kc: KubeConfig, private readonly options: KubeAuditOptions, private readonly rate: TokenBucket) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  private async call<T>(request: () => Promise<T>): Promise<T> {
    await this.rate.take();
    this.requests++;
    return request();
  }

  /**
   * The Lease's requests: counted, but not behind the round's tokens. One renewal every few
   * seconds is its own bound, and a renewal waiting behind a busy round would let the Lease
   * lapse and hand the audit to another replica mid-round.
   */
  private counted<T>(request: () => Promise<T>): Promise<T> {
    this.requests++;
    return request();
  }

  /** Namespaces (name and labels) matching the selector, at most `limit`, by name. */
  async namespaces(limit: number, labelSelector: string | undefined): Promise<{ items: { name: string; labels: Record<string, string> }[]; truncated: boolean }> {
    const items: { name: string; labels: Record<string, string> }[] = [];
    let cont: string | undefined;
    do {
      const page = await this.call(() => this.core.listNamespace({ limit: PAGE, ...(labelSelector !== undefined && { labelSelector }), ...(cont !== undefined && { _continue: cont }) }));
      for (const ns of page.items) {
        if (items.length >= limit) return { items, truncated: true };
        if (ns.metadata?.name) items.push({ name: ns.metadata.name, labels: ns.metadata.labels ?? {} });
      }
      cont = page.metadata?._continue || undefined;
    } while (cont);
    return { items, truncated: false };
  }

  /** Running pods of a namespace, at most `limit`, each trimmed to what decide() reads. */
  async pods(namespace: string, limit: number): Promise<PodPage> {
    const pods: AuditPod[] = [];
    let cont: string | undefined;
    do {
      const page = await this.call(() => this.core.listNamespacedPod({ namespace, limit: Math.min(PAGE, limit + 1), fieldSelector: RUNNING, ...(cont !== undefined && { _continue: cont }) }));
      for (const pod of page.items) {
        if (pods.length >= limit) return { pods, truncated: true };
        const trimmed = trim(pod, namespace);
        if (trimmed) pods.push(trimmed);
      }
      cont = page.metadata?._continue || undefined;
    } while (cont);
    return { pods, truncated: false };
  }

  /**
   * First-found times of the results in the namespace's reports (and keeps the list for
   * writeNamespace): from the reports as this process last wrote them, or from all of them when it
   * has written none in this namespace yet (see `written`).
   */
  async timestamps(namespace: string): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const ours = this.written.get(namespace);
    this.listed.set(namespace, await this.listReports(namespace, (r) => {
      if (ours === undefined || (r.metadata?.name !== undefined && ours.get(r.metadata.name) === r.metadata.resourceVersion)) timestampsOf(r, out, MAX_TIMESTAMPS);
    }));
    return out;
  }

  private remember(namespace: string, versions: Map<string, string>): void {
    this.written.delete(namespace);
    this.written.set(namespace, versions);
    while (this.written.size > MAX_NAMESPACES_REMEMBERED) this.written.delete(this.written.keys().next().value!);
  }

  /** The namespace's reports, a page at a time: each seen by `each`, and remembered by name, version and digest. */
  private async listReports(namespace: string, each: (report: ListedReport) => void = () => undefined): Promise<KnownReport[]> {
    const known: KnownReport[] = [];
    let cont: string | undefined;
    do {
      const answer = (await this.call(() => this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'policyreports', labelSelector: LABEL_SELECTOR, limit: REPORT_PAGE, ...(cont !== undefined && { _continue: cont }) }))) as CustomList;
      for (const r of answer.items ?? []) {
        if (known.length >= MAX_REPORTS_LISTED) return known;
        each(r);
        known.push({ name: r.metadata?.name ?? '', resourceVersion: r.metadata?.resourceVersion, digest: contentDigest(r) });
      }
      cont = answer.metadata?.continue || undefined;
    } while (cont);
    return known;
  }

  /**
   * Writes the namespace's reports: unchanged ones are left alone, changed ones replaced (with
   * their resourceVersion), new ones created; trustgate's reports not in `reports` are deleted.
   * An object of the same name not made by trustgate (no labels) is overwritten: a tenant cannot
   * keep a report of its own under trustgate's name.
   */
  async writeNamespace(namespace: string, reports: PolicyReportObject[]): Promise<void> {
    const existing = this.listed.get(namespace) ?? (await this.listReports(namespace));
    this.listed.delete(namespace);
    const byName = new Map(existing.map((r) => [r.name, r]));
    const base = { group: GROUP, version: VERSION, namespace, plural: 'policyreports' };
    const versions = new Map<string, string>();
    try {
      for (const report of reports) {
        const name = report.metadata.name;
        const old = byName.get(name);
        byName.delete(name);
        if (old && old.digest === contentDigest(report)) {
          // Already exactly what this round would write: as good as written by us.
          if (old.resourceVersion !== undefined) versions.set(name, old.resourceVersion);
          continue;
        }
        const version = await this.put(base, name, report, old?.resourceVersion);
        if (version !== undefined) versions.set(name, version);
      }
      for (const name of byName.keys()) {
        if (name) await this.remove(base, name);
      }
      this.remember(namespace, versions);
    } catch (error) {
      // A partial write is no record: the next round takes the namespace's reports as it finds them.
      this.written.delete(namespace);
      throw error;
    }
  }

  /**
   * Forgets which report versions this process wrote: on taking the Lease, as another replica may
   * have written since (its versions would otherwise look like a tenant's changes).
   */
  forgetWritten(): void {
    this.written.clear();
  }

  async writeCluster(report: PolicyReportObject): Promise<void> {
    const base = { group: GROUP, version: VERSION, plural: 'clusterpolicyreports' };
    let old: ListedReport | undefined;
    try {
      old = (await this.call(() => this.custom.getClusterCustomObject({ ...base, name: CLUSTER_REPORT_NAME }))) as ListedReport;
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
    const body = { ...report, metadata: { ...report.metadata, ...(old?.metadata?.resourceVersion && { resourceVersion: old.metadata.resourceVersion }) } };
    if (old) await this.call(() => this.custom.replaceClusterCustomObject({ ...base, name: CLUSTER_REPORT_NAME, body }));
    else await this.call(() => this.custom.createClusterCustomObject({ ...base, body }));
  }

  /** Deletes trustgate's PolicyReports in namespaces not audited this round (no longer reviewed). */
  async removeOthers(audited: ReadonlySet<string>): Promise<void> {
    let cont: string | undefined;
    const stale: { namespace: string; name: string }[] = [];
    do {
      const answer = (await this.call(() => this.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'policyreports', labelSelector: LABEL_SELECTOR, limit: REPORT_PAGE, ...(cont !== undefined && { _continue: cont }) }))) as CustomList;
      for (const r of answer.items ?? []) {
        const { namespace, name } = r.metadata ?? {};
        if (namespace && name && !audited.has(namespace) && stale.length < 10_000) stale.push({ namespace, name });
      }
      cont = answer.metadata?.continue || undefined;
    } while (cont);
    for (const { namespace, name } of stale) await this.remove({ group: GROUP, version: VERSION, namespace, plural: 'policyreports' }, name);
  }

  /** Creates or replaces the report; returns the resourceVersion the API server gave it. */
  private async put(base: { group: string; version: string; namespace: string; plural: string }, name: string, report: PolicyReportObject, resourceVersion: string | undefined): Promise<string | undefined> {
    const versionOf = (o: unknown) => (o as ListedReport | undefined)?.metadata?.resourceVersion;
    if (resourceVersion !== undefined) {
      return versionOf(await this.call(() => this.custom.replaceNamespacedCustomObject({ ...base, name, body: { ...report, metadata: { ...report.metadata, resourceVersion } } })));
    }
    try {
      return versionOf(await this.call(() => this.custom.createNamespacedCustomObject({ ...base, body: report })));
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
      // There already, without trustgate's labels (a tenant's, or one whose labels were removed): replaced.
      const current = (await this.call(() => this.custom.getNamespacedCustomObject({ ...base, name }))) as ListedReport;
      return versionOf(await this.call(() => this.custom.replaceNamespacedCustomObject({ ...base, name, body: { ...report, metadata: { ...report.metadata, resourceVersion: current.metadata?.resourceVersion } } })));
    }
  }

  private async remove(base: { group: string; version: string; namespace: string; plural: string }, name: string): Promise<void> {
    try {
      await this.call(() => this.custom.deleteNamespacedCustomObject({ ...base, name }));
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }

  /**
   * The Lease, through the generic custom-objects client: a Lease's times are MicroTime
   * (RFC 3339 with six fractional digits, k8s.io/apimachinery metav1.MicroTime), written here
   * exactly so.
   */
  lease(): LeaseApi {
    const base = { group: 'coordination.k8s.io', version: 'v1', namespace: this.options.leaseNamespace, plural: 'leases' };
    const name = this.options.leaseName;
    const body = (lease: LeaseWrite, resourceVersion?: string) => ({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace: this.options.leaseNamespace, labels: { 'app.kubernetes.io/managed-by': 'trustgate' }, ...(resourceVersion !== undefined && { resourceVersion }) },
      spec: {
        holderIdentity: lease.holder ?? '',
        leaseDurationSeconds: lease.leaseDurationSeconds,
        ...(lease.acquireTime && { acquireTime: microTime(lease.acquireTime) }),
        ...(lease.renewTime && { renewTime: microTime(lease.renewTime) }),
        leaseTransitions: lease.transitions,
      },
    });
    return {
      get: async () => {
        try {
          return recordOf(await this.counted(() => this.custom.getNamespacedCustomObject({ ...base, name })));
        } catch (error) {
          if (statusOf(error) === 404) return undefined;
          throw error;
        }
      },
      create: async (lease) => {
        try {
          return recordOf(await this.counted(() => this.custom.createNamespacedCustomObject({ ...base, body: body(lease) })));
        } catch (error) {
          if (statusOf(error) === 409) throw new LeaseConflict('the Lease exists already');
          throw error;
        }
      },
      replace: async (lease, resourceVersion) => {
        try {
          return recordOf(await this.counted(() => this.custom.replaceNamespacedCustomObject({ ...base, name, body: body(lease, resourceVersion) })));
        } catch (error) {
          if (statusOf(error) === 409) throw new LeaseConflict('the Lease changed meanwhile');
          throw error;
        }
      },
    };
  }
}

/** An ISO time with six fractional digits, as metav1.MicroTime is written (RFC3339Micro). */
function microTime(iso: string): string {
  const t = new Date(iso);
  return Number.isNaN(t.getTime()) ? new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z') : t.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function recordOf(object: unknown): LeaseRecord {
  const o = (typeof object === 'object' && object !== null ? object : {}) as { metadata?: { resourceVersion?: unknown }; spec?: Record<string, unknown> };
  const spec = o.spec ?? {};
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    holder: str(spec.holderIdentity),
    leaseDurationSeconds: typeof spec.leaseDurationSeconds === 'number' ? spec.leaseDurationSeconds : undefined,
    acquireTime: str(spec.acquireTime),
    renewTime: str(spec.renewTime),
    transitions: typeof spec.leaseTransitions === 'number' ? spec.leaseTransitions : 0,
    resourceVersion: str(o.metadata?.resourceVersion) ?? '',
  };
}

/** The pod as decide() reads it: names, images, pull secrets and service account; nothing else kept. */
function trim(pod: V1Pod, namespace: string): AuditPod | undefined {
  const name = pod.metadata?.name;
  const uid = pod.metadata?.uid;
  if (!name || !uid || !pod.spec) return undefined;
  const containers = (list: { name?: string; image?: string }[] | undefined) => list?.map((c) => ({ name: c.name, image: c.image ?? '' }));
  const spec = pod.spec;
  const volumes = spec.volumes?.filter((v) => v.image !== undefined).map((v) => ({ name: v.name, image: { reference: v.image?.reference } }));
  return {
    namespace,
    name,
    uid,
    object: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, uid },
      spec: {
        containers: containers(spec.containers) ?? [],
        ...(spec.initContainers && { initContainers: containers(spec.initContainers) }),
        ...(spec.ephemeralContainers && { ephemeralContainers: containers(spec.ephemeralContainers) }),
        ...(volumes && volumes.length > 0 && { volumes }),
        ...(spec.imagePullSecrets && { imagePullSecrets: spec.imagePullSecrets.map((s) => ({ name: s.name })) }),
        ...(spec.serviceAccountName !== undefined && { serviceAccountName: spec.serviceAccountName }),
      },
    },
  };
}

function statusOf(error: unknown): number | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'number' ? code : undefined;
}
