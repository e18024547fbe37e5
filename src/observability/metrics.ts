// Prometheus metrics. The only module that imports prom-client. Labels come from small fixed
// sets (endpoint, operation, kind, decision, reason code, configured trust server) — never
// image names or registry hosts a pod chose.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CacheObserver } from '../admission/index.js';
import { TRUST_KINDS, type TrustKind } from '../trust/index.js';
import { DctOnlyImages, type DctOnlyBounds } from './dct-only.js';
import { TallyCounter } from './tally.js';

const KINDS = new Set(['Pod', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicationController']);

/**
 * Trust servers named in metric labels. Registry hosts are attacker-chosen (a pod may name any
 * host, and its trust server is then https://<host>), so only servers the cluster configured
 * get their own label; every other is `other`, and even configured ones stop at this many.
 */
export const MAX_TRUST_SERVER_LABELS = 64;
const OTHER_SERVER = 'other';

interface AuditState {
  readonly leader: number;
  readonly byStatus: Readonly<Record<string, number>>;
  readonly byKind: Readonly<Partial<Record<TrustKind, number>>>;
  readonly dctOnly: number;
  readonly seconds: number;
  readonly finishedAt: number;
  readonly pods: number;
}

export class Metrics implements CacheObserver {
  readonly registry = new Registry();
  private readonly admissions = new TallyCounter(this.registry, 'trustgate_admission_reviews_total', 'AdmissionReviews answered, by endpoint, operation, kind and decision.', ['endpoint', 'operation', 'kind', 'decision']);
  private readonly reasons = new TallyCounter(this.registry, 'trustgate_admission_reasons_total', 'Reasons behind non-allow decisions, by reason code and decision.', ['reason', 'decision']);
  private readonly latency = new Histogram({ name: 'trustgate_admission_duration_seconds', help: 'Time to answer an AdmissionReview.', labelNames: ['endpoint'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry] });
  private readonly verifications = new TallyCounter(this.registry, 'trustgate_verifications_total', 'Trust verifications (cache misses), by result code.', ['result']);
  private readonly fetchLatency = new Histogram({ name: 'trustgate_trust_fetch_duration_seconds', help: 'Metadata requests to trust servers.', labelNames: ['server'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry] });
  private readonly fetchErrors = new Counter({ name: 'trustgate_trust_fetch_errors_total', help: 'Failed metadata requests to trust servers.', labelNames: ['server'], registers: [this.registry] });
  private readonly cacheEvents = new TallyCounter(this.registry, 'trustgate_cache_events_total', 'Verification cache hits, misses and evictions.', ['event']);
  private readonly staleAnswers = new TallyCounter(this.registry, 'trustgate_stale_answers_total', 'Images admitted on their last verified answer while its trust server or registry could not be asked (an outage), by kind of trust: docs/adr/0014.', ['kind']);
  /** Read by the trustgate_cache_entries gauge when scraped. */
  private readonly cache = { entries: 0 };
  private readonly reloads = new Counter({ name: 'trustgate_policy_reloads_total', help: 'Policy reloads, by result.', labelNames: ['result'], registers: [this.registry] });
  private readonly policies = new Gauge({ name: 'trustgate_policies', help: 'Policies in force.', registers: [this.registry] });
  private readonly logDrops = this.followed('trustgate_log_lines_dropped_total', 'Log lines dropped because whatever reads stdout did not keep up (decisions lost from the log).');
  private readonly eventDrops = this.followed('trustgate_events_dropped_total', 'Kubernetes Events not written: over the rate limit, or the queue was full.');
  private readonly malformed = new TallyCounter(this.registry, 'trustgate_malformed_requests_total', 'Requests refused before review, by reason.', ['reason']);
  /** Origins of the configured trust servers: the only values the `server` label takes besides `other`. */
  private trustServers: ReadonlySet<string> = new Set();
  /** Read by the trustgate_request_bytes_in_flight gauge when scraped. */
  private bytesInFlight: () => number = () => 0;
  /** Read by the trustgate_trust_client_entries gauge when scraped. */
  private trustClientSizes: () => Readonly<Record<string, number>> = () => ({});
  /** Read by the trustgate_registry_client_entries gauge when scraped. */
  private registryClientSizes: () => Readonly<Record<string, number>> = () => ({});
  /** Images admitted verified, by endpoint (mutate 0, validate 1) and kind (TRUST_KINDS index). */
  private readonly byKind: number[][] = [TRUST_KINDS.map(() => 0), TRUST_KINDS.map(() => 0)];
  private readonly dctOnly: DctOnlyImages;
  /** Read by the trustgate_verifications gauge when scraped. */
  private verificationSizes: () => { readonly running: number; readonly waiting: number } = () => ({ running: 0, waiting: 0 });

  constructor(dctOnly?: DctOnlyBounds) {
    this.dctOnly = new DctOnlyImages(dctOnly);
    collectDefaultMetrics({ register: this.registry, prefix: 'trustgate_process_' });
    const byKind = this.byKind;
    new Counter({
      name: 'trustgate_verified_images_total',
      help: 'Images admitted verified, by endpoint and the kind of trust that verified them (an image verified by two kinds counts under each).',
      labelNames: ['endpoint', 'kind'],
      registers: [this.registry],
      collect() {
        this.reset();
        byKind.forEach((counts, e) => counts.forEach((n, k) => { if (n > 0) this.inc({ endpoint: e === 0 ? 'mutate' : 'validate', kind: TRUST_KINDS[k]! }, n); }));
      },
    });
    const dct = this.dctOnly;
    new Gauge({
      name: 'trustgate_images_dct_only',
      help: 'Repositories admitted within the last hour whose latest verification only Notary v1 (Docker Content Trust) gave: what breaks when the Notary authority is dropped.',
      registers: [this.registry],
      collect() {
        this.set(dct.count());
      },
    });
    const cache = this.cache;
    new Gauge({
      name: 'trustgate_cache_entries',
      help: 'Entries in the verification cache.',
      registers: [this.registry],
      collect() {
        this.set(cache.entries);
      },
    });
    const inFlight = () => this.bytesInFlight();
    new Gauge({
      name: 'trustgate_request_bytes_in_flight',
      help: 'What the request bodies of reviews in flight are charged against maxBytesInFlight (bytes, plus 64 per JSON value).',
      registers: [this.registry],
      collect() {
        this.set(inFlight());
      },
    });
    this.entriesGauge(
      'trustgate_trust_client_entries',
      'Entries the trust client remembers, by structure (agents, roots, versions, tokens, loads in flight; metadataBytes: bytes of metadata held by loads in flight).',
      () => this.trustClientSizes(),
    );
    this.entriesGauge(
      'trustgate_registry_client_entries',
      'Entries the OCI registry client (cosign and Notation signatures) remembers, by structure (agents, challenges, tokens; bytesHeld and bytesWaiting: the byte budget it shares with the trust client, held and documents waiting; notationCertificates: parsed Notation certificates kept).',
      () => this.registryClientSizes(),
    );
    const verifications = () => this.verificationSizes();
    new Gauge({
      name: 'trustgate_verifications',
      help: 'Repositories being verified (running) and waiting for their namespace\'s turn (waiting): admission/fair-share.ts.',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        const { running, waiting } = verifications();
        this.set({ state: 'running' }, running);
        this.set({ state: 'waiting' }, waiting);
      },
    });
  }

  /** A gauge of a client's bounded structures, one series per structure, read at each scrape. */
  private entriesGauge(name: string, help: string, sizes: () => Readonly<Record<string, number>>): void {
    new Gauge({
      name,
      help,
      labelNames: ['structure'],
      registers: [this.registry],
      collect() {
        for (const [structure, entries] of Object.entries(sizes())) this.set({ structure }, entries);
      },
    });
  }

  /**
   * The trust servers cluster configuration names (config `trust.servers`, ClusterImagePolicy
   * `trust.server`, Docker Hub's): fetches from these are labelled by origin, all others `other`.
   */
  nameTrustServers(servers: Iterable<string | undefined>): void {
    const origins = new Set<string>();
    for (const server of servers) {
      if (server === undefined || origins.size >= MAX_TRUST_SERVER_LABELS) continue;
      try {
        origins.add(new URL(server).origin);
      } catch {
        // not a URL: no fetch can carry it as its origin
      }
    }
    this.trustServers = origins;
  }

  /** Where the trust client's structure sizes come from (TrustClient.sizes). */
  countTrustClient(read: () => Readonly<Record<string, number>>): void {
    this.trustClientSizes = read;
  }

  /** Where the OCI registry client's structure sizes come from (OciRegistryClient.sizes). */
  countRegistryClient(read: () => Readonly<Record<string, number>>): void {
    this.registryClientSizes = read;
  }

  /** Where the trustgate_verifications gauge reads the fair share's slots and queue. */
  countVerifications(read: () => { readonly running: number; readonly waiting: number }): void {
    this.verificationSizes = read;
  }

  admission(endpoint: string, operation: string, kind: string, decision: string, reasons: readonly string[], seconds: number): void {
    const k = KINDS.has(kind) ? kind : 'other';
    this.admissions.inc({ endpoint, operation, kind: k, decision });
    this.latency.observe({ endpoint }, seconds);
    if (decision !== 'allow' && decision !== 'skip') for (const reason of reasons) this.reasons.inc({ reason: /^[A-Z_]{1,40}$/.test(reason) ? reason : 'OTHER', decision });
  }

  /**
   * The kinds of trust that verified each admitted image (Decision.containers). Touches only
   * preallocated counts and the bounded DCT-only set: no allocation per review.
   */
  verifiedKinds(endpoint: string, containers: readonly { readonly kinds: readonly TrustKind[]; readonly repository: string | undefined }[]): void {
    const counts = this.byKind[endpoint === 'mutate' ? 0 : 1]!;
    for (const { kinds, repository } of containers) {
      if (kinds.length === 0) continue;
      for (const kind of kinds) {
        const i = TRUST_KINDS.indexOf(kind);
        if (i >= 0) counts[i]! += 1;
      }
      if (repository !== undefined) this.dctOnly.record(repository, kinds);
    }
  }

  /** Repositories verified by Notary alone lately (DctOnlyImages.list). */
  dctOnlyRepositories(limit?: number): string[] {
    return this.dctOnly.list(limit);
  }

  /** Where the bytes held by reviews in flight come from (the request listener's budget). */
  countBytesInFlight(read: () => number): void {
    this.bytesInFlight = read;
  }

  /** Where the log's dropped-line count comes from (the LogBuffer of `trustgate serve`). */
  countLogDrops(read: () => number): void {
    this.logDrops.read = read;
  }

  /** Where the count of Events not written comes from (the EventRecorder). */
  countEventDrops(read: () => number): void {
    this.eventDrops.read = read;
  }

  /** A counter that follows a running total kept elsewhere, read when scraped. */
  private followed(name: string, help: string): { read: () => number } {
    const source = { read: () => 0 };
    let reported = 0;
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        const total = source.read();
        this.inc(total - reported);
        reported = total;
      },
    });
    return source;
  }

  malformedRequest(reason: string): void {
    this.malformed.inc({ reason });
  }

  /** One metadata request; `server` is its origin, labelled only when configured. */
  trustFetch(origin: string, ms: number, ok: boolean): void {
    const server = this.trustServers.has(origin) ? origin : OTHER_SERVER;
    this.fetchLatency.observe({ server }, ms / 1000);
    if (!ok) this.fetchErrors.inc({ server });
  }

  policyReload(ok: boolean, count?: number): void {
    this.reloads.inc({ result: ok ? 'success' : 'failure' });
    if (count !== undefined) this.policies.set(count);
  }

  hit(): void {
    this.cacheEvents.inc({ event: 'hit' });
  }
  miss(): void {
    this.cacheEvents.inc({ event: 'miss' });
  }
  evicted(): void {
    this.cacheEvents.inc({ event: 'eviction' });
  }
  stale(kind: TrustKind): void {
    this.staleAnswers.inc({ kind });
  }
  size(entries: number): void {
    this.cache.entries = entries;
  }
  /** The kind is not a label here: the series are older than kinds (trustgate_verified_images_total has it). */
  verified(code: string, _kind?: TrustKind): void {
    this.verifications.inc({ result: code });
  }

  /** The last audit round's figures, read by the trustgate_audit_* gauges (docs/audit.md). */
  private auditState: AuditState = { leader: 0, byStatus: {}, byKind: {}, dctOnly: 0, seconds: 0, finishedAt: 0, pods: 0 };
  private readonly auditMetrics = this.registerAudit();

  /** The audit's series (docs/audit.md): zero on a replica that does not audit. */
  private registerAudit(): { rounds: Counter; newFailures: Counter } {
    const state = () => this.auditState;
    const gauge = (name: string, help: string, labelNames: string[], set: (g: Gauge) => void) =>
      new Gauge({ name, help, labelNames, registers: [this.registry], collect() { this.reset(); set(this); } });
    gauge('trustgate_audit_leader', 'Whether this replica holds the audit Lease (1) or stands by (0).', [], (g) => g.set(state().leader));
    gauge('trustgate_audit_images', 'Container images of running pods by the last audit round\'s result (pass, fail, warn, error).', ['result'], (g) => {
      for (const result of ['pass', 'fail', 'warn', 'error']) g.set({ result }, state().byStatus[result] ?? 0);
    });
    gauge('trustgate_audit_images_verified', 'Container images of running pods the last audit round found verified, by kind of trust (an image verified by two kinds counts under each).', ['kind'], (g) => {
      for (const kind of TRUST_KINDS) g.set({ kind }, state().byKind[kind] ?? 0);
    });
    gauge('trustgate_audit_images_dct_only', 'Repositories of running pods that only Notary v1 (Docker Content Trust) verified in the last audit round: what breaks when the Notary authority is dropped (docs/migration.md).', [], (g) => g.set(state().dctOnly));
    gauge('trustgate_audit_pods', 'Running pods the last audit round decided.', [], (g) => g.set(state().pods));
    gauge('trustgate_audit_round_duration_seconds', 'How long the last audit round took.', [], (g) => g.set(state().seconds));
    gauge('trustgate_audit_last_round_timestamp_seconds', 'When the last audit round finished (Unix time); 0 before the first.', [], (g) => g.set(state().finishedAt));
    return {
      rounds: new Counter({ name: 'trustgate_audit_rounds_total', help: 'Audit rounds, by result (ok, failed, aborted: leadership lost, truncated: stopped at audit.maxPods).', labelNames: ['result'], registers: [this.registry] }),
      newFailures: new Counter({ name: 'trustgate_audit_new_failures_total', help: 'Fail results of an audit round that trustgate\'s PolicyReports did not hold before (a pod or image newly failing; a restart or a new leader does not count old ones).', registers: [this.registry] }),
    };
  }

  /** A replica that stops leading stops reporting the last round's figures: only the leader's count. */
  auditLeader(leading: boolean): void {
    this.auditState = leading ? { ...this.auditState, leader: 1 } : { leader: 0, byStatus: {}, byKind: {}, dctOnly: 0, seconds: 0, finishedAt: this.auditState.finishedAt, pods: 0 };
  }

  auditRound(result: { ok: boolean; aborted?: boolean; truncated?: boolean; byStatus?: Readonly<Record<string, number>>; byKind?: Readonly<Partial<Record<TrustKind, number>>>; dctOnly?: number; pods?: number; newFailures?: number; seconds: number }): void {
    const m = this.auditMetrics;
    m.rounds.inc({ result: !result.ok ? 'failed' : result.aborted ? 'aborted' : result.truncated ? 'truncated' : 'ok' });
    if (!result.ok || result.aborted) return;
    m.newFailures.inc(result.newFailures ?? 0);
    this.auditState = { ...this.auditState, byStatus: result.byStatus ?? {}, byKind: result.byKind ?? {}, dctOnly: result.dctOnly ?? 0, pods: result.pods ?? 0, seconds: result.seconds, finishedAt: Math.floor(Date.now() / 1000) };
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
