// Which registry credentials a verification may carry (docs/adr/0005). A credential goes only
// where its owner's configuration sends it: the cluster's secret to connections the cluster
// chose (its trust servers, its ClusterImagePolicies, the token realms their challenges name),
// the pod's own pull secrets also to connections its namespace's ImagePolicy chose.
import { PolicyKind, type Authority, type Policy } from '../policy/index.js';
import type { ImageReference } from '../reference/index.js';
import type { Credentials } from '../registry/index.js';

type Auths = ReadonlyMap<string, Credentials>;

/** Credentials by registry host, kept apart by who owns them. */
export interface PodCredentials {
  /** The pod's imagePullSecrets, or its ServiceAccount's: its own namespace's. */
  readonly namespace: Auths;
  /** `kubernetes.credentialsSecret`: the platform team's. */
  readonly cluster: Auths;
}

/** Why the pod's credentials could not be read: every verification of the review fails with it. */
export interface CredentialFailure {
  readonly code: 'TIMEOUT' | 'TOO_MANY_PULL_SECRETS';
  readonly message: string;
}

export const CredentialScope = {
  /** The connection is the cluster's choice: the pod's and the cluster's credentials. */
  CLUSTER: 'cluster',
  /** A namespace policy chose the server or the CA: only the pod's own namespace's. */
  NAMESPACE: 'namespace',
} as const;
export type CredentialScope = (typeof CredentialScope)[keyof typeof CredentialScope];

/** The credentials a verification may carry for an image; a failure denies it. */
export type CredentialLookup = (ref: ImageReference, scope: CredentialScope) => Credentials | CredentialFailure | undefined;

/**
 * Whose credentials a verification of `authority` under `policy` may carry. An ImagePolicy's
 * authority that names a server, or a CA for the cluster's server (which lets whoever holds that
 * CA intercept the connection), makes the connection the namespace's. Without an authority: the
 * policy's first (v1alpha1's `trust`).
 */
export function credentialScope(policy: Policy, authority: Authority | undefined = policy.authorities[0]): CredentialScope {
  const own = policy.kind === PolicyKind.NAMESPACED && authority !== undefined && authority.ownConnection;
  return own ? CredentialScope.NAMESPACE : CredentialScope.CLUSTER;
}

export function isCredentialFailure(value: Credentials | CredentialFailure | undefined): value is CredentialFailure {
  return value !== undefined && 'code' in value;
}

/**
 * The lookup for one review. Credentials are found by the image's registry host; the pod's own
 * take precedence over the cluster's, as the kubelet's do.
 */
export function credentialLookup(pod: PodCredentials | CredentialFailure | undefined): CredentialLookup {
  if (pod === undefined) return () => undefined;
  if ('code' in pod) return () => pod;
  // Both maps are keyed by canonical registry name (readAuths), and so is ref.registry
  // (src/reference/host.ts): a plain lookup, not findCredentials, which canonicalises a raw host
  // with a URL parse on every call — on every image of every review.
  return (ref, scope) => {
    const own = pod.namespace.get(ref.registry);
    return own ?? (scope === CredentialScope.CLUSTER ? pod.cluster.get(ref.registry) : undefined);
  };
}
