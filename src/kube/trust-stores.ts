// Trust stores of Notation authorities from ConfigMaps and Secrets (docs/policy.md "Trust stores
// from ConfigMaps and Secrets"): a list+watch of trustgate's OWN namespace only, and of only the
// objects labelled trustgate.dev/trust-store: "true" (the label selector is sent to the API
// server, and checked again here). What is kept of an object is its certificates, by key, and
// its resourceVersion; nothing else of it (a token or a kubeconfig in such a Secret is dropped
// when it arrives). PolicyInformers resolves refs against this and compiles the policies naming
// an object again when it changes.
import { CoreV1Api, ListWatch, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { WatchRestarts } from './watch-restarts.js';
import { certificatesPem, TRUST_STORE_LABEL, TRUST_STORE_REF_LIMITS, type TrustStoreObject, type TrustStoreObjectKind, type TrustStoreSource } from '../policy/index.js';

/** Labelled objects of each kind kept; past it, refs to others are refused as "too many". */
export const MAX_TRUST_STORE_OBJECTS = 256;

interface DataObject extends KubernetesObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

/**
 * The labelled objects of one namespace, reduced to their certificates. Bounded: at most
 * MAX_TRUST_STORE_OBJECTS of each kind, each bringing at most
 * TRUST_STORE_REF_LIMITS.objectCertificateBytes of certificates from at most keysPerObject keys.
 */
export class TrustStoreIndex implements TrustStoreSource {
  private readonly objects = new Map<string, TrustStoreObject>();
  private readonly counts = new Map<TrustStoreObjectKind, number>();

  constructor(
    readonly namespace: string,
    /** The kinds read at all (Secrets may be left out: kubernetes.trustStores.secrets). */
    readonly kinds: ReadonlySet<TrustStoreObjectKind> = new Set(['ConfigMap', 'Secret']),
  ) {}

  get(kind: TrustStoreObjectKind, name: string): TrustStoreObject | undefined {
    const found = this.objects.get(`${kind}/${name}`);
    if (found || (this.counts.get(kind) ?? 0) < MAX_TRUST_STORE_OBJECTS) return found;
    return { version: 'overflow', certificates: new Map(), all: '', problem: `not read: more than ${MAX_TRUST_STORE_OBJECTS} ${kind}s of the namespace carry the label` };
  }

  /** Adds or replaces an object as the watch delivered it; one not labelled or of another namespace is dropped. */
  put(kind: TrustStoreObjectKind, object: DataObject): void {
    const name = object.metadata?.name;
    if (name === undefined) return;
    if (object.metadata?.namespace !== this.namespace || object.metadata.labels?.[TRUST_STORE_LABEL] !== 'true') {
      this.delete(kind, name);
      return;
    }
    const key = `${kind}/${name}`;
    if (!this.objects.has(key)) {
      const count = this.counts.get(kind) ?? 0;
      if (count >= MAX_TRUST_STORE_OBJECTS) return;
      this.counts.set(kind, count + 1);
    }
    this.objects.set(key, reduce(kind, object));
  }

  delete(kind: TrustStoreObjectKind, name: string): void {
    if (this.objects.delete(`${kind}/${name}`)) this.counts.set(kind, (this.counts.get(kind) ?? 1) - 1);
  }

  get size(): number {
    return this.objects.size;
  }
}

/** An object's certificates by key: ConfigMap data (text) and binaryData, Secret data (base64). */
function reduce(kind: TrustStoreObjectKind, object: DataObject): TrustStoreObject {
  const version = object.metadata?.resourceVersion ?? '';
  const values: [string, Buffer][] = [];
  for (const [key, value] of Object.entries(object.data ?? {})) values.push([key, Buffer.from(String(value), kind === 'Secret' ? 'base64' : 'utf8')]);
  if (kind === 'ConfigMap') for (const [key, value] of Object.entries(object.binaryData ?? {})) values.push([key, Buffer.from(String(value), 'base64')]);
  if (values.length > TRUST_STORE_REF_LIMITS.keysPerObject) return { version, certificates: new Map(), all: '', problem: `has more than ${TRUST_STORE_REF_LIMITS.keysPerObject} keys` };
  const certificates = new Map<string, string | undefined>();
  let bytes = 0;
  for (const [key, value] of values) {
    // Refused whole, not read in part: a store missing some of its certificates would still verify.
    if (value.length > TRUST_STORE_REF_LIMITS.objectCertificateBytes) return { version, certificates: new Map(), all: '', problem: `holds more than ${TRUST_STORE_REF_LIMITS.objectCertificateBytes} bytes in one key` };
    const pem = certificatesPem(value);
    bytes += pem?.length ?? 0;
    certificates.set(key, pem);
  }
  if (bytes > TRUST_STORE_REF_LIMITS.objectCertificateBytes) return { version, certificates: new Map(), all: '', problem: `holds more than ${TRUST_STORE_REF_LIMITS.objectCertificateBytes} bytes of certificates` };
  // Made once here, so resolving a ref copies nothing however often policies are rebuilt.
  const all = [...certificates.keys()].sort().map((k) => certificates.get(k) ?? '').join('');
  return { version, certificates, all, problem: undefined };
}

const KINDS = [
  { kind: 'ConfigMap', plural: 'configmaps' },
  { kind: 'Secret', plural: 'secrets' },
] as const;

/** The watches that keep a TrustStoreIndex of `namespace` current. */
export class TrustStoreInformers {
  readonly index: TrustStoreIndex;
  private readonly informers: ListWatch<DataObject>[] = [];
  private readonly synced = new Set<string>();
  private readonly restarts: WatchRestarts;
  private readonly api: CoreV1Api;

  private readonly kinds: readonly (typeof KINDS)[number][];

  constructor(
    private readonly kubeConfig: KubeConfig,
    config: { readonly namespace: string; readonly secrets: boolean },
    private readonly logger: Logger,
    /** Called after any labelled object of the namespace was added, changed or removed. */
    private readonly onChange: () => void,
  ) {
    // Without Secrets the chart grants no list/watch on them: they are not even asked for.
    this.kinds = KINDS.filter((k) => config.secrets || k.kind !== 'Secret');
    this.index = new TrustStoreIndex(config.namespace, new Set(this.kinds.map((k) => k.kind)));
    this.api = kubeConfig.makeApiClient(CoreV1Api);
    this.restarts = new WatchRestarts(logger, 'trust store watch failed; reconnecting');
  }

  /** Every kind read listed once. */
  get ready(): boolean {
    return this.synced.size === this.kinds.length;
  }

  async start(): Promise<void> {
    const namespace = this.index.namespace;
    const labelSelector = `${TRUST_STORE_LABEL}=true`;
    for (const { kind, plural } of this.kinds) {
      const list = async () => {
        const answer = kind === 'ConfigMap'
          ? await this.api.listNamespacedConfigMap({ namespace, labelSelector })
          : await this.api.listNamespacedSecret({ namespace, labelSelector });
        // ListWatch turns the list into add, update and delete events (objects gone meanwhile
        // included), which keep the index; rebuild on the next tick, after they ran.
        this.synced.add(kind);
        this.restarts.listed(kind);
        setImmediate(this.onChange);
        return answer as unknown as { apiVersion: string; kind: string; metadata: Record<string, string>; items: DataObject[] };
      };
      const informer = new ListWatch<DataObject>(`/api/v1/namespaces/${namespace}/${plural}`, new Watch(this.kubeConfig), list, false, labelSelector);
      const put = (object: DataObject) => {
        this.index.put(kind, object);
        this.onChange();
      };
      informer.on('add', put);
      informer.on('update', put);
      informer.on('delete', (object: DataObject) => {
        this.index.delete(kind, object.metadata?.name ?? '');
        this.onChange();
      });
      informer.on('error', (error: unknown) => this.restarts.restart(informer, kind, error));
      this.informers.push(informer);
    }
    await Promise.all(this.informers.map((i) => i.start()));
  }

  stop(): void {
    this.restarts.stop();
    for (const informer of this.informers) void informer.stop();
  }

}

/**
 * The labelled objects of `namespace` as they are now, listed once (`trustgate check
 * --kubeconfig`): the same label selector, bounds and reduction as the informers. A kind that
 * cannot be listed (the kubeconfig may not list Secrets there, say) does not fail the read: only a
 * policy naming an object of that kind needs it, and such a ref is refused with the reason.
 */
export async function readTrustStoresOnce(kubeConfig: KubeConfig, namespace: string): Promise<TrustStoreSource> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const labelSelector = `${TRUST_STORE_LABEL}=true`;
  const index = new TrustStoreIndex(namespace);
  const [configMaps, secrets] = await Promise.allSettled([api.listNamespacedConfigMap({ namespace, labelSelector }), api.listNamespacedSecret({ namespace, labelSelector })]);
  const unreadable = new Map<TrustStoreObjectKind, TrustStoreObject>();
  for (const [kind, answer] of [['ConfigMap', configMaps], ['Secret', secrets]] as const) {
    if (answer.status === 'fulfilled') {
      for (const item of answer.value.items) index.put(kind, item);
    } else {
      const why = statusOf(answer.reason) === 403 ? `this kubeconfig may not list ${kind}s in namespace ${namespace}` : `listing ${kind}s in namespace ${namespace} failed: ${messageOf(answer.reason)}`;
      unreadable.set(kind, { version: 'unreadable', certificates: new Map(), all: '', problem: `cannot be read: ${why}` });
    }
  }
  if (unreadable.size === 0) return index;
  return { namespace, kinds: index.kinds, get: (kind, name) => unreadable.get(kind) ?? index.get(kind, name) };
}

/** The HTTP status of a client-node ApiException, by shape. */
function statusOf(error: unknown): number | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'number' ? code : undefined;
}

/** The first line of an error's message: an ApiException's carries the whole response body after it. */
function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n', 1)[0] ?? '').slice(0, 200);
}
