// The trust state in a file, for `trustgate serve` without Kubernetes (policies.files only):
// one JSON document, rewritten whole and atomically (temporary file + rename) after each change.
// One process per file: revisions guard against this process's own concurrent writers only.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StateConflict, checkRecord, recordName, type StoredRecord, type TrustRecord, type TrustStateBackend } from './trust-state.js';

const FORMAT = 'trustgate.dev/trust-state/v1';

/** Why a state file cannot be used; serve refuses to start with it. */
export class StateFileError extends Error {
  override readonly name = 'StateFileError';
}

export interface FileBackendOptions {
  readonly path: string;
  /** Bytes the file may hold; a larger file is refused, a write that would grow past it fails. */
  readonly maxBytes: number;
}

interface FileRecord {
  readonly record: TrustRecord;
  readonly revision: number;
}

export class FileStateBackend implements TrustStateBackend {
  private records: Map<string, FileRecord> | undefined;
  /** Operations one after another: each reads and rewrites the whole file. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: FileBackendOptions) {}

  list(): Promise<StoredRecord[]> {
    return this.serial(async () => [...(await this.load()).values()].map(stored));
  }

  get(server: string, gun: string): Promise<StoredRecord | undefined> {
    return this.serial(async () => {
      const found = (await this.load()).get(recordName(server, gun));
      return found && stored(found);
    });
  }

  create(record: TrustRecord): Promise<StoredRecord> {
    return this.serial(async () => {
      const records = await this.load();
      const name = recordName(record.server, record.gun);
      if (records.has(name)) throw new StateConflict(`${name} exists`);
      return this.put(records, name, { record, revision: 1 });
    });
  }

  replace(record: TrustRecord, revision: string): Promise<StoredRecord> {
    return this.serial(async () => {
      const records = await this.load();
      const name = recordName(record.server, record.gun);
      const current = records.get(name);
      if (!current || String(current.revision) !== revision) throw new StateConflict(`${name} changed`);
      return this.put(records, name, { record, revision: current.revision + 1 });
    });
  }

  remove(server: string, gun: string, revision: string): Promise<void> {
    return this.serial(async () => {
      const records = await this.load();
      const name = recordName(server, gun);
      const current = records.get(name);
      if (!current) return;
      if (String(current.revision) !== revision) throw new StateConflict(`${name} changed`);
      const next = new Map(records);
      next.delete(name);
      await this.save(next);
    });
  }

  private async put(records: Map<string, FileRecord>, name: string, entry: FileRecord): Promise<StoredRecord> {
    const next = new Map(records);
    next.set(name, entry);
    await this.save(next);
    return stored(entry);
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The file's records, read once and checked: a file anyone but its owner can change is refused. */
  private async load(): Promise<Map<string, FileRecord>> {
    if (this.records) return this.records;
    const path = this.options.path;
    await checkDirectory(dirname(path));
    let info;
    try {
      info = await lstat(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return (this.records = new Map());
      throw new StateFileError(`trust state file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    checkFile(path, info);
    if (info.size > this.options.maxBytes) throw new StateFileError(`trust state file ${path} is ${info.size} bytes, more than trustState.file.maxBytes (${this.options.maxBytes})`);
    const text = await readFile(path, 'utf8');
    this.records = parseStateFile(text, path);
    return this.records;
  }

  private async save(records: Map<string, FileRecord>): Promise<void> {
    const text = serialize(records);
    if (Buffer.byteLength(text) > this.options.maxBytes) throw new Error(`trust state file would grow past trustState.file.maxBytes (${this.options.maxBytes})`);
    const path = this.options.path;
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    // O_EXCL: never through a file or link someone placed at that name.
    const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await handle.writeFile(text);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temporary, path);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
    this.records = records;
  }
}

function stored(entry: FileRecord): StoredRecord {
  return { record: entry.record, revision: String(entry.revision) };
}

async function checkDirectory(path: string): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw new StateFileError(`trust state directory ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  // Others who can write the directory can rename their own file over ours (unless sticky).
  if ((info.mode & 0o022) !== 0 && (info.mode & 0o1000) === 0) throw new StateFileError(`trust state directory ${path} can be written by others; use a directory only trustgate's user can write`);
}

function checkFile(path: string, info: import('node:fs').Stats): void {
  if (!info.isFile()) throw new StateFileError(`trust state file ${path} is not a regular file (a link or a device is refused)`);
  if ((info.mode & 0o022) !== 0) throw new StateFileError(`trust state file ${path} can be written by others (mode ${(info.mode & 0o777).toString(8)}); it must be 0600`);
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) throw new StateFileError(`trust state file ${path} belongs to uid ${info.uid}, not to trustgate's (${uid})`);
}

function serialize(records: Map<string, FileRecord>): string {
  const out: Record<string, unknown> = {};
  for (const [name, { record, revision }] of records) {
    out[name] = {
      server: record.server,
      gun: record.gun,
      ...(record.root && { root: { bytes: record.root.bytes.toString('base64'), version: record.root.version, sha256: record.root.sha256 } }),
      versions: Object.fromEntries(record.versions),
      lastSeen: record.lastSeen,
      revision,
    };
  }
  return `${JSON.stringify({ format: FORMAT, records: out })}\n`;
}

/** Reads a state file; every problem names the record and field. */
export function parseStateFile(text: string, path: string): Map<string, FileRecord> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new StateFileError(`trust state file ${path} is not JSON`);
  }
  if (!isObject(doc) || doc.format !== FORMAT || !isObject(doc.records)) throw new StateFileError(`trust state file ${path} is not a ${FORMAT} document`);
  const records = new Map<string, FileRecord>();
  for (const [name, raw] of Object.entries(doc.records)) {
    const record = readRecord(raw);
    const where = `trust state file ${path}: records.${name.slice(0, 64)}`;
    if (typeof record === 'string') throw new StateFileError(`${where}: ${record}`);
    const problem = checkRecord(record.record) ?? (recordName(record.record.server, record.record.gun) === name ? undefined : 'is filed under another name');
    if (problem !== undefined) throw new StateFileError(`${where}: ${problem}`);
    records.set(name, record);
  }
  return records;
}

function readRecord(raw: unknown): FileRecord | string {
  if (!isObject(raw)) return 'is not an object';
  const { server, gun, root, versions, lastSeen, revision } = raw;
  if (typeof server !== 'string' || typeof gun !== 'string') return 'server and gun must be strings';
  if (typeof lastSeen !== 'number' || typeof revision !== 'number' || !Number.isSafeInteger(revision)) return 'lastSeen and revision must be numbers';
  if (!isObject(versions)) return 'versions must be an object';
  const roles = new Map<string, number>();
  for (const [role, version] of Object.entries(versions)) {
    if (typeof version !== 'number') return `versions.${role.slice(0, 64)} must be a number`;
    roles.set(role, version);
  }
  let recorded;
  if (root !== undefined) {
    if (!isObject(root) || typeof root.bytes !== 'string' || typeof root.version !== 'number' || typeof root.sha256 !== 'string') return 'root must hold bytes, version and sha256';
    recorded = { bytes: Buffer.from(root.bytes, 'base64'), version: root.version, sha256: root.sha256 };
  }
  return { record: { server, gun, root: recorded, versions: roles, lastSeen }, revision };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
