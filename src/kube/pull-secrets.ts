// Registry credentials the way the kubelet finds them: the pod's imagePullSecrets, else its
// ServiceAccount's; kubernetes.io/dockerconfigjson and kubernetes.io/dockercfg secrets; plus an
// optional cluster-wide secret in trustgate's namespace, kept apart (docs/adr/0005). Secrets are
// read only in the namespace of the pod under review, at most MAX_PULL_SECRETS of them, a few at
// a time and within the review's deadline; kept a short while, and never logged.
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { LRUCache } from 'lru-cache';
import { parseDockerConfig, type Credentials } from '../registry/index.js';

export interface PodCredentialsQuery {
  readonly namespace: string;
  readonly serviceAccountName: string | undefined;
  readonly imagePullSecrets: readonly string[];
}

type Auths = ReadonlyMap<string, Credentials>;

/** Credentials by owner: the pod's namespace's and the cluster's (src/admission/credentials.ts). */
export interface OwnedCredentials {
  readonly namespace: Auths;
  readonly cluster: Auths;
}

/**
 * Pull secrets one pod (or its ServiceAccount) may list. The kubelet has no limit, but no real
 * pod needs more than a handful, and each is an API read on the admission path: a pod listing
 * 3,000 cost 3,000 reads (issue 9). More is refused with TOO_MANY_PULL_SECRETS before any read.
 */
export const MAX_PULL_SECRETS = 64;
/** API reads in flight for one review. */
const READ_CONCURRENCY = 8;

export class PullSecretError extends Error {
  constructor(readonly code: 'TIMEOUT' | 'TOO_MANY_PULL_SECRETS', message: string) {
    super(message);
    this.name = 'PullSecretError';
  }
}

/** How long a ServiceAccount's pull-secret names and a secret's credentials are kept. */
const TTL_MS = 30_000;

export class PullSecretReader {
  private readonly api: CoreV1Api;
  private readonly serviceAccounts = objectCache<readonly string[]>(async (namespace, name) => {
    const sa = await this.api.readNamespacedServiceAccount({ namespace, name });
    return (sa.imagePullSecrets ?? []).map((s) => s.name ?? '').filter(Boolean);
  }, []);
  // The kubelet ignores a missing pull secret too.
  private readonly secrets = objectCache<Auths>(async (namespace, name) => dockerAuths(await this.api.readNamespacedSecret({ namespace, name }), `${namespace}/${name}`), EMPTY);

  private readonly namespaces: ReadonlySet<string> | undefined;

  /**
   * @param namespaces where trustgate may read pull secrets (the chart grants `get` only there);
   *   undefined: every namespace. Pods elsewhere get no credentials of their own, without asking.
   */
  constructor(kubeConfig: KubeConfig, private readonly clusterSecret: { namespace: string; name: string } | undefined, namespaces?: readonly string[]) {
    this.api = kubeConfig.makeApiClient(CoreV1Api);
    this.namespaces = namespaces && new Set(namespaces);
  }

  /**
   * The pod's credentials and the cluster's, each by registry host. Rejects with a
   * PullSecretError: TOO_MANY_PULL_SECRETS (nothing read), or TIMEOUT when the reads take longer
   * than `timeoutMs` (reads not yet started are not started).
   */
  async credentials(query: PodCredentialsQuery, timeoutMs: number): Promise<OwnedCredentials> {
    tooMany(query.imagePullSecrets, `the pod lists ${query.imagePullSecrets.length} imagePullSecrets`);
    const cached = this.fromCache(query);
    if (cached) return cached;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        stopped = true;
        reject(new PullSecretError('TIMEOUT', `the pull secrets of namespace ${query.namespace} were not read from the API server within ${Math.round(timeoutMs)} ms`));
      }, Math.max(timeoutMs, 0));
    });
    try {
      return await Promise.race([this.load(query, () => stopped), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * At most how many API reads credentials() would make now (the audit takes an API token for
   * each): the ServiceAccount, each pull secret not cached, the cluster's secret. A ServiceAccount
   * not cached may list up to MAX_PULL_SECRETS secrets, all counted: readServiceAccount() first
   * makes the count exact.
   */
  reads(query: PodCredentialsQuery): number {
    let n = this.clusterSecret && !this.secrets.has(`${this.clusterSecret.namespace}/${this.clusterSecret.name}`) ? 1 : 0;
    if (query.imagePullSecrets.length > MAX_PULL_SECRETS || !this.readable(query.namespace)) return n;
    let names = query.imagePullSecrets;
    if (names.length === 0) {
      const listed = this.serviceAccounts.get(`${query.namespace}/${query.serviceAccountName ?? 'default'}`);
      if (listed === undefined) return n + 1 + MAX_PULL_SECRETS;
      if (listed.length > MAX_PULL_SECRETS) return n; // refused before any secret is read
      names = listed;
    }
    for (const name of new Set(names)) if (!this.secrets.has(`${query.namespace}/${name}`)) n++;
    return n;
  }

  /**
   * Reads the pod's ServiceAccount when its pull-secret names are needed and not cached, after
   * `take()` (the audit's API token): reads() is exact after it, as a tenant's ServiceAccount may
   * list MAX_PULL_SECRETS secrets for a pod that lists none.
   */
  async readServiceAccount(query: PodCredentialsQuery, take: () => Promise<void>): Promise<void> {
    if (query.imagePullSecrets.length > 0 || !this.readable(query.namespace)) return;
    const account = query.serviceAccountName ?? 'default';
    if (this.serviceAccounts.has(`${query.namespace}/${account}`)) return;
    await take();
    await this.read(this.serviceAccounts, query.namespace, account, []);
  }

  private readable(namespace: string): boolean {
    return this.namespaces === undefined || this.namespaces.has(namespace);
  }

  /**
   * The answer when every object it needs is cached, as in a cluster's steady state: read
   * synchronously, without the deadline's timer and a promise per read, which cost the webhook
   * benchmark's Kubernetes side a fifth of its throughput. Undefined when anything must be read.
   */

  private fromCache(query: PodCredentialsQuery): OwnedCredentials | undefined {
    const account = query.serviceAccountName ?? 'default';
    let names: readonly string[] = [];
    if (this.namespaces === undefined || this.namespaces.has(query.namespace)) {
      names = query.imagePullSecrets.length > 0 ? query.imagePullSecrets : this.serviceAccounts.get(`${query.namespace}/${account}`) ?? MISSING;
      if (names === MISSING) return undefined;
    }
    tooMany(names, `ServiceAccount ${query.namespace}/${account} lists ${names.length} imagePullSecrets`);
    let cluster = EMPTY;
    if (this.clusterSecret) {
      const found = this.secrets.get(`${this.clusterSecret.namespace}/${this.clusterSecret.name}`);
      if (found === undefined) return undefined;
      cluster = found;
    }
    // In the pod's order: the last secret naming a host wins, as in load().
    const namespace = new Map<string, Credentials>();
    for (const name of new Set(names)) {
      const auths = this.secrets.get(`${query.namespace}/${name}`);
      if (auths === undefined) return undefined;
      for (const [host, c] of auths) namespace.set(host, c);
    }
    return { namespace, cluster };
  }

  private async load(query: PodCredentialsQuery, stopped: () => boolean): Promise<OwnedCredentials> {
    const account = query.serviceAccountName ?? 'default';
    const readable = this.namespaces === undefined || this.namespaces.has(query.namespace);
    const [names, cluster] = await Promise.all([
      !readable ? [] : query.imagePullSecrets.length > 0 ? query.imagePullSecrets : this.read(this.serviceAccounts, query.namespace, account, []),
      this.clusterSecret ? this.read(this.secrets, this.clusterSecret.namespace, this.clusterSecret.name, EMPTY) : EMPTY,
    ]);
    tooMany(names, `ServiceAccount ${query.namespace}/${account} lists ${names.length} imagePullSecrets`);
    const unique = [...new Set(names)];
    const found = new Array<Auths>(unique.length);
    let next = 0;
    const worker = async () => {
      while (next < unique.length && !stopped()) {
        const i = next++;
        found[i] = await this.read(this.secrets, query.namespace, unique[i]!, EMPTY);
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, unique.length) }, worker));
    // In the pod's order: the last secret naming a host wins, as before.
    const namespace = new Map<string, Credentials>();
    for (const auths of found) for (const [host, c] of auths ?? EMPTY) namespace.set(host, c);
    return { namespace, cluster };
  }

  /** A cached or fetched value; on a failed read, `fallback` (nothing to authenticate with). */
  private async read<V extends object>(cache: LRUCache<string, V>, namespace: string, name: string, fallback: V): Promise<V> {
    try {
      return (await cache.fetch(`${namespace}/${name}`)) ?? fallback;
    } catch {
      return fallback;
    }
  }
}

const EMPTY: Auths = new Map();
/** Not cached (a distinct array, compared by identity). */
const MISSING: readonly string[] = [];

function tooMany(names: readonly string[], what: string): void {
  if (names.length > MAX_PULL_SECRETS) throw new PullSecretError('TOO_MANY_PULL_SECRETS', `${what}; at most ${MAX_PULL_SECRETS} are read`);
}

/**
 * Objects read from the API server by "namespace/name", kept TTL_MS. Concurrent reads share one
 * request: a burst of pods reads each ServiceAccount and secret once, not once per pod. A missing
 * object is kept as `missing`; a failed read is not kept (the next review asks again).
 */
function objectCache<V extends object>(read: (namespace: string, name: string) => Promise<V>, missing: V): LRUCache<string, V> {
  return new LRUCache<string, V>({
    max: 2000,
    ttl: TTL_MS,
    fetchMethod: async (key) => {
      // Namespaces and object names contain no "/".
      const slash = key.indexOf('/');
      try {
        return await read(key.slice(0, slash), key.slice(slash + 1));
      } catch (error) {
        if (notFound(error)) return missing;
        throw error;
      }
    },
  });
}

function notFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 404;
}

/** Reads both secret types; anything else, or anything malformed, contributes nothing. */
export function dockerAuths(secret: V1Secret, where: string): Auths {
  const data = secret.data ?? {};
  try {
    if (secret.type === 'kubernetes.io/dockerconfigjson' && data['.dockerconfigjson']) {
      return parseDockerConfig(Buffer.from(data['.dockerconfigjson'], 'base64').toString('utf8'), where);
    }
    if (secret.type === 'kubernetes.io/dockercfg' && data['.dockercfg']) {
      // The legacy form is the "auths" map itself.
      const legacy = Buffer.from(data['.dockercfg'], 'base64').toString('utf8');
      return parseDockerConfig(`{"auths":${legacy}}`, where);
    }
  } catch {
    /* malformed: no credentials from it */
  }
  return new Map();
}
