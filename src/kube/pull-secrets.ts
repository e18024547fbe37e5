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

export class PullSecretReader {
  private readonly api: CoreV1Api;
  private readonly cache = new LRUCache<string, Auths | 'missing'>({ max: 2000, ttl: 30_000 });

  constructor(kubeConfig: KubeConfig, private readonly clusterSecret: { namespace: string; name: string } | undefined) {
    this.api = kubeConfig.makeApiClient(CoreV1Api);
  }

  /** Registry host → credentials; the pod's own secrets take precedence over the cluster-wide one. */
  async credentials(query: PodCredentialsQuery): Promise<Auths> {
    let names = query.imagePullSecrets;
    if (names.length === 0) names = await this.serviceAccountSecrets(query.namespace, query.serviceAccountName ?? 'default');
    const merged = new Map<string, Credentials>();
    if (this.clusterSecret) for (const [host, c] of await this.secret(this.clusterSecret.namespace, this.clusterSecret.name)) merged.set(host, c);
    for (const name of names) for (const [host, c] of await this.secret(query.namespace, name)) merged.set(host, c);
    return merged;
  }

  private async serviceAccountSecrets(namespace: string, name: string): Promise<string[]> {
    try {
      const sa = await this.api.readNamespacedServiceAccount({ namespace, name });
      return (sa.imagePullSecrets ?? []).map((s) => s.name ?? '').filter(Boolean);
    } catch {
      return [];
    }
  }

  private async secret(namespace: string, name: string): Promise<Auths> {
    const key = `${namespace}/${name}`;
    const cached = this.cache.get(key);
    if (cached) return cached === 'missing' ? new Map() : cached;
    let auths: Auths | 'missing';
    try {
      auths = dockerAuths(await this.api.readNamespacedSecret({ namespace, name }), key);
    } catch {
      auths = 'missing'; // the kubelet ignores a missing pull secret too
    }
    this.cache.set(key, auths);
    return auths === 'missing' ? new Map() : auths;
  }
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
