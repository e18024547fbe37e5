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

/** Applies an RFC 6902 patch of `add` / `replace` / `remove` operations, as the API server would. */
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
    if ((op.op === 'replace' || op.op === 'remove') && !(last in parent)) throw new Error(`${op.op} of missing ${op.path}`);
    if (op.op === 'remove') {
      delete parent[last];
      continue;
    }
    if (op.op !== 'replace' && op.op !== 'add') throw new Error(`unsupported op ${op.op}`);
    parent[last] = structuredClone(op.value);
  }
  return doc as T;
}

/**
 * The heaviest AdmissionReview a real cluster sends, for the limits on what a body may hold
 * (src/server/app.ts REVIEW_JSON_LIMITS): an UPDATE of a pod with as many containers as a review
 * may name (256, admission MAX_IMAGES_PER_REVIEW), each with env, envFrom, ports, two probes,
 * resources, volume mounts and a security context; many labels, annotations as large as allowed,
 * the managedFields of the client that
 * applied it and of the kubelet, and a status for every container — and its old version too.
 * Kubernetes bounds what is real: annotations of at most 256 KiB together (apimachinery
 * TotalAnnotationSizeLimitB), objects of at most 1.5 MiB as stored (etcd's default request limit),
 * so the review, with its old version, stays under 3 MiB.
 */
export function heaviestPodReview(image: (i: number) => string): Record<string, unknown> {
  const n = 256;
  const names = Array.from({ length: n }, (_, i) => `container-${i}`);
  const probe = (path: string) => ({
    httpGet: { path, port: 8080, scheme: 'HTTP' },
    initialDelaySeconds: 5, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3,
  });
  const container = (i: number) => ({
    name: names[i],
    image: image(i),
    imagePullPolicy: 'IfNotPresent',
    command: ['/app/server'],
    args: ['--listen=:8080', `--shard=${i}`, '--log-level=info'],
    env: [
      ...Array.from({ length: 4 }, (_, j) => ({ name: `SETTING_${j}`, value: `value-${j}` })),
      { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
      { name: 'POD_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } },
      { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
      { name: 'MEMORY_LIMIT', valueFrom: { resourceFieldRef: { containerName: names[i], resource: 'limits.memory', divisor: '1Mi' } } },
    ],
    envFrom: [{ configMapRef: { name: 'app-config' } }, { secretRef: { name: 'app-secrets', optional: true } }],
    ports: [
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
    ],
    resources: { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
    volumeMounts: ['config', 'kube-api-access'].map((v) => ({ name: v, mountPath: `/var/run/${v}`, readOnly: true })),
    livenessProbe: probe('/healthz'),
    readinessProbe: probe('/readyz'),
    securityContext: { runAsNonRoot: true, runAsUser: 10_000, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
  });
  const containers = names.map((_, i) => container(i));
  const spec = {
    containers,
    volumes: [
      { name: 'config', configMap: { name: 'app-config', defaultMode: 420 } },
      { name: 'kube-api-access', projected: { defaultMode: 420, sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }] } },
    ],
    restartPolicy: 'Always',
    serviceAccountName: 'app',
    nodeName: 'node-1',
    tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
  };
  // What a server-side apply records: every field set, as `f:` keys of empty objects.
  const fieldsOf = (value: unknown): unknown => {
    if (Array.isArray(value) && typeof value[0] !== 'object') return {}; // a list of scalars is one field
    if (Array.isArray(value)) return Object.fromEntries(value.map((v: unknown, i) => [`k:{"name":"${(v as { name?: string }).name ?? i}"}`, { '.': {}, ...(fieldsOf(v) as object) }]));
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [`f:${k}`, fieldsOf(v)]));
    return {};
  };
  const now = '2026-01-01T00:00:00Z';
  const status = {
    phase: 'Running',
    conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: now })),
    hostIP: '10.0.0.1',
    podIP: '10.1.0.1',
    podIPs: [{ ip: '10.1.0.1' }],
    startTime: now,
    qosClass: 'Burstable',
    containerStatuses: names.map((name, i) => ({
      name, ready: true, restartCount: 0, started: true, image: image(i),
      imageID: `registry.example.com/team/app@sha256:${'0'.repeat(64)}`,
      containerID: `containerd://${'0'.repeat(64)}`,
      state: { running: { startedAt: now } },
      lastState: {},
      volumeMounts: containers[i]!.volumeMounts.map((m) => ({ ...m, recursiveReadOnly: 'Disabled' })),
    })),
  };
  const pod = (resourceVersion: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'heavy',
      namespace: 'team-a',
      uid: '6b2d3c5e-0000-4000-8000-000000000001',
      resourceVersion,
      creationTimestamp: now,
      labels: Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`app.example.com/label-${i}`, `value-${i}`])),
      // Just under 256 KiB, the most Kubernetes allows.
      annotations: Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`example.com/annotation-${i}`, 'x'.repeat(1000)])),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'heavy-5d4f8b7c9', uid: '6b2d3c5e-0000-4000-8000-000000000002', controller: true, blockOwnerDeletion: true }],
      managedFields: [
        { manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', time: now, fieldsType: 'FieldsV1', fieldsV1: fieldsOf({ metadata: { labels: {}, annotations: {} }, spec }) },
        { manager: 'kubelet', operation: 'Update', apiVersion: 'v1', time: now, fieldsType: 'FieldsV1', subresource: 'status', fieldsV1: fieldsOf({ status }) },
      ],
    },
    spec,
    status,
  });
  return review('Pod', pod('2'), { operation: 'UPDATE', oldObject: pod('1') });
}
