// Which namespaces the webhooks review: the same test as the webhook configurations'
// namespaceSelector (charts/trustgate/templates/webhooks.yaml), read from each namespace's labels.
// The API server sends reviews only for those, so a review naming another namespace was forged
// (or raced a label change): trustgate answers it but writes nothing there (docs/security.md).
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { LRUCache } from 'lru-cache';
import type { NamespaceScope } from '../config/index.js';

/** The label the chart's namespaceSelector reads. */
export const ENFORCE_LABEL = 'trustgate.dev/enforce';

/** Whether a namespace with these labels is sent for review; `labels` undefined: no such namespace. */
export function isReviewed(scope: NamespaceScope, namespace: string, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (labels === undefined || scope.excluded.includes(namespace)) return false;
  return scope.scope === 'optIn' ? labels[ENFORCE_LABEL] === 'true' : labels[ENFORCE_LABEL] !== 'false';
}

/** Labels kept this long: a label change reaches Events within it. */
const TTL_MS = 10_000;
/** Namespaces kept, reviewed or not; a forged review naming made-up ones evicts the oldest. */
const MAX_NAMESPACES = 1000;

type Labels = Readonly<Record<string, string>>;
const MISSING: Labels = Object.freeze({ '': 'missing' });

/**
 * Namespace labels read from the API server (`get namespaces`), kept TTL_MS, at most
 * MAX_NAMESPACES, one request for concurrent asks. A failed read is not kept and counts as
 * "not reviewed": nothing is written where trustgate cannot tell.
 */
export class ReviewedNamespaces {
  private readonly api: CoreV1Api;
  private readonly labels: LRUCache<string, Labels>;

  constructor(kubeConfig: KubeConfig, private readonly scope: NamespaceScope) {
    this.api = kubeConfig.makeApiClient(CoreV1Api);
    this.labels = new LRUCache<string, Labels>({
      max: MAX_NAMESPACES,
      ttl: TTL_MS,
      fetchMethod: async (name) => {
        try {
          return (await this.api.readNamespace({ name })).metadata?.labels ?? {};
        } catch (error) {
          if (typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 404) return MISSING;
          throw error;
        }
      },
    });
  }

  async reviewed(namespace: string): Promise<boolean> {
    // Excluded ones need no read at all (kube-system, trustgate's own).
    if (this.scope.excluded.includes(namespace)) return false;
    let labels: Labels | undefined;
    try {
      labels = await this.labels.fetch(namespace);
    } catch {
      return false;
    }
    return isReviewed(this.scope, namespace, labels === MISSING ? undefined : labels);
  }

  /** Namespaces whose labels are kept (for tests and docs/architecture.md's bound). */
  get size(): number {
    return this.labels.size;
  }
}
