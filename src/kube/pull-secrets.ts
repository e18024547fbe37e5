// Registry credentials the way the kubelet finds them: the pod's imagePullSecrets, else its
// ServiceAccount's; kubernetes.io/dockerconfigjson and kubernetes.io/dockercfg secrets; plus an
// optional cluster-wide secret in trustgate's namespace. Secrets are read only in the namespace
// of the pod under review, kept a short while, and never logged.
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { LRUCache } from 'lru-cache';
import { parseDockerConfig, type Credentials } from '../registry/index.js';

export interface PodCredentialsQuery {
  readonly namespace: string;
  readonly serviceAccountName: string | undefined;
  readonly imagePullSecrets: readonly string[];
}

type Auths = ReadonlyMap<string, Credentials>;

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

  constructor(kubeConfig: KubeConfig, private readonly clusterSecret: { namespace: string; name: string } | undefined) {
    this.api = kubeConfig.makeApiClient(CoreV1Api);
  }

  /** Registry host → credentials; the pod's own secrets take precedence over the cluster-wide one. */
  async credentials(query: PodCredentialsQuery): Promise<Auths> {
    let names = query.imagePullSecrets;
    if (names.length === 0) names = await this.read(this.serviceAccounts, query.namespace, query.serviceAccountName ?? 'default', []);
    const merged = new Map<string, Credentials>();
    if (this.clusterSecret) for (const [host, c] of await this.read(this.secrets, this.clusterSecret.namespace, this.clusterSecret.name, EMPTY)) merged.set(host, c);
    for (const name of names) for (const [host, c] of await this.read(this.secrets, query.namespace, name, EMPTY)) merged.set(host, c);
    return merged;
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
