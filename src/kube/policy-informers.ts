// Policies from the ClusterImagePolicy and ImagePolicy CRDs: list+watch informers (reconnecting
// with backoff), each object checked by the same parser as the files, its verdict written back
// to .status, and the set in force rebuilt on every change.
import { CustomObjectsApi, ListWatch, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describePolicy, parsePolicy, PolicyError, type Policy } from '../policy/index.js';

const GROUP = 'trustgate.dev';
const VERSION = 'v1alpha1';
const KINDS = [
  { kind: 'ClusterImagePolicy', plural: 'clusterimagepolicies', namespaced: false },
  { kind: 'ImagePolicy', plural: 'imagepolicies', namespaced: true },
] as const;

interface PolicyObject extends KubernetesObject {
  spec?: unknown;
  status?: { accepted?: boolean; message?: string; observedGeneration?: number };
}

export class PolicyInformers {
  private readonly informers: ListWatch<PolicyObject>[] = [];
  private readonly synced = new Set<string>();
  /** Consecutive failures per kind, for the reconnect backoff; a successful list resets it. */
  private readonly failures = new Map<string, number>();
  private stopped = false;
  private readonly api: CustomObjectsApi;

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly logger: Logger,
    /** Called with every valid policy whenever anything changes. */
    private readonly onChange: (policies: Policy[]) => void,
  ) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  /** Ready once both kinds have been listed. */
  get ready(): boolean {
    return this.synced.size === KINDS.length;
  }

  async start(): Promise<void> {
    const api = this.api;
    for (const { kind, plural } of KINDS) {
      const path = `/apis/${GROUP}/${VERSION}/${plural}`;
      // Synced means a list succeeded (client-node's "connect" fires before listing, even when
      // the list then fails). Rebuild on the next tick, after the items are in the cache: an
      // empty list raises no "add" event. Objects are checked one by one in rebuild().
      const list = async () => {
        const answer = listOf(await api.listCustomObjectForAllNamespaces({ group: GROUP, version: VERSION, resourcePlural: plural }));
        this.synced.add(kind);
        this.failures.delete(kind);
        setImmediate(() => this.rebuild());
        return answer;
      };
      const informer = new ListWatch<PolicyObject>(path, new Watch(this.kubeConfig), list, false);
      const changed = () => this.rebuild();
      informer.on('add', changed);
      informer.on('update', changed);
      informer.on('delete', changed);
      informer.on('error', (error: unknown) => this.restart(informer, kind, error));
      this.informers.push(informer);
    }
    await Promise.all(this.informers.map((i) => i.start()));
  }

  stop(): void {
    this.stopped = true;
    for (const informer of this.informers) void informer.stop();
  }

  /** Reconnect with exponential backoff (1 s … 30 s) after a watch or list failure. */
  private restart(informer: ListWatch<PolicyObject>, kind: string, error: unknown): void {
    if (this.stopped) return;
    const attempt = (this.failures.get(kind) ?? 0) + 1;
    this.failures.set(kind, attempt);
    const delay = Math.min(30_000, 1000 * 2 ** (attempt - 1));
    this.logger.warn({ kind, err: error instanceof Error ? error.message : String(error), retryInMs: delay }, 'policy watch failed; reconnecting');
    setTimeout(() => {
      if (this.stopped) return;
      informer.start().catch((e: unknown) => this.restart(informer, kind, e));
    }, delay).unref();
  }

  private rebuild(): void {
    const policies: Policy[] = [];
    this.informers.forEach((informer, i) => {
      const { kind, plural, namespaced } = KINDS[i]!;
      for (const object of informer.list()) {
        const name = object.metadata?.name ?? '';
        const source = `${kind}/${namespaced ? `${object.metadata?.namespace ?? ''}/` : ''}${name}`;
        let problem: string | undefined;
        try {
          policies.push(parsePolicy({ apiVersion: `${GROUP}/${VERSION}`, kind, metadata: { name, ...(namespaced && { namespace: object.metadata?.namespace }) }, spec: object.spec }, source));
        } catch (error) {
          problem = error instanceof PolicyError ? error.problems.join('; ') : String(error);
          this.logger.error({ policy: source, problems: problem }, 'policy refused');
        }
        this.writeStatus(object, plural, namespaced, problem);
      }
    });
    this.logger.info({ policies: policies.map((p) => describePolicy(p)) }, 'policies from the API server');
    this.onChange(policies);
  }

  /** Records the verdict in .status when it changed (a JSON Patch of /status). */
  private writeStatus(object: PolicyObject, plural: string, namespaced: boolean, problem: string | undefined): void {
    const generation = object.metadata?.generation;
    const status = { accepted: problem === undefined, message: problem ?? 'accepted', ...(generation !== undefined && { observedGeneration: generation }) };
    const current = object.status;
    if (current?.accepted === status.accepted && current.message === status.message && current.observedGeneration === generation) return;
    const api = this.api;
    const name = object.metadata?.name ?? '';
    const body = [{ op: 'add', path: '/status', value: status }];
    const request = namespaced
      ? api.patchNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace: object.metadata?.namespace ?? '', plural, name, body })
      : api.patchClusterCustomObjectStatus({ group: GROUP, version: VERSION, plural, name, body });
    request.catch((error: unknown) => this.logger.warn({ name, err: error instanceof Error ? error.message : String(error) }, 'could not write policy status'));
  }
}

/** The items of a list response; anything that is not an object with a name is dropped. */
function listOf(response: unknown): { apiVersion: string; kind: string; metadata: Record<string, string>; items: PolicyObject[] } {
  const doc = typeof response === 'object' && response !== null ? (response as Record<string, unknown>) : {};
  const items = Array.isArray(doc.items) ? doc.items : [];
  const metadata = typeof doc.metadata === 'object' && doc.metadata !== null ? (doc.metadata as Record<string, string>) : {};
  return {
    apiVersion: typeof doc.apiVersion === 'string' ? doc.apiVersion : '',
    kind: typeof doc.kind === 'string' ? doc.kind : '',
    metadata,
    items: items.filter((item): item is PolicyObject => typeof item === 'object' && item !== null && typeof (item as PolicyObject).metadata?.name === 'string'),
  };
}
