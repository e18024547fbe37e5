// What `trustgate serve` takes from the API server when `kubernetes` is configured: policies
// from the CRDs, pull-secret credentials for each review, and Events about decisions.
import type { Logger } from 'pino';
import { AUDIT_ANNOTATION, originalKey, podSpecOf, type CredentialFailure, type Decision, type PodCredentials, type ReviewRequest } from '../../src/admission/index.js';
import type { ServeConfig } from '../../src/config/index.js';
import { EventRecorder, loadKubeConfig, PolicyInformers, PullSecretError, PullSecretReader, ReviewedNamespaces } from '../../src/kube/index.js';
import type { Policy } from '../../src/policy/index.js';

export interface KubernetesSide {
  readonly ready: () => boolean;
  /** The pod's and the cluster's credentials, read within `timeoutMs`; or why they could not be. */
  readonly credentials: (review: ReviewRequest, timeoutMs: number) => Promise<PodCredentials | CredentialFailure>;
  readonly recordEvents: (review: ReviewRequest, decision: Decision) => void;
  /**
   * API reads credentials() would make for the review now: 0 when cached (or nothing to read),
   * else at most one ServiceAccount and its (or the pod's) pull secrets. The audit takes a token
   * of its API rate limit for each.
   */
  readonly credentialReads: (review: ReviewRequest) => number;
  /**
   * Reads the pod's ServiceAccount if its pull-secret names are needed and not cached, after
   * `take()`: credentialReads() counts every secret it lists only once it is read.
   */
  readonly readServiceAccount: (review: ReviewRequest, take: () => Promise<void>) => Promise<void>;
  /** Events not written since start (rate limit, full queue). */
  readonly eventsDropped: () => number;
  readonly stop: () => void;
}

export async function startKubernetesSide(
  config: NonNullable<ServeConfig['kubernetes']>,
  logger: Logger,
  onPolicies: (policies: Policy[]) => void,
): Promise<KubernetesSide> {
  const kc = loadKubeConfig(config.kubeconfig);
  const informers = config.policies ? new PolicyInformers(kc, logger.child({ component: 'policies' }), onPolicies, config.trustStores) : undefined;
  // The first list may fail while the API server starts: informers retry; readiness waits.
  await informers?.start().catch((error: unknown) => logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'policy informers not started yet; retrying'));
  const secrets = config.pullSecrets ? new PullSecretReader(kc, config.credentialsSecret, config.pullSecretNamespaces) : undefined;
  const namespaces = config.events ? new ReviewedNamespaces(kc, config.namespaces) : undefined;
  const events = namespaces && new EventRecorder(kc, logger.child({ component: 'events' }), (ns) => namespaces.reviewed(ns));
  const empty: PodCredentials = { namespace: new Map(), cluster: new Map() };

  const queryOf = (review: ReviewRequest) => {
    const spec = podSpecOf(review.kind.kind, review.object);
    if (!spec || review.namespace === undefined) return undefined;
    const pullSecrets = Array.isArray(spec.imagePullSecrets) ? spec.imagePullSecrets : [];
    return {
      namespace: review.namespace,
      serviceAccountName: typeof spec.serviceAccountName === 'string' ? spec.serviceAccountName : undefined,
      imagePullSecrets: pullSecrets.map((s: unknown) => (typeof s === 'object' && s !== null && typeof (s as { name?: unknown }).name === 'string' ? (s as { name: string }).name : '')).filter(Boolean),
    };
  };

  return {
    ready: () => informers?.ready ?? true,
    credentialReads: (review) => {
      const query = secrets && queryOf(review);
      return secrets && query ? secrets.reads(query) : 0;
    },
    readServiceAccount: async (review, take) => {
      const query = secrets && queryOf(review);
      if (secrets && query) await secrets.readServiceAccount(query, take);
    },
    credentials: async (review, timeoutMs) => {
      const query = queryOf(review);
      if (!secrets || !query) return empty;
      try {
        return await secrets.credentials(query, timeoutMs);
      } catch (error) {
        if (error instanceof PullSecretError) return { code: error.code, message: error.message };
        throw error;
      }
    },
    eventsDropped: () => events?.dropped ?? 0,
    recordEvents: (review, decision) => {
      // sideEffects: None — a dry run must leave no trace.
      if (!events || review.dryRun || review.namespace === undefined) return;
      const namespace = review.namespace;
      const warning = decision.decision === 'deny' || decision.decision === 'audit' || decision.decision === 'warn';
      if (!warning && decision.patch.length === 0) return;
      // Built only when the recorder has room for it: under load most are dropped (rate limit).
      events.record(warning ? 'Warning' : 'Normal', () => {
        const metadata = (review.object?.metadata ?? {}) as { name?: unknown; generateName?: unknown; uid?: unknown };
        const name = typeof metadata.name === 'string' && metadata.name ? metadata.name : review.name || (typeof metadata.generateName === 'string' ? metadata.generateName : '');
        let message;
        if (warning) {
          const found = decision.decision === 'deny' ? decision.message : (decision.auditAnnotations[AUDIT_ANNOTATION] ?? decision.warnings.join('\n'));
          message = `${decision.decision}: ${found}`;
        } else {
          const pinned = decision.containers.filter((c) => c.verified).map((c) => `${originalKey(c.container)}=${c.verified?.digest ?? ''}`);
          message = `pinned to signed digests: ${pinned.join(', ')}`;
        }
        return {
          namespace,
          kind: review.kind.kind,
          name,
          uid: typeof metadata.uid === 'string' ? metadata.uid : undefined,
          apiVersion: review.kind.group ? `${review.kind.group}/${review.kind.version}` : review.kind.version,
          reason: warning ? 'ImageNotTrusted' : 'ImagePinned',
          type: warning ? 'Warning' : 'Normal',
          message,
        };
      });
    },
    stop: () => informers?.stop(),
  };
}
