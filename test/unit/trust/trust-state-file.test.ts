// The trust state's file (src/trust/trust-state-file.ts): survives a restart, is written whole
// and atomically with mode 0600, and is refused when anyone but trustgate could have changed it.
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { FileStateBackend, StateFileError } from '../../../src/trust/trust-state-file.js';
import { TrustState, type TrustRecord } from '../../../src/trust/trust-state.js';

const SERVER = 'https://notary.test/';
const GUN = 'registry.test/team/app';
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'trust-state-'));
  chmodSync(dir, 0o700);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const record = (gun = GUN, timestamp = 1): TrustRecord => ({ server: SERVER, gun, root: undefined, versions: new Map([['timestamp', timestamp]]), lastSeen: 1 });
const backend = (path = join(dir, 'state.json'), maxBytes = 1 << 20) => new FileStateBackend({ path, maxBytes });

function state(path: string) {
  return new TrustState({ backend: backend(path), maxRecords: 10, expireAfterMs: 86_400_000, touchIntervalMs: 3_600_000, writesPerSecond: 100, writeBurst: 100, refreshIntervalMs: 60_000 });
}

it('keeps a root and the rollback floor across a restart', async () => {
  const path = join(dir, 'state.json');
  const first = state(path);
  await first.start();
  const bytes = Buffer.from('{"signed":{}}');
  const root = { bytes, version: 1, sha256: createHash('sha256').update(bytes).digest('hex') };
  await first.recordRoot(SERVER, GUN, root, undefined);
  first.noteVerified(SERVER, GUN, new Map([['timestamp', 9]]));
  await first.settle();
  first.stop();

  const second = state(path);
  await second.start();
  expect(second.root(SERVER, GUN)?.bytes.equals(bytes)).toBe(true);
  expect(second.version(SERVER, GUN, 'timestamp')).toBe(9);
  second.stop();
});

it('writes with mode 0600 through a temporary file and a rename, leaving no temporary behind', async () => {
  const file = backend();
  await file.create(record());
  const before = statSync(join(dir, 'state.json')).ino;
  await file.create(record('registry.test/other'));
  const after = statSync(join(dir, 'state.json'));
  expect(after.ino).not.toBe(before); // a new file renamed over the old, never rewritten in place
  expect(after.mode & 0o777).toBe(0o600);
  expect(readdirSync(dir)).toEqual(['state.json']);
});

it('answers a stale revision with a conflict and changes nothing', async () => {
  const file = backend();
  const created = await file.create(record());
  await file.replace(record(GUN, 2), created.revision);
  await expect(file.replace(record(GUN, 3), created.revision)).rejects.toMatchObject({ name: 'StateConflict' });
  await expect(file.create(record())).rejects.toMatchObject({ name: 'StateConflict' });
  expect((await backend().get(SERVER, GUN))?.record.versions.get('timestamp')).toBe(2);
});

it('refuses a write that would grow the file past its bound, keeping the file as it was', async () => {
  const file = backend(join(dir, 'state.json'), 250);
  await file.create(record());
  await expect(file.create(record('registry.test/second'))).rejects.toThrow(/maxBytes/);
  expect(await backend().list()).toHaveLength(1);
});

describe('a file trustgate did not write alone is refused', () => {
  const valid = () => JSON.stringify({ format: 'trustgate.dev/trust-state/v1', records: {} });

  it('writable by others', async () => {
    const path = join(dir, 'state.json');
    writeFileSync(path, valid(), { mode: 0o600 });
    chmodSync(path, 0o666);
    await expect(backend(path).list()).rejects.toThrow(/can be written by others/);
  });

  it('a symbolic link', async () => {
    const target = join(dir, 'elsewhere.json');
    writeFileSync(target, valid(), { mode: 0o600 });
    symlinkSync(target, join(dir, 'state.json'));
    await expect(backend().list()).rejects.toThrow(/not a regular file/);
  });

  it('in a directory others can write', async () => {
    chmodSync(dir, 0o777);
    await expect(backend().list()).rejects.toThrow(/directory .* can be written by others/);
  });

  it('larger than its bound', async () => {
    const path = join(dir, 'state.json');
    writeFileSync(path, valid() + ' '.repeat(2000), { mode: 0o600 });
    await expect(backend(path, 1000).list()).rejects.toThrow(StateFileError);
  });

  it.each([
    ['not JSON', '{'],
    ['another format', JSON.stringify({ format: 'x', records: {} })],
    ['a record under the wrong name', JSON.stringify({ format: 'trustgate.dev/trust-state/v1', records: { 'tr-0': { server: SERVER, gun: GUN, versions: {}, lastSeen: 0, revision: 1 } } })],
    ['a version that is no number', JSON.stringify({ format: 'trustgate.dev/trust-state/v1', records: { x: { server: SERVER, gun: GUN, versions: { timestamp: '9' }, lastSeen: 0, revision: 1 } } })],
  ])('%s', async (_name, text) => {
    const path = join(dir, 'state.json');
    writeFileSync(path, text, { mode: 0o600 });
    await expect(backend(path).list()).rejects.toThrow(StateFileError);
  });
});
