// Policies from the ClusterImagePolicy and ImagePolicy CRDs: list+watch informers (reconnecting
// with backoff), each object checked by the same parser as the files, its verdict written back
// to .status, and the set in force rebuilt after changes. Rebuilding stays off the admission
// path (issue 9 item 6): an object is parsed only when its uid or generation is new (metadata
// and status edits keep the generation), rebuilds are coalesced and yield to the event loop
// between parses, and each namespace's ImagePolicy objects are held to NAMESPACE_BUDGET.
import { CustomObjectsApi, ListWatch, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { WatchRestarts } from './watch-restarts.js';
import { BudgetUsage, CLUSTER_BUDGET, describePolicy, hasTrustStoreRefs, NAMESPACE_BUDGET, parsePolicy, PolicyError, PolicyKind, rawCost, refusedStandIn, resolveTrustStoreRefs, type Policy, type TrustStoreSource } from '../policy/index.js';
import { readTrustStoresOnce, TrustStoreInformers } from './trust-stores.js';

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

/** One object's verdict, kept while its uid, generation and budget standing stay the same. */
interface Compiled {
  readonly version: string;
  readonly policy: Policy | undefined;
  readonly problem: string | undefined;
  /** Set when refused for the budget (never parsed). */
  readonly refusedFor?: string;
  /** The refused object's stand-in, made once. */
  standIn?: Policy;
}

/** Parse work done between two yields to the event loop. */
const SLICE_MS = 5;

export class PolicyInformers {
  private readonly informers: ListWatch<PolicyObject>[] = [];
  private readonly synced = new Set<string>();
  /** Reconnects a failed watch with backoff (src/kube/watch-restarts.ts); stopped by stop(). */
  private readonly restarts: WatchRestarts;
  private readonly api: CustomObjectsApi;
  /** Verdicts by uid; entries of deleted objects are dropped on each rebuild (bounded by the objects). */
  private readonly compiled = new Map<string, Compiled>();
  private rebuilding = false;
  private again = false;
  /** What the last onChange was built from; unchanged inputs skip onChange. */
  private lastInput: string | undefined;
  /** A rebuild has finished since both kinds were listed: the set in force reflects them. */
  private built = false;
  /** Why the last list or watch failed; cleared by a successful list. */
  private lastFailure: string | undefined;

  /** Notation trust stores from labelled ConfigMaps and Secrets of trustgate's namespace, when it is configured. */
  private readonly trustStores: TrustStoreInformers | undefined;
  /** Or trust stores read once, for a one-shot reader (readPoliciesOnce). */
  private readonly staticStores: TrustStoreSource | undefined;
  /** The objects the last rebuild refused for their trust store refs, with why (one entry per object). */
  private refProblems: readonly TrustStoreRefProblem[] = [];

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly logger: Logger,
    /** Called with every valid policy whenever anything changes. */
    private readonly onChange: (policies: Policy[]) => void,
    /**
     * trustgate's own namespace, the only one configMapRef/secretRef are read from, and whether
     * Secrets are (watched); or its objects already read. Undefined: refs are refused.
     */
    trustStores?: { readonly namespace: string; readonly secrets: boolean } | TrustStoreSource,
    /** Record each object's verdict in its .status; off for a reader such as `trustgate check`. */
    private readonly writesStatus = true,
  ) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
    this.restarts = new WatchRestarts(logger, 'policy watch failed; reconnecting');
    if (trustStores !== undefined && 'get' in trustStores) this.staticStores = trustStores;
    else this.trustStores = trustStores && new TrustStoreInformers(kubeConfig, trustStores, logger.child({ component: 'trust-stores' }), () => this.schedule());
  }

  /** Ready once both kinds (and the trust stores) have been listed and the policies built from them. */
  get ready(): boolean {
    return this.synced.size === KINDS.length && this.built && (this.trustStores?.ready ?? true);
  }

  async start(): Promise<void> {
    // Listed beside the policies, not before them: rebuilds wait for both (schedule()).
    const trustStores = this.trustStores?.start();
    const api = this.api;
    for (const { kind, plural } of KINDS) {
      const path = `/apis/${GROUP}/${VERSION}/${plural}`;
      // Synced means a list succeeded (client-node's "connect" fires before listing, even when
      // the list then fails). Rebuild on the next tick, after the items are in the cache: an
      // empty list raises no "add" event. Objects are checked one by one in rebuild().
      const list = async () => {
        const answer = listOf(await api.listCustomObjectForAllNamespaces({ group: GROUP, version: VERSION, resourcePlural: plural }));
        this.synced.add(kind);
        this.lastFailure = undefined;
        this.restarts.listed(kind);
        this.schedule();
        return answer;
      };
      const informer = new ListWatch<PolicyObject>(path, new Watch(this.kubeConfig), list, false);
      const changed = () => this.schedule();
      informer.on('add', changed);
      informer.on('update', changed);
      informer.on('delete', changed);
      informer.on('error', (error: unknown) => {
        this.lastFailure = describeError(error);
        this.restarts.restart(informer, kind, error);
      });
      this.informers.push(informer);
    }
    await Promise.all([...this.informers.map((i) => i.start()), trustStores]);
  }

  stop(): void {
    this.restarts.stop();
    this.trustStores?.stop();
    for (const informer of this.informers) void informer.stop();
  }

  /** The objects the last rebuild refused because a trust store ref could not be resolved. */
  get trustStoreRefProblems(): readonly TrustStoreRefProblem[] {
    return this.refProblems;
  }

  /** Why the last list or watch failed, while no list has succeeded since. */
  get failure(): string | undefined {
    return this.lastFailure;
  }

  /** Coalesces changes: one rebuild runs at a time, and one more follows if anything changed meanwhile. */
  private schedule(): void {
    // Until the trust stores are listed a ref would be refused for nothing: their list schedules one.
    if (this.trustStores && !this.trustStores.ready) return;
    if (this.rebuilding) {
      this.again = true;
      return;
    }
    this.rebuilding = true;
    setImmediate(() => {
      this.rebuild()
        .catch((error: unknown) => this.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'policy rebuild failed'))
        .finally(() => {
          this.rebuilding = false;
          if (this.again && !this.restarts.isStopped) {
            this.again = false;
            this.schedule();
          }
        });
    });
  }

  /**
   * Builds the policies in force and writes every object's verdict to its .status. A namespace's
   * ImagePolicy objects count against NAMESPACE_BUDGET oldest first (then by name), so a new
   * object cannot push out one already in force; the budget is counted on the raw objects, so
   * those past it are never parsed. A refused object, invalid or past the budget, is replaced
   * by its stand-in, which denies the images it names (POLICY_REFUSED).
   */
  private async rebuild(): Promise<void> {
    const complete = this.synced.size === KINDS.length;
    const all: { object: PolicyObject; kind: string; plural: string; namespaced: boolean; order: string }[] = [];
    for (const [i, informer] of this.informers.entries()) {
      const { kind, plural, namespaced } = KINDS[i]!;
      for (const object of informer.list()) all.push({ object, kind, plural, namespaced, order: orderOf(object) });
    }
    all.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
    const seen = new Set<string>();
    const used = new Map<string, { usage: BudgetUsage; over: number }>();
    const cluster = new BudgetUsage(CLUSTER_BUDGET);
    const policies: Policy[] = [];
    const inputs: string[] = [];
    const refProblems: TrustStoreRefProblem[] = [];
    let sliceStart = performance.now();
    for (const { object, kind, plural, namespaced } of all) {
      const name = object.metadata?.name ?? '';
      const namespace = object.metadata?.namespace ?? '';
      const source = `${kind}/${namespaced ? `${namespace}/` : ''}${name}`;
      const uid = object.metadata?.uid ?? source;
      // Trust store refs resolved first: the certificates they bring count against the budget,
      // and the object is compiled again whenever an object it names changes (its version).
      const refs = hasTrustStoreRefs(object.spec) ? resolveTrustStoreRefs(object.spec, this.trustStores?.index ?? this.staticStores) : undefined;
      if (refs && refs.problems.length > 0) refProblems.push({ source, namespace: namespaced ? namespace : undefined, problems: refs.problems });
      const spec = refs?.spec ?? object.spec;
      const version = `${object.metadata?.generation ?? object.metadata?.resourceVersion ?? ''}${refs ? `+${refs.inputs.join(',')}${refs.problems.length > 0 ? `!${refs.problems.join(';')}` : ''}` : ''}`;
      let problem: string | undefined;
      let policy: Policy | undefined;
      // Counted as the object costs once compiled (keys, pattern states, trusted roots), unparsed.
      const u = namespaced ? used.get(namespace) ?? { usage: new BudgetUsage(NAMESPACE_BUDGET), over: 0 } : undefined;
      if (u) used.set(namespace, u);
      const exceeded = (u?.usage ?? cluster).add(rawCost(spec));
      if (u && exceeded !== undefined) {
        u.over += 1;
        const budget = `over the namespace budget of ${NAMESPACE_BUDGET.policies} ImagePolicy objects, ${NAMESPACE_BUDGET.keys} pinned keys, ${NAMESPACE_BUDGET.patternStates} identity-pattern states and ${NAMESPACE_BUDGET.trustedRootBytes} characters of trusted roots (this one would exceed ${exceeded}; older objects come first)`;
        // Stand-ins cost a pattern compile each: past twice the budget, one `**` stand-in
        // speaks for all of the namespace's surplus objects.
        if (u.over > NAMESPACE_BUDGET.policies) {
          problem = `${budget}; with more than ${NAMESPACE_BUDGET.policies} objects past it, every image of namespace ${namespace} is denied (POLICY_REFUSED) until objects are deleted`;
          if (u.over === NAMESPACE_BUDGET.policies + 1) policies.push(refusedStandIn({ kind: PolicyKind.NAMESPACED, name, namespace, spec: { images: ['**'] } }, problem, source));
          inputs.push(`${uid}@${version}!`);
          this.writeStatus(object, plural, namespaced, problem);
          continue;
        }
        problem = `${budget}; not enforced, so the images it names are denied (POLICY_REFUSED) until it or older objects are deleted`;
      } else if (exceeded !== undefined) {
        problem = `over the cluster budget of ClusterImagePolicy objects (this one would exceed ${exceeded}; older objects come first); not enforced, so the images it names are denied (POLICY_REFUSED) until it or older objects are deleted`;
      }
      let compiled = this.compiled.get(uid);
      if (compiled?.version !== version || (problem === undefined) !== (compiled.refusedFor === undefined)) {
        if (performance.now() - sliceStart > SLICE_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          sliceStart = performance.now();
        }
        compiled = problem !== undefined
          ? { version, policy: undefined, problem, refusedFor: problem }
          : refs && refs.problems.length > 0
            ? this.refuse(source, version, refs.problems)
            : this.compile({ ...object, spec }, kind, namespaced, version, source);
        this.compiled.set(uid, compiled);
      }
      seen.add(uid);
      ({ policy } = compiled);
      problem = compiled.problem;
      if (!policy) {
        compiled.standIn ??= refusedStandIn({ kind: namespaced ? PolicyKind.NAMESPACED : PolicyKind.CLUSTER, name, namespace: namespaced ? namespace : undefined, spec: object.spec }, problem ?? 'unreadable', source);
        policy = compiled.standIn;
      }
      inputs.push(`${uid}@${version}${problem === undefined ? '' : '!'}`);
      policies.push(policy);
      this.writeStatus(object, plural, namespaced, problem);
    }
    for (const uid of this.compiled.keys()) if (!seen.has(uid)) this.compiled.delete(uid);
    this.refProblems = refProblems;
    if (complete) this.built = true;
    const input = inputs.join(',');
    if (input === this.lastInput) return;
    this.lastInput = input;
    this.logger.info({ policies: policies.filter((p) => p.refused === undefined).map((p) => describePolicy(p)), refused: policies.filter((p) => p.refused !== undefined).map((p) => describePolicy(p)) }, 'policies from the API server');
    this.onChange(policies);
  }

  private compile(object: PolicyObject, kind: string, namespaced: boolean, version: string, source: string): Compiled {
    const name = object.metadata?.name ?? '';
    try {
      const policy = parsePolicy({ apiVersion: `${GROUP}/${VERSION}`, kind, metadata: { name, ...(namespaced && { namespace: object.metadata?.namespace }) }, spec: object.spec }, source);
      return { version, policy, problem: undefined };
    } catch (error) {
      const problem = error instanceof PolicyError ? error.problems.join('; ') : String(error);
      this.logger.error({ policy: source, problems: problem }, 'policy refused');
      return { version, policy: undefined, problem };
    }
  }

  /** A policy whose trust store refs could not be resolved: refused as a whole, never compiled in part. */
  private refuse(source: string, version: string, problems: readonly string[]): Compiled {
    const problem = problems.join('; ');
    this.logger.error({ policy: source, problems: problem }, 'policy refused');
    return { version, policy: undefined, problem };
  }

  /** Records the verdict in .status when it changed (a JSON Patch of /status). */
  private writeStatus(object: PolicyObject, plural: string, namespaced: boolean, problem: string | undefined): void {
    if (!this.writesStatus) return;
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

/** An object refused because its configMapRef/secretRef could not be resolved. */
export interface TrustStoreRefProblem {
  /** `ClusterImagePolicy/name` or `ImagePolicy/namespace/name`. */
  readonly source: string;
  /** An ImagePolicy's namespace; undefined for a ClusterImagePolicy. */
  readonly namespace: string | undefined;
  readonly problems: readonly string[];
}

export interface PoliciesRead {
  /** Refused objects included, as their stand-ins (POLICY_REFUSED), as serve has them. */
  readonly policies: Policy[];
  readonly trustStoreRefProblems: readonly TrustStoreRefProblem[];
}

/**
 * The policies in force now, read once (`trustgate check --kubeconfig`): the informers' own list
 * and compile path, budgets and refused stand-ins included, without writing any status.
 * @throws Error when both kinds are not listed within `timeoutMs`, with the last failure.
 */
export async function readPoliciesOnce(kubeConfig: KubeConfig, logger: Logger, timeoutMs: number, trustStoreNamespace?: string): Promise<PoliciesRead> {
  let latest: Policy[] = [];
  // The trust stores first: every policy is then compiled once, against them as they are now.
  // One deadline for both: an API server that never answers the list is a failure, not a hang.
  const until = performance.now() + timeoutMs;
  const stores = trustStoreNamespace === undefined ? undefined : await within(readTrustStoresOnce(kubeConfig, trustStoreNamespace), timeoutMs, `trust stores of namespace ${trustStoreNamespace} not listed within ${timeoutMs} ms`);
  const informers = new PolicyInformers(kubeConfig, logger, (policies) => (latest = policies), stores, false);
  try {
    await informers.start();
    while (!informers.ready) {
      // Once, not a watch that must outlive an API server restart: the first failure is the answer.
      if (informers.failure !== undefined) throw new Error(informers.failure);
      if (performance.now() > until) throw new Error(`policies not listed within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return { policies: latest, trustStoreRefProblems: informers.trustStoreRefProblems };
  } finally {
    informers.stop();
  }
}

/** `promise`, or an Error with `message` after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** An error's message, with the network cause fetch hides behind "fetch failed". */
function describeError(error: unknown): string {
  const message = fieldOf(error, 'message') ?? String(error);
  // Read by shape: undici's errors may come from another realm than this module's Error.
  const cause = typeof error === 'object' && error !== null ? (error as { cause?: unknown }).cause : undefined;
  const why = fieldOf(cause, 'code') ?? fieldOf(cause, 'message');
  return why === undefined ? message : `${message}: ${why}`;
}

function fieldOf(value: unknown, key: 'code' | 'message'): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const field: unknown = (value as Record<string, unknown>)[key];
  return typeof field === 'string' ? field : undefined;
}

/** Oldest first, then by name: the order the namespace budget is filled in. */
function orderOf(object: PolicyObject): string {
  const created = object.metadata?.creationTimestamp;
  const time = created instanceof Date ? created.toISOString() : typeof created === 'string' ? created : '';
  return `${time} ${object.metadata?.namespace ?? ''} ${object.metadata?.name ?? ''}`;
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
