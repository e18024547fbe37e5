// The audit controller of `trustgate serve` (docs/audit.md): running pods decided by the
// webhook's own decide() and CachingVerifier, the results written as PolicyReports, on the one
// replica that holds the audit Lease. Loaded with the Kubernetes side only.
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { credentialLookup, decide, type ImageVerifier, type ReviewRequest } from '../../src/admission/index.js';
import { AuditController, DEFAULT_ROUND_BOUNDS, LeaderElector, RoundVerifier, runRound, TokenBucket, type AuditPod, type RoundIo } from '../../src/audit/index.js';
import type { AuditConfig, ServeConfig } from '../../src/config/index.js';
import { ENFORCE_LABEL, isReviewed, KubeAudit, loadKubeConfig } from '../../src/kube/index.js';
import type { Metrics } from '../../src/observability/index.js';
import type { PolicySet } from '../../src/policy/index.js';
import type { KubernetesSide } from './serve-kubernetes.js';

export const LEASE_NAME = 'trustgate-audit';
/**
 * One pod's decision may take this long: longer than a review's deadline, as the audit's
 * verifications wait for the trust-lookup rate limit; each verification is still bounded by the
 * cache's own timeout (deadlineSeconds).
 */
const AUDIT_DEADLINE_MS = 60_000;
/** A burst of policy edits (a GitOps sync) is one round. */
const POLICY_DEBOUNCE_MS = 2_000;
/** Rounds a policy change asks for start at least this long after the last one ended (at most the interval). */
const POLICY_MIN_GAP_MS = 30_000;
/**
 * Distinct verifications one round may start (RoundVerifier): 20,000 at the default 20 a second
 * is a quarter of an hour; real clusters run a few hundred distinct images.
 */
const ROUND_VERIFICATIONS = 20_000;

export interface Audit {
  policiesChanged(): void;
  stop(): Promise<void>;
}

export interface AuditDependencies {
  readonly config: AuditConfig;
  readonly kubernetes: NonNullable<ServeConfig['kubernetes']>;
  readonly serve: Pick<ServeConfig, 'defaultAction' | 'deadlineSeconds'>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly verifier: ImageVerifier;
  readonly policies: () => PolicySet;
  readonly side: KubernetesSide;
}

export function startAudit(deps: AuditDependencies): Audit {
  const { config, kubernetes, logger, metrics } = deps;
  const kc = loadKubeConfig(kubernetes.kubeconfig);
  const apiRate = new TokenBucket(config.apiRequestsPerSecond, Math.max(1, Math.ceil(config.apiRequestsPerSecond * 2)));
  const trustRate = new TokenBucket(config.trustLookupsPerSecond, Math.max(1, Math.ceil(config.trustLookupsPerSecond * 2)));
  const kube = new KubeAudit(kc, { leaseNamespace: config.leaseNamespace, leaseName: LEASE_NAME }, apiRate);
  const identity = `${os.hostname()}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const bounds = { ...DEFAULT_ROUND_BOUNDS, maxPods: config.maxPods, report: { ...DEFAULT_ROUND_BOUNDS.report, maxResults: config.maxResultsPerReport } };
  let leaseFailures = 0;

  const round = async () => {
    const started = performance.now();
    const policies = deps.policies(); // one policy set for the whole round
    const verifier = new RoundVerifier(deps.verifier, trustRate, ROUND_VERIFICATIONS);
    const requestsBefore = kube.requests;
    const io: RoundIo = {
      namespaces: async (limit) => {
        const { items, truncated } = await kube.namespaces(limit, namespaceSelector(config, kubernetes));
        const names = items.filter((ns) => config.allNamespaces || isReviewed(kubernetes.namespaces, ns.name, ns.labels)).map((ns) => ns.name);
        return { names, truncated };
      },
      pods: (namespace, limit) => kube.pods(namespace, limit),
      decide: async (pod) => {
        const review = podReview(pod);
        // Pull-secret reads are API requests too: a token each, unless the webhook's cache answers.
        // The ServiceAccount first: the secrets it lists (up to 64, a tenant's choice) are counted once known.
        await deps.side.readServiceAccount(review, () => apiRate.take());
        for (let reads = deps.side.credentialReads(review); reads > 0; reads--) await apiRate.take();
        const credentials = await deps.side.credentials(review, deps.serve.deadlineSeconds * 1000);
        return decide(review, 'mutate', { policies, verifier, defaultAction: deps.serve.defaultAction, mutateWorkloads: false, deadlineMs: AUDIT_DEADLINE_MS, credentialsFor: credentialLookup(credentials) });
      },
      timestamps: (namespace) => kube.timestamps(namespace),
      writeNamespace: (namespace, reports) => kube.writeNamespace(namespace, reports),
      writeCluster: (report) => kube.writeCluster(report),
      removeOthers: (audited) => kube.removeOthers(audited),
      leading: () => elector.leading,
      namespaceStarted: (_namespace, left) => verifier.startNamespace(left),
      problems: () => (verifier.refused > 0 ? [{ code: 'VERIFICATIONS_TRUNCATED', message: `${verifier.refused} verifications not started: at most ${ROUND_VERIFICATIONS} distinct images are verified per round` }] : []),
    };
    try {
      const result = await runRound(io, bounds, Date.now);
      const { newFailures } = result;
      const seconds = (performance.now() - started) / 1000;
      metrics.auditRound({ ok: true, aborted: result.aborted, truncated: result.problems.some((p) => p.code === 'ROUND_TRUNCATED'), byStatus: result.byStatus, byKind: result.byKind, dctOnly: result.dctOnly, pods: result.pods, newFailures, seconds });
      logger.info({ pods: result.pods, namespaces: result.namespaces, results: result.byStatus, newFailures, trustLookups: verifier.lookups, apiRequests: kube.requests - requestsBefore, seconds: Math.round(seconds * 1000) / 1000, problems: result.problems.map((p) => p.code), aborted: result.aborted }, 'audit round finished');
    } catch (error) {
      metrics.auditRound({ ok: false, seconds: (performance.now() - started) / 1000 });
      throw error;
    }
  };

  const controller = new AuditController({ intervalMs: config.intervalSeconds * 1000, debounceMs: POLICY_DEBOUNCE_MS, minGapMs: Math.min(POLICY_MIN_GAP_MS, config.intervalSeconds * 1000) }, round, (error) =>
    logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'audit round failed; retrying at the next interval'),
  );
  const elector = new LeaderElector(
    kube.lease(),
    identity,
    { leaseDurationMs: config.leaseDurationSeconds * 1000, renewIntervalMs: Math.max(500, (config.leaseDurationSeconds * 1000) / 3) },
    () => performance.now(),
    (leading) => {
      leaseFailures = 0;
      metrics.auditLeader(leading);
      logger.info({ identity, leading }, leading ? 'audit: leading (this replica audits)' : 'audit: standing by');
      if (leading) kube.forgetWritten();
      controller.leading(leading);
    },
    (error) => {
      // The first failure in a row at warn (a missing namespace, RBAC), the rest at debug.
      const err = error instanceof Error ? error.message : String(error);
      if (leaseFailures++ === 0) logger.warn({ err, namespace: config.leaseNamespace }, 'audit Lease could not be read or written; retrying');
      else logger.debug({ err }, 'audit Lease not renewed');
    },
  );
  elector.start();
  return {
    policiesChanged: () => controller.policiesChanged(),
    stop: async () => {
      await elector.stop();
      controller.leading(false);
      // A round in progress stops writing at its next check (io.leading()); waited for, bounded.
      await Promise.race([controller.stop(), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    },
  };
}

/** Server-side filtering where the scope allows it: the label the webhooks' namespaceSelector reads. */
function namespaceSelector(config: AuditConfig, kubernetes: NonNullable<ServeConfig['kubernetes']>): string | undefined {
  if (config.allNamespaces) return undefined;
  return kubernetes.namespaces.scope === 'optIn' ? `${ENFORCE_LABEL}=true` : `${ENFORCE_LABEL}!=false`;
}

/** The AdmissionReview request kube-apiserver would send to create the pod now. */
function podReview(pod: AuditPod): ReviewRequest {
  return {
    uid: `audit-${pod.uid}`,
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: 'pods',
    subResource: '',
    namespace: pod.namespace,
    name: pod.name,
    operation: 'CREATE',
    object: pod.object,
    oldObject: undefined,
    dryRun: true,
  };
}
