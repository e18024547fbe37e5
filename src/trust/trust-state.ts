// What a docker client keeps in ~/.docker/trust, kept where every replica and every restart sees
// it (issue 12, ADR 0013): the root each repository was first trusted with under a
// trust-on-first-use policy, and the highest version of every role (the rollback floor, TUF
// spec 5.4.3 and 5.5.5). Reads are synchronous, from memory; writes go to a backend (the
// Kubernetes API server, or a file) with optimistic concurrency and a bounded rate.
import { createHash } from 'node:crypto';
import { TrustError } from './errors.js';

/** A root trusted on first use, as recorded. */
export interface RecordedRoot {
  readonly bytes: Buffer;
  readonly version: number;
  /** Hex SHA-256 of `bytes`. */
  readonly sha256: string;
}

/** Everything remembered about one repository on one trust server. */
export interface TrustRecord {
  /** The trust server's base URL (URL.href). */
  readonly server: string;
  readonly gun: string;
  /** Set only for repositories trusted on first use: pinned roots need nothing remembered. */
  readonly root: RecordedRoot | undefined;
  /** Highest version trusted of every role, `root` included. */
  readonly versions: ReadonlyMap<string, number>;
  /** When a replica last verified the repository (ms); moved at most once per touch interval. */
  readonly lastSeen: number;
}

/** A record as the backend holds it; `revision` is its optimistic-concurrency token. */
export interface StoredRecord {
  readonly record: TrustRecord;
  readonly revision: string;
}

/** The record changed or appeared since it was read (HTTP 409, or a stale revision). */
export class StateConflict extends Error {
  override readonly name = 'StateConflict';
}

export type StateEvent = { readonly type: 'put'; readonly stored: StoredRecord } | { readonly type: 'delete'; readonly server: string; readonly gun: string };

/** Where records live. Every method may reject; conflicts reject with StateConflict. */
export interface TrustStateBackend {
  list(): Promise<StoredRecord[]>;
  get(server: string, gun: string): Promise<StoredRecord | undefined>;
  /** Rejects with StateConflict when the record exists. */
  create(record: TrustRecord): Promise<StoredRecord>;
  /** Rejects with StateConflict when the stored revision is not `revision` or the record is gone. */
  replace(record: TrustRecord, revision: string): Promise<StoredRecord>;
  /** Removes the record if it still has `revision`; a record gone already is not an error. */
  remove(server: string, gun: string, revision: string): Promise<void>;
  /** Changes made by others, as they happen; undefined: the state re-lists every refresh interval. */
  watch?(onEvent: (event: StateEvent) => void): { stop(): void };
}

/** Bounds on what a record may hold: every field comes from a trust server. */
export const RECORD_LIMITS = Object.freeze({
  /** Bytes of a recorded root; real roots are a few KiB (a 4-key root with certificates ~ 6 KiB). */
  rootBytes: 64 * 1024,
  /** Roles per record: timestamp, snapshot, targets and delegations (DEFAULT_LIMITS.maxDelegations is 64). */
  roles: 128,
  /** Characters of a role name. */
  roleName: 255,
  /** Characters of a trust server URL or GUN. */
  name: 1024,
});

export interface TrustStateOptions {
  readonly backend: TrustStateBackend;
  /** Records held at most; past it, new trust-on-first-use repositories are refused (TRUST_STATE_FULL). */
  readonly maxRecords: number;
  /** A record not seen for this long is removed. */
  readonly expireAfterMs: number;
  /** lastSeen is written at most once per this interval per record. */
  readonly touchIntervalMs: number;
  /** Writes toward the backend per second, and the burst allowed. */
  readonly writesPerSecond: number;
  readonly writeBurst: number;
  /** Re-list interval when the backend cannot watch; also how often expired records are swept. */
  readonly refreshIntervalMs: number;
  readonly now?: () => number;
  /** A write or refresh failed (logged by the caller); the state keeps serving from memory. */
  readonly onError?: (what: string, error: unknown) => void;
}

/** Attempts of one read-modify-write before giving up (each conflict re-reads). */
export const MAX_WRITE_ATTEMPTS = 5;

/** What a replica knows of one record: the stored copy, and what it verified since. */
interface Entry {
  readonly server: string;
  readonly gun: string;
  remote: StoredRecord | undefined;
  /** Versions verified here, not yet known stored (merged with max). */
  readonly local: Map<string, number>;
  localSeen: number;
  /** A parsed form of the remote root, made by the caller once per root (TrustClient). */
  parsed: { readonly sha256: string; readonly value: unknown } | undefined;
}

/** The name of a record's object or entry: a hash, since GUNs do not fit Kubernetes names. */
export function recordName(server: string, gun: string): string {
  return `tr-${createHash('sha256').update(`${server}\n${gun}`).digest('hex').slice(0, 40)}`;
}

/**
 * The record after `incoming` is merged into `stored`: every role at its highest version, the
 * later lastSeen, and the stored root unless there is none. A recorded root is replaced only
 * through `recordRoot`, never by a merge: a replica's different first root must not win.
 */
export function mergeVersions(stored: TrustRecord | undefined, server: string, gun: string, versions: ReadonlyMap<string, number>, seen: number): TrustRecord {
  const merged = new Map(stored?.versions ?? []);
  for (const [role, version] of versions) {
    if (!merged.has(role) && merged.size >= RECORD_LIMITS.roles) continue;
    merged.set(role, Math.max(version, merged.get(role) ?? 0));
  }
  return { server, gun, root: stored?.root, versions: merged, lastSeen: Math.max(seen, stored?.lastSeen ?? 0) };
}

/** Same content (the revision aside): a write that would change nothing is not made. */
export function sameRecord(a: TrustRecord, b: TrustRecord): boolean {
  if (a.lastSeen !== b.lastSeen || a.root?.sha256 !== b.root?.sha256 || a.versions.size !== b.versions.size) return false;
  for (const [role, version] of a.versions) if (b.versions.get(role) !== version) return false;
  return true;
}

/** Checks a record read from a backend; a bad one is refused whole (the caller names it). */
export function checkRecord(record: TrustRecord): string | undefined {
  if (record.server.length === 0 || record.server.length > RECORD_LIMITS.name) return 'server is empty or too long';
  if (record.gun.length === 0 || record.gun.length > RECORD_LIMITS.name) return 'gun is empty or too long';
  if (!Number.isSafeInteger(record.lastSeen) || record.lastSeen < 0) return 'lastSeen is not a time';
  if (record.versions.size > RECORD_LIMITS.roles) return `more than ${RECORD_LIMITS.roles} roles`;
  for (const [role, version] of record.versions) {
    if (role.length === 0 || role.length > RECORD_LIMITS.roleName) return 'a role name is empty or too long';
    if (!Number.isSafeInteger(version) || version < 0) return `version of ${role.slice(0, 100)} is not a whole number`;
  }
  const root = record.root;
  if (root) {
    if (root.bytes.length > RECORD_LIMITS.rootBytes) return `root is over ${RECORD_LIMITS.rootBytes} bytes`;
    if (createHash('sha256').update(root.bytes).digest('hex') !== root.sha256) return 'root does not match its sha256';
    if (!Number.isSafeInteger(root.version) || root.version < 1) return 'root version is not a whole number';
  }
  return undefined;
}

/**
 * The trust state of every repository this cluster verified, in memory in front of a backend.
 *
 * - Reads (`version`, `root`) never wait: the whole bounded store is listed at start and kept
 *   current by the backend's watch (or a re-list), so the review path gains no API call.
 * - A new first-trusted root is written before it is trusted (`recordRoot`, awaited on the cold
 *   path); the root stored first wins, and a replica that saw another is told which.
 * - Role versions are written behind, coalesced per record and rate-limited; a conflict re-reads
 *   and merges with max per role, so no higher version is lost.
 */
export class TrustState {
  private readonly entries = new Map<string, Entry>();
  /** Records with something to write; a subset of `entries`' keys, so bounded by maxRecords. */
  private readonly dirty = new Set<string>();
  private readonly now: () => number;
  private tokens: number;
  private tokensAt: number;
  private flushing = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private watching: { stop(): void } | undefined;
  private listed = false;
  /** Stopped: a caller retrying start gives up. */
  stopped = false;
  private counts = { refusedFull: 0, writeFailures: 0, conflicts: 0, badRecords: 0 };

  constructor(private readonly options: TrustStateOptions) {
    this.now = options.now ?? Date.now;
    this.tokens = options.writeBurst;
    this.tokensAt = this.now();
  }

  /** Lists every record, then follows changes. Rejects when the first list fails. */
  async start(): Promise<void> {
    this.watching ??= this.options.backend.watch?.((event) => this.apply(event));
    await this.relist();
    this.listed = true;
    if (this.refreshTimer === undefined) {
      this.refreshTimer = setInterval(() => void this.refresh(), this.options.refreshIntervalMs);
      this.refreshTimer.unref();
    }
  }

  /** The store has been listed once: every recorded floor is known here (readiness). */
  get ready(): boolean {
    return this.listed;
  }

  stop(): void {
    this.stopped = true;
    this.watching?.stop();
    clearInterval(this.refreshTimer);
    clearTimeout(this.flushTimer);
  }

  /** Entries held, records waiting to be written, and what was refused or failed since start. */
  sizes(): { records: number; dirty: number; refusedFull: number; writeFailures: number; conflicts: number; badRecords: number } {
    return { records: this.entries.size, dirty: this.dirty.size, ...this.counts };
  }

  /** The highest version of `role` trusted anywhere for this repository, as known here. */
  version(server: string, gun: string, role: string): number | undefined {
    const entry = this.entries.get(recordName(server, gun));
    if (!entry) return undefined;
    const stored = entry.remote?.record.versions.get(role);
    const local = entry.local.get(role);
    return stored === undefined ? local : local === undefined ? stored : Math.max(stored, local);
  }

  /** The root recorded for this repository on first use; only a stored root counts. */
  root(server: string, gun: string): RecordedRoot | undefined {
    return this.entries.get(recordName(server, gun))?.remote?.record.root;
  }

  /** A parsed form of the recorded root kept beside it, made once by `parse` (TrustClient's TrustedRoot). */
  parsedRoot<T>(server: string, gun: string, parse: (root: RecordedRoot) => T): T | undefined {
    const entry = this.entries.get(recordName(server, gun));
    const root = entry?.remote?.record.root;
    if (!entry || !root) return undefined;
    if (entry.parsed?.sha256 !== root.sha256) entry.parsed = { sha256: root.sha256, value: parse(root) };
    return entry.parsed.value as T;
  }

  /**
   * Reads a record this replica has not seen (another may have made it since the last event):
   * called on the cold path before trusting a repository's first root.
   */
  async lookup(server: string, gun: string): Promise<RecordedRoot | undefined> {
    const key = recordName(server, gun);
    const entry = this.entries.get(key);
    if (entry?.remote) return this.root(server, gun);
    // At the cap a repository with no record could not be recorded anyway: refused before any
    // read, so a flood of new names costs the API server nothing.
    if (!entry && this.entries.size >= this.options.maxRecords) throw this.full(gun);
    let stored: StoredRecord | undefined;
    try {
      stored = await this.options.backend.get(server, gun);
    } catch (error) {
      throw unavailable(gun, error);
    }
    if (stored) this.accept(stored);
    return stored?.record.root;
  }

  /**
   * Records `root` as the repository's trusted root, when there is none yet or when `from` (the
   * root it was verified from: a rotation, or the same version signed again) is the one
   * recorded and `root` is no older. Returns the root in
   * force afterwards: `root`, or the one another replica recorded first, which the caller must
   * then verify from. Throws TRUST_STATE_FULL at the cap and TRUST_STATE_UNAVAILABLE when the
   * backend cannot take the write.
   */
  async recordRoot(server: string, gun: string, root: RecordedRoot, from: string | undefined): Promise<RecordedRoot> {
    if (root.bytes.length > RECORD_LIMITS.rootBytes) {
      throw new TrustError('TOO_LARGE', `root of ${gun} is ${root.bytes.length} bytes, more than the ${RECORD_LIMITS.rootBytes} a trust-on-first-use record holds`, { role: 'root' });
    }
    const key = recordName(server, gun);
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const entry = this.entries.get(key);
      const base = entry?.remote;
      const current = base?.record.root;
      if (current && (current.sha256 === root.sha256 || from !== current.sha256 || root.version < current.version)) return current;
      if (!entry && this.entries.size >= this.options.maxRecords) throw this.full(gun);
      if (!this.take()) throw unavailable(gun, 'too many writes to the trust state at once');
      const versions = new Map(entry?.local ?? []);
      versions.set('root', Math.max(root.version, versions.get('root') ?? 0));
      const merged = { ...mergeVersions(base?.record, server, gun, versions, this.now()), root };
      try {
        this.accept(base ? await this.options.backend.replace(merged, base.revision) : await this.options.backend.create(merged));
        return root;
      } catch (error) {
        if (!(error instanceof StateConflict)) throw unavailable(gun, error);
        this.counts.conflicts++;
        await this.reread(server, gun);
      }
    }
    throw unavailable(gun, `the record kept changing (${MAX_WRITE_ATTEMPTS} attempts)`);
  }

  /**
   * Notes the versions of a repository just verified. Memory first (this replica refuses a
   * rollback below them at once), the backend later. False when the store is full and the
   * repository has no record: the caller keeps its floor only in process memory.
   */
  noteVerified(server: string, gun: string, versions: ReadonlyMap<string, number>): boolean {
    const key = recordName(server, gun);
    let entry = this.entries.get(key);
    if (!entry) {
      if (this.entries.size >= this.options.maxRecords) {
        this.counts.refusedFull++;
        return false;
      }
      entry = { server, gun, remote: undefined, local: new Map(), localSeen: 0, parsed: undefined };
      this.entries.set(key, entry);
    }
    const now = this.now();
    let changed = false;
    for (const [role, version] of versions) {
      if ((this.version(server, gun, role) ?? -1) >= version) continue;
      if (!entry.local.has(role) && entry.local.size >= RECORD_LIMITS.roles) continue;
      entry.local.set(role, version);
      changed = true;
    }
    const seen = Math.max(entry.localSeen, entry.remote?.record.lastSeen ?? 0);
    if (now - seen >= this.options.touchIntervalMs) {
      entry.localSeen = now;
      changed = true;
    }
    if (changed) {
      this.dirty.add(key);
      this.scheduleFlush(0);
    }
    return true;
  }

  /** Writes every dirty record, at the rate allowed; the rest wait for tokens. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (const key of [...this.dirty]) {
        if (!this.take()) break;
        this.dirty.delete(key);
        await this.write(key).catch((error: unknown) => {
          this.counts.writeFailures++;
          // Kept for the next round: a version must not be lost to an outage.
          if (this.entries.has(key)) this.dirty.add(key);
          this.options.onError?.('trust state write', error);
        });
      }
    } finally {
      this.flushing = false;
      if (this.dirty.size > 0) this.scheduleFlush(Math.ceil(1000 / this.options.writesPerSecond));
    }
  }

  private async write(key: string): Promise<void> {
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const entry = this.entries.get(key);
      if (!entry) return;
      const base = entry.remote;
      const { server, gun } = entry;
      const merged = mergeVersions(base?.record, server, gun, entry.local, entry.localSeen);
      if (base && sameRecord(merged, base.record)) {
        entry.local.clear();
        return;
      }
      try {
        this.accept(base ? await this.options.backend.replace(merged, base.revision) : await this.options.backend.create(merged));
        return;
      } catch (error) {
        if (!(error instanceof StateConflict)) throw error;
        this.counts.conflicts++;
        await this.reread(server, gun);
      }
    }
    throw new Error(`record kept changing (${MAX_WRITE_ATTEMPTS} attempts)`);
  }

  private async reread(server: string, gun: string): Promise<void> {
    const fresh = await this.options.backend.get(server, gun);
    if (fresh) this.accept(fresh);
    else {
      const entry = this.entries.get(recordName(server, gun));
      if (entry) entry.remote = undefined;
    }
  }

  /** Takes a stored record in; local versions it already holds are dropped. */
  private accept(stored: StoredRecord): void {
    const problem = checkRecord(stored.record);
    if (problem !== undefined) {
      this.counts.badRecords++;
      this.options.onError?.('trust state record refused', new Error(`${recordName(stored.record.server, stored.record.gun)}: ${problem}`));
      return;
    }
    const { server, gun } = stored.record;
    const key = recordName(server, gun);
    const entry = this.entries.get(key);
    if (!entry) {
      // Records made by other replicas count too; past the cap the oldest stay, the new wait.
      if (this.entries.size >= this.options.maxRecords) return;
      this.entries.set(key, { server, gun, remote: stored, local: new Map(), localSeen: 0, parsed: undefined });
      return;
    }
    entry.remote = stored;
    for (const [role, version] of entry.local) if ((stored.record.versions.get(role) ?? -1) >= version) entry.local.delete(role);
    if (entry.localSeen <= stored.record.lastSeen) entry.localSeen = 0;
  }

  private apply(event: StateEvent): void {
    if (event.type === 'put') this.accept(event.stored);
    else {
      const key = recordName(event.server, event.gun);
      const entry = this.entries.get(key);
      // Removed by a sweep elsewhere: what this replica verified since is written again.
      if (entry && entry.local.size === 0 && entry.localSeen === 0) this.entries.delete(key);
      else if (entry) entry.remote = undefined;
    }
  }

  private async relist(): Promise<void> {
    const all = await this.options.backend.list();
    const present = new Set<string>();
    for (const stored of all) {
      present.add(recordName(stored.record.server, stored.record.gun));
      this.accept(stored);
    }
    for (const [key, entry] of this.entries) {
      if (entry.remote && !present.has(key)) this.apply({ type: 'delete', server: entry.server, gun: entry.gun });
    }
  }

  /** Re-lists (no watch) and removes records not seen for expireAfterMs. */
  async refresh(): Promise<void> {
    try {
      if (!this.options.backend.watch) await this.relist();
      await this.sweep();
    } catch (error) {
      this.options.onError?.('trust state refresh', error);
    }
  }

  /** Removes expired records, as many as the write rate allows this round. */
  async sweep(): Promise<number> {
    const cutoff = this.now() - this.options.expireAfterMs;
    let removed = 0;
    for (const [key, entry] of [...this.entries]) {
      const seen = Math.max(entry.localSeen, entry.remote?.record.lastSeen ?? 0);
      if (seen >= cutoff || this.dirty.has(key)) continue;
      if (entry.remote) {
        if (!this.take()) break;
        try {
          await this.options.backend.remove(entry.server, entry.gun, entry.remote.revision);
        } catch (error) {
          // Touched by another replica meanwhile: it stays.
          if (!(error instanceof StateConflict)) this.options.onError?.('trust state sweep', error);
          continue;
        }
      }
      this.entries.delete(key);
      removed++;
    }
    return removed;
  }

  private scheduleFlush(ms: number): void {
    if (this.flushTimer !== undefined) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, ms);
    this.flushTimer.unref();
  }

  private full(gun: string): TrustError {
    this.counts.refusedFull++;
    return new TrustError('TRUST_STATE_FULL', `trust-on-first-use records are full (${this.options.maxRecords} repositories): ${gun} is not trusted until older records expire`);
  }

  /** A token of the write-rate bucket, if one is left. */
  private take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.options.writeBurst, this.tokens + ((now - this.tokensAt) / 1000) * this.options.writesPerSecond);
    this.tokensAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Resolves when every dirty record has been written or has failed once (tests, shutdown). */
  async settle(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.flush();
  }
}

function unavailable(gun: string, cause: unknown): TrustError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new TrustError('TRUST_STATE_UNAVAILABLE', `cannot record the first trusted root of ${gun}: ${why.slice(0, 300)}`, { cause });
}
