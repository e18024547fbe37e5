// AdmissionReview requests shaped as kube-apiserver sends them (admission.k8s.io/v1), one pod
// spec per workload kind. Each call returns a fresh deep copy.
const GROUPS: Record<string, [string, string, string]> = {
  Pod: ['', 'v1', 'pods'],
  Deployment: ['apps', 'v1', 'deployments'],
  ReplicaSet: ['apps', 'v1', 'replicasets'],
  StatefulSet: ['apps', 'v1', 'statefulsets'],
  DaemonSet: ['apps', 'v1', 'daemonsets'],
  Job: ['batch', 'v1', 'jobs'],
  CronJob: ['batch', 'v1', 'cronjobs'],
  ReplicationController: ['', 'v1', 'replicationcontrollers'],
};

export interface PodSpecLike {
  containers: { name: string; image: string }[];
  initContainers?: { name: string; image: string }[];
  ephemeralContainers?: { name: string; image: string }[];
  /** Image volumes: `{name, image: {reference, pullPolicy}}` (core/v1 ImageVolumeSource). */
  volumes?: Record<string, unknown>[];
  serviceAccountName?: string;
  imagePullSecrets?: { name: string }[];
}

export function workload(kind: string, name: string, spec: PodSpecLike, metadata: Record<string, unknown> = {}): Record<string, unknown> {
  const podSpec = { restartPolicy: kind === 'Job' || kind === 'CronJob' ? 'Never' : 'Always', ...structuredClone(spec) };
  const template = { metadata: { labels: { app: name } }, spec: podSpec };
  const meta = { name, namespace: 'team-a', uid: '6b2d3c5e-0000-4000-8000-000000000001', ...metadata };
  const [group, version] = GROUPS[kind]!;
  const apiVersion = group ? `${group}/${version}` : version;
  switch (kind) {
    case 'Pod':
      return { apiVersion, kind, metadata: meta, spec: podSpec };
    case 'CronJob':
      return { apiVersion, kind, metadata: meta, spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template } } } };
    case 'Job':
      return { apiVersion, kind, metadata: meta, spec: { template } };
    default:
      return { apiVersion, kind, metadata: meta, spec: { replicas: 2, selector: { matchLabels: { app: name } }, template } };
  }
}

export function review(
  kind: string,
  object: Record<string, unknown> | undefined,
  options: { operation?: string; oldObject?: Record<string, unknown>; subResource?: string; namespace?: string; uid?: string; dryRun?: boolean } = {},
): Record<string, unknown> {
  const [group, version, resource] = GROUPS[kind] ?? ['example.com', 'v1', 'things'];
  return structuredClone({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: options.uid ?? '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group, version, kind },
      resource: { group, version, resource },
      requestKind: { group, version, kind },
      requestResource: { group, version, resource },
      ...(options.subResource && { subResource: options.subResource }),
      name: (object?.metadata as { name?: string } | undefined)?.name ?? '',
      namespace: options.namespace ?? 'team-a',
      operation: options.operation ?? 'CREATE',
      userInfo: { username: 'admin', uid: '014fbff9a07c', groups: ['system:authenticated'] },
      object,
      oldObject: options.oldObject ?? null,
      dryRun: options.dryRun ?? false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  });
}

/** Applies an RFC 6902 patch of `add` / `replace` operations, as the API server would. */
export function applyPatch<T>(document: T, patch: readonly { op: string; path: string; value?: unknown }[]): T {
  const doc = structuredClone(document) as unknown;
  for (const op of patch) {
    const keys = op.path.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = keys.pop()!;
    let parent = doc as Record<string, unknown>;
    for (const key of keys) {
      const next = parent[key];
      if (typeof next !== 'object' || next === null) throw new Error(`patch path ${op.path} does not exist`);
      parent = next as Record<string, unknown>;
    }
    if (op.op === 'replace' && !(last in parent)) throw new Error(`replace of missing ${op.path}`);
    if (op.op !== 'replace' && op.op !== 'add') throw new Error(`unsupported op ${op.op}`);
    parent[last] = structuredClone(op.value);
  }
  return doc as T;
}
