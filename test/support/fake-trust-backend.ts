// One store shared by several TrustStates, as the API server is by replicas: revisions,
// conflicts, watch events, and a count of every call (a warm read must make none).
import { StateConflict, recordName, type StateEvent, type StoredRecord, type TrustRecord, type TrustStateBackend } from '../../src/trust/trust-state.js';

export class FakeTrustBackend {
  readonly records = new Map<string, StoredRecord>();
  readonly calls: string[] = [];
  private revision = 0;
  private readonly watchers = new Set<(event: StateEvent) => void>();
  /** Conflicts to answer the next writes with, as if another replica wrote just before. */
  conflictsToInject = 0;
  /** Makes every call fail, as an API server that is down. */
  down = false;

  /** A client of this store; `watch: false` makes the state re-list instead. */
  client(options: { watch?: boolean } = {}): TrustStateBackend {
    const backend: TrustStateBackend = {
      list: () => this.call('list', () => [...this.records.values()]),
      get: (server, gun) => this.call('get', () => this.records.get(recordName(server, gun))),
      create: (record) => this.call('create', () => this.write(record, undefined)),
      replace: (record, revision) => this.call('replace', () => this.write(record, revision)),
      remove: (server, gun, revision) =>
        this.call('remove', () => {
          const name = recordName(server, gun);
          const current = this.records.get(name);
          if (!current) return;
          if (current.revision !== revision) throw new StateConflict('changed');
          this.records.delete(name);
          this.emit({ type: 'delete', server, gun });
        }),
    };
    if (options.watch === false) return backend;
    return {
      ...backend,
      watch: (onEvent) => {
        this.watchers.add(onEvent);
        return { stop: () => this.watchers.delete(onEvent) };
      },
    };
  }

  private call<T>(name: string, work: () => T): Promise<T> {
    this.calls.push(name);
    if (this.down) return Promise.reject(new Error('connect ECONNREFUSED'));
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private write(record: TrustRecord, revision: string | undefined): StoredRecord {
    const name = recordName(record.server, record.gun);
    const current = this.records.get(name);
    if (this.conflictsToInject > 0) {
      this.conflictsToInject--;
      // Another replica's write lands first: a higher version of one role.
      const bumped = current ? { ...current.record, versions: new Map([...current.record.versions, ['timestamp', (current.record.versions.get('timestamp') ?? 0) + 100]]) } : record;
      this.store(bumped);
      throw new StateConflict('conflict');
    }
    if (revision === undefined ? current !== undefined : current?.revision !== revision) throw new StateConflict('conflict');
    return this.store(record);
  }

  private store(record: TrustRecord): StoredRecord {
    const stored = { record, revision: String(++this.revision) };
    this.records.set(recordName(record.server, record.gun), stored);
    this.emit({ type: 'put', stored });
    return stored;
  }

  private emit(event: StateEvent): void {
    for (const watcher of this.watchers) watcher(event);
  }
}
