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
  // Both caches coalesce: a burst of pods reads each ServiceAccount and secret once, not once
  // per pod. A failed read is not kept (the next review asks again); a missing object is.
  private readonly serviceAccounts = new LRUCache<string, readonly string[]>({
    max: 2000,
    ttl: TTL_MS,
    fetchMethod: async (key) => {
      const [namespace, name] = split(key);
      try {
        const sa = await this.api.readNamespacedServiceAccount({ namespace, name });
        return (sa.imagePullSecrets ?? []).map((s) => s.name ?? '').filter(Boolean);
      } catch (error) {
        if (notFound(error)) return [];
        throw error;
      }
    },
  });
  private readonly secrets = new LRUCache<string, Auths>({
    max: 2000,
    ttl: TTL_MS,
    fetchMethod: async (key) => {
      const [namespace, name] = split(key);
      try {
        return dockerAuths(await this.api.readNamespacedSecret({ namespace, name }), key);
      } catch (error) {
        if (notFound(error)) return new Map(); // the kubelet ignores a missing pull secret too
        throw error;
      }
    },
  });

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

/** Namespaces and object names contain no "/". */
function split(key: string): [string, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
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
