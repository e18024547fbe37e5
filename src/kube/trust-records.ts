// The trust state (src/trust/trust-state.ts) as TrustRecord objects in trustgate's namespace
// (ADR 0013): one per trust server and repository, named by a hash of both, written with the
// object's resourceVersion as the optimistic-concurrency token, followed by a list and a watch.
// `kubectl get trustrecords -n <namespace>` shows each repository, its root and when last seen.
import { CustomObjectsApi, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { StateConflict, recordName, type StateEvent, type StoredRecord, type TrustRecord, type TrustStateBackend } from '../trust/trust-state.js';

export const TRUST_RECORD_GROUP = 'trustgate.dev';
export const TRUST_RECORD_VERSION = 'v1alpha1';
export const TRUST_RECORD_PLURAL = 'trustrecords';
const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'trustgate' };
/** Objects per list page: the whole store is listed at start, a page at a time. */
const PAGE = 500;

export interface TrustRecordObject extends KubernetesObject {
  spec?: {
    server?: unknown;
    gun?: unknown;
    root?: { data?: unknown; version?: unknown; sha256?: unknown };
    versions?: unknown;
    lastSeen?: unknown;
  };
}

/** The calls made to the API server, so that the store's logic is tested against a fake. */
export interface TrustRecordApi {
  list(cont: string | undefined): Promise<{ items: TrustRecordObject[]; cont: string | undefined }>;
  /** Undefined when there is no such object (404). */
  get(name: string): Promise<TrustRecordObject | undefined>;
  create(body: TrustRecordObject): Promise<TrustRecordObject>;
  replace(name: string, body: TrustRecordObject): Promise<TrustRecordObject>;
  /** With a resourceVersion precondition. */
  remove(name: string, resourceVersion: string): Promise<void>;
}

/** The object holding `record`; `resourceVersion` makes a replace conditional. */
export function toObject(record: TrustRecord, namespace: string, resourceVersion?: string): TrustRecordObject {
  return {
    apiVersion: `${TRUST_RECORD_GROUP}/${TRUST_RECORD_VERSION}`,
    kind: 'TrustRecord',
    metadata: { name: recordName(record.server, record.gun), namespace, labels: { ...MANAGED_BY }, ...(resourceVersion !== undefined && { resourceVersion }) },
    spec: {
      server: record.server,
      gun: record.gun,
      ...(record.root && { root: { data: record.root.bytes.toString('base64'), version: record.root.version, sha256: record.root.sha256 } }),
      versions: Object.fromEntries(record.versions),
      lastSeen: new Date(record.lastSeen).toISOString(),
    },
  };
}

/** The record an object holds, or why it holds none (TrustState checks the values themselves). */
export function fromObject(object: TrustRecordObject): StoredRecord | string {
  const spec = object.spec;
  const revision = object.metadata?.resourceVersion;
  if (!spec || typeof spec.server !== 'string' || typeof spec.gun !== 'string') return 'spec.server and spec.gun must be strings';
  if (typeof revision !== 'string') return 'metadata.resourceVersion is missing';
  if (object.metadata?.name !== recordName(spec.server, spec.gun)) return 'is not named for its server and gun';
  const lastSeen = typeof spec.lastSeen === 'string' ? Date.parse(spec.lastSeen) : NaN;
  if (!Number.isFinite(lastSeen)) return 'spec.lastSeen is not a time';
  if (typeof spec.versions !== 'object' || spec.versions === null || Array.isArray(spec.versions)) return 'spec.versions must be an object';
  const versions = new Map<string, number>();
  for (const [role, version] of Object.entries(spec.versions as Record<string, unknown>)) {
    if (typeof version !== 'number') return `spec.versions.${role.slice(0, 64)} must be a number`;
    versions.set(role, version);
  }
  let root;
  if (spec.root !== undefined) {
    const { data, version, sha256 } = spec.root;
    if (typeof data !== 'string' || typeof version !== 'number' || typeof sha256 !== 'string') return 'spec.root must hold data, version and sha256';
    root = { bytes: Buffer.from(data, 'base64'), version, sha256 };
  }
  return { record: { server: spec.server, gun: spec.gun, root, versions, lastSeen }, revision };
}

/** TrustStateBackend over TrustRecord objects; conflicts (409) reject with StateConflict. */
export class KubeTrustRecords implements TrustStateBackend {
  constructor(
    private readonly api: TrustRecordApi,
    private readonly namespace: string,
    private readonly follow?: (onEvent: (event: StateEvent) => void) => { stop(): void },
    private readonly onBadObject: (name: string, problem: string) => void = () => undefined,
  ) {
    if (follow) this.watch = follow;
  }

  readonly watch?: (onEvent: (event: StateEvent) => void) => { stop(): void };

  async list(): Promise<StoredRecord[]> {
    const out: StoredRecord[] = [];
    let cont: string | undefined;
    do {
      const page = await this.api.list(cont);
      for (const object of page.items) {
        const stored = this.read(object);
        if (stored) out.push(stored);
      }
      cont = page.cont;
    } while (cont);
    return out;
  }

  async get(server: string, gun: string): Promise<StoredRecord | undefined> {
    const object = await this.api.get(recordName(server, gun));
    return object && this.read(object);
  }

  async create(record: TrustRecord): Promise<StoredRecord> {
    return this.stored(await conflicts(() => this.api.create(toObject(record, this.namespace))));
  }

  async replace(record: TrustRecord, revision: string): Promise<StoredRecord> {
    return this.stored(await conflicts(() => this.api.replace(recordName(record.server, record.gun), toObject(record, this.namespace, revision)), true));
  }

  async remove(server: string, gun: string, revision: string): Promise<void> {
    try {
      await conflicts(() => this.api.remove(recordName(server, gun), revision));
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }

  private read(object: TrustRecordObject): StoredRecord | undefined {
    const stored = fromObject(object);
    if (typeof stored !== 'string') return stored;
    this.onBadObject(String(object.metadata?.name ?? '').slice(0, 253), stored);
    return undefined;
  }

  private stored(object: TrustRecordObject): StoredRecord {
    const stored = fromObject(object);
    if (typeof stored === 'string') throw new Error(`the API server answered with a TrustRecord that ${stored}`);
    return stored;
  }
}

/** 409, and 404 on a replace (the object was removed meanwhile), are conflicts: re-read and merge. */
async function conflicts<T>(call: () => Promise<T>, missingIsConflict = false): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const status = statusOf(error);
    if (status === 409 || (missingIsConflict && status === 404)) throw new StateConflict(`TrustRecord changed (HTTP ${status})`);
    throw error;
  }
}

function statusOf(error: unknown): number | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'number' ? code : undefined;
}

/** The TrustRecord backend of a real API server, following changes with a list+watch. */
export function kubeTrustRecords(kc: KubeConfig, namespace: string, logger: Logger): KubeTrustRecords {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const base = { group: TRUST_RECORD_GROUP, version: TRUST_RECORD_VERSION, namespace, plural: TRUST_RECORD_PLURAL };
  const api: TrustRecordApi = {
    list: async (cont) => {
      const answer = (await custom.listNamespacedCustomObject({ ...base, limit: PAGE, ...(cont !== undefined && { _continue: cont }) })) as { items?: TrustRecordObject[]; metadata?: { _continue?: string } };
      return { items: answer.items ?? [], cont: answer.metadata?._continue || undefined };
    },
    get: async (name) => {
      try {
        return (await custom.getNamespacedCustomObject({ ...base, name })) as TrustRecordObject;
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    },
    create: async (body) => (await custom.createNamespacedCustomObject({ ...base, body })) as TrustRecordObject,
    replace: async (name, body) => (await custom.replaceNamespacedCustomObject({ ...base, name, body })) as TrustRecordObject,
    remove: async (name, resourceVersion) => {
      await custom.deleteNamespacedCustomObject({ ...base, name, body: { preconditions: { resourceVersion } } });
    },
  };
  const bad = (name: string, problem: string) => logger.warn({ name, problem }, 'TrustRecord ignored');
  // A plain watch, not an informer: an informer would keep a second copy of every record (roots
  // included) beside TrustState's own, doubling what the store costs in memory.
  const follow = (onEvent: (event: StateEvent) => void) => {
    const path = `/apis/${TRUST_RECORD_GROUP}/${TRUST_RECORD_VERSION}/namespaces/${namespace}/${TRUST_RECORD_PLURAL}`;
    const watch = new Watch(kc);
    let stopped = false;
    let failures = 0;
    let request: AbortController | undefined;
    const put = (object: TrustRecordObject) => {
      const stored = fromObject(object);
      if (typeof stored === 'string') bad(String(object.metadata?.name ?? ''), stored);
      else onEvent({ type: 'put', stored });
    };
    // List (each record is handed over, then dropped here), then watch from that list's version;
    // after any end or error, the same again with backoff, so no change is missed for long.
    const run = async (): Promise<void> => {
      let cont: string | undefined;
      let resourceVersion = '';
      do {
        const answer = (await custom.listNamespacedCustomObject({ ...base, limit: PAGE, ...(cont !== undefined && { _continue: cont }) })) as { items?: TrustRecordObject[]; metadata?: { _continue?: string; resourceVersion?: string } };
        for (const object of answer.items ?? []) put(object);
        cont = answer.metadata?._continue || undefined;
        resourceVersion = answer.metadata?.resourceVersion ?? resourceVersion;
      } while (cont);
      if (stopped) return;
      request = await watch.watch(path, { resourceVersion, allowWatchBookmarks: true }, (phase: string, object: TrustRecordObject) => {
        failures = 0;
        if (phase === 'ADDED' || phase === 'MODIFIED') put(object);
        else if (phase === 'DELETED') {
          const { server, gun } = object.spec ?? {};
          if (typeof server === 'string' && typeof gun === 'string') onEvent({ type: 'delete', server, gun });
        }
      }, (error: unknown) => restart(error ?? new Error('watch closed')));
    };
    const restart = (error: unknown) => {
      if (stopped) return;
      const delay = Math.min(30_000, 1000 * 2 ** failures++);
      if (failures > 1) logger.warn({ err: error instanceof Error ? error.message : String(error), retryInMs: delay }, 'TrustRecord watch failed; reconnecting');
      setTimeout(() => {
        if (!stopped) run().catch(restart);
      }, delay).unref();
    };
    run().catch(restart);
    return {
      stop: () => {
        stopped = true;
        request?.abort();
      },
    };
  };
  return new KubeTrustRecords(api, namespace, follow, bad);
}
