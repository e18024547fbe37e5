// The trust state's rules (src/trust/trust-state.ts) against a store shared by two replicas:
// conflicts merge with max per role, the first recorded root wins, rotations move it only from
// the recorded one, the cap refuses rather than evicts, old records expire, writes are bounded.
import { createHash } from 'node:crypto';
import { jest } from '@jest/globals';
import { TrustState, recordName, type RecordedRoot, type TrustStateOptions } from '../../../src/trust/trust-state.js';
import { FakeTrustBackend } from '../../support/fake-trust-backend.js';

const SERVER = 'https://notary.test/';
const GUN = 'registry.test/team/app';
const HOUR = 3_600_000;

function root(text: string, version = 1): RecordedRoot {
  const bytes = Buffer.from(text);
  return { bytes, version, sha256: createHash('sha256').update(bytes).digest('hex') };
}

function replica(store: FakeTrustBackend, clock: { now: number }, options: Partial<TrustStateOptions> & { watch?: boolean } = {}): TrustState {
  return new TrustState({
    backend: store.client({ watch: options.watch ?? true }),
    maxRecords: 100,
    expireAfterMs: 24 * HOUR,
    touchIntervalMs: HOUR,
    writesPerSecond: 1000,
    writeBurst: 1000,
    refreshIntervalMs: 60_000,
    now: () => clock.now,
    ...options,
  });
}

async function pair(options: Partial<TrustStateOptions> = {}) {
  const store = new FakeTrustBackend();
  const clock = { now: Date.parse('2026-11-29T00:00:00Z') };
  const a = replica(store, clock, options);
  const b = replica(store, clock, options);
  await a.start();
  await b.start();
  return { store, clock, a, b };
}

const versions = (entries: Record<string, number>) => new Map(Object.entries(entries));

afterEach(() => jest.useRealTimers());

describe('role versions (the rollback floor)', () => {
  it('a version one replica verified becomes the floor of the other', async () => {
    const { a, b } = await pair();
    a.noteVerified(SERVER, GUN, versions({ timestamp: 7, snapshot: 3 }));
    expect(a.version(SERVER, GUN, 'timestamp')).toBe(7);
    expect(b.version(SERVER, GUN, 'timestamp')).toBeUndefined();
    await a.settle();
    expect(b.version(SERVER, GUN, 'timestamp')).toBe(7);
    expect(b.version(SERVER, GUN, 'snapshot')).toBe(3);
  });

  it('a replica with a stale copy never writes a lower version over a higher one (max per role on conflict)', async () => {
    const { store, a, b } = await pair();
    a.noteVerified(SERVER, GUN, versions({ timestamp: 9, snapshot: 2 }));
    await a.settle();
    b.stop(); // b misses a's later writes
    a.noteVerified(SERVER, GUN, versions({ timestamp: 12, snapshot: 2 }));
    await a.settle();
    b.noteVerified(SERVER, GUN, versions({ timestamp: 10, snapshot: 4 }));
    await b.settle();
    const stored = store.records.get(recordName(SERVER, GUN))!.record.versions;
    expect(Object.fromEntries(stored)).toEqual({ timestamp: 12, snapshot: 4 });
    expect(store.calls).toContain('get');
  });

  it('a write that meets a conflict re-reads and merges, within a bounded number of attempts', async () => {
    const { store, a } = await pair();
    a.noteVerified(SERVER, GUN, versions({ timestamp: 1 }));
    await a.settle();
    store.conflictsToInject = 2;
    a.noteVerified(SERVER, GUN, versions({ timestamp: 2, snapshot: 5 }));
    await a.settle();
    const stored = store.records.get(recordName(SERVER, GUN))!.record.versions;
    expect(stored.get('timestamp')).toBe(201); // the other writer's, higher
    expect(stored.get('snapshot')).toBe(5); // ours, kept
    expect(a.sizes().conflicts).toBe(2);

    store.conflictsToInject = 100;
    a.noteVerified(SERVER, GUN, versions({ snapshot: 6 }));
    await a.settle();
    expect(a.sizes().writeFailures).toBe(1);
    expect(a.version(SERVER, GUN, 'snapshot')).toBe(6); // kept in memory, written again later
    expect(a.sizes().dirty).toBe(1);
  });

  it('reads never call the store (the review path gains no API call)', async () => {
    const { store, a } = await pair();
    a.noteVerified(SERVER, GUN, versions({ timestamp: 1 }));
    await a.settle();
    const before = store.calls.length;
    for (let i = 0; i < 100; i++) {
      a.version(SERVER, GUN, 'timestamp');
      a.root(SERVER, GUN);
    }
    expect(store.calls.length).toBe(before);
  });

  it('lastSeen is written at most once per touch interval', async () => {
    const { store, clock, a } = await pair();
    for (let i = 0; i < 50; i++) {
      a.noteVerified(SERVER, GUN, versions({ timestamp: 1 }));
      await a.settle();
      clock.now += 60_000;
    }
    // One create at the start, one touch after the first hour has passed.
    expect(store.calls.filter((c) => c === 'create' || c === 'replace')).toHaveLength(1);
    clock.now += HOUR;
    a.noteVerified(SERVER, GUN, versions({ timestamp: 1 }));
    await a.settle();
    expect(store.calls.filter((c) => c === 'create' || c === 'replace')).toHaveLength(2);
  });
});

describe('roots trusted on first use', () => {
  it('the first root recorded wins; another replica is told which it is', async () => {
    const { a, b } = await pair();
    await expect(a.recordRoot(SERVER, GUN, root('first'), undefined)).resolves.toMatchObject({ sha256: root('first').sha256 });
    // b has not seen it yet when it bootstraps another root.
    await expect(b.recordRoot(SERVER, GUN, root('second'), undefined)).resolves.toMatchObject({ sha256: root('first').sha256 });
    expect(b.root(SERVER, GUN)?.sha256).toBe(root('first').sha256);
  });

  it('the first root wins even when the other replica never saw it (conflict on create)', async () => {
    const store = new FakeTrustBackend();
    const clock = { now: Date.now() };
    const a = replica(store, clock, { watch: false });
    const b = replica(store, clock, { watch: false });
    await a.start();
    await b.start();
    await a.recordRoot(SERVER, GUN, root('first'), undefined);
    expect(b.root(SERVER, GUN)).toBeUndefined();
    await expect(b.recordRoot(SERVER, GUN, root('second'), undefined)).resolves.toMatchObject({ sha256: root('first').sha256 });
    b.stop();
    a.stop();
  });

  it('a newer root replaces the recorded one only when reached from it', async () => {
    const { a, b } = await pair();
    const v1 = root('v1', 2);
    await a.recordRoot(SERVER, GUN, v1, undefined);
    // From another root: refused, the recorded one stays.
    await expect(b.recordRoot(SERVER, GUN, root('evil', 3), root('other').sha256)).resolves.toMatchObject({ sha256: v1.sha256 });
    // Older: refused.
    await expect(b.recordRoot(SERVER, GUN, root('v0', 1), v1.sha256)).resolves.toMatchObject({ sha256: v1.sha256 });
    const v2 = root('v2', 3);
    await expect(b.recordRoot(SERVER, GUN, v2, v1.sha256)).resolves.toMatchObject({ sha256: v2.sha256 });
    expect(a.root(SERVER, GUN)?.sha256).toBe(v2.sha256);
    expect(a.version(SERVER, GUN, 'root')).toBe(3);
  });

  it('a root survives a restart: a new replica lists it at start', async () => {
    const { store, clock, a } = await pair();
    await a.recordRoot(SERVER, GUN, root('first'), undefined);
    a.noteVerified(SERVER, GUN, versions({ timestamp: 4 }));
    await a.settle();
    a.stop();
    const restarted = replica(store, clock);
    await restarted.start();
    expect(restarted.root(SERVER, GUN)?.sha256).toBe(root('first').sha256);
    expect(restarted.version(SERVER, GUN, 'timestamp')).toBe(4);
  });

  it('a root is refused, not trusted unrecorded, when the store is down', async () => {
    const { store, a } = await pair();
    store.down = true;
    await expect(a.recordRoot(SERVER, GUN, root('first'), undefined)).rejects.toMatchObject({ code: 'TRUST_STATE_UNAVAILABLE' });
    await expect(a.lookup(SERVER, 'registry.test/other')).rejects.toMatchObject({ code: 'TRUST_STATE_UNAVAILABLE' });
    expect(a.root(SERVER, GUN)).toBeUndefined();
  });

  it('a root larger than a record holds is refused', async () => {
    const { a } = await pair();
    await expect(a.recordRoot(SERVER, GUN, root('x'.repeat(65 * 1024)), undefined)).rejects.toMatchObject({ code: 'TOO_LARGE' });
  });
});

describe('bounds', () => {
  it('at the cap, new repositories are refused (TRUST_STATE_FULL) and no recorded root is evicted', async () => {
    const { store, a } = await pair({ maxRecords: 3 });
    for (let i = 0; i < 3; i++) await a.recordRoot(SERVER, `registry.test/r${i}`, root(`r${i}`), undefined);
    await expect(a.recordRoot(SERVER, 'registry.test/flood', root('flood'), undefined)).rejects.toMatchObject({ code: 'TRUST_STATE_FULL' });
    expect(a.noteVerified(SERVER, 'registry.test/flood2', versions({ timestamp: 1 }))).toBe(false);
    // Refused before any read: a flood of new names costs the API server nothing.
    const reads = store.calls.filter((c) => c === 'get').length;
    await expect(a.lookup(SERVER, 'registry.test/flood3')).rejects.toMatchObject({ code: 'TRUST_STATE_FULL' });
    expect(store.calls.filter((c) => c === 'get')).toHaveLength(reads);
    expect(store.records.size).toBe(3);
    expect(a.root(SERVER, 'registry.test/r0')?.sha256).toBe(root('r0').sha256);
    expect(a.sizes()).toMatchObject({ records: 3, refusedFull: 3 });
  });

  it('records not seen for expireAfter are removed, on every replica', async () => {
    const { store, clock, a, b } = await pair();
    await a.recordRoot(SERVER, 'registry.test/old', root('old'), undefined);
    clock.now += 20 * HOUR;
    await a.recordRoot(SERVER, 'registry.test/young', root('young'), undefined);
    clock.now += 5 * HOUR;
    expect(await a.sweep()).toBe(1);
    expect(store.records.has(recordName(SERVER, 'registry.test/old'))).toBe(false);
    expect(b.root(SERVER, 'registry.test/old')).toBeUndefined();
    expect(b.root(SERVER, 'registry.test/young')).toBeDefined();
  });

  it('writes toward the store are rate-limited; the rest wait and are not lost', async () => {
    const { store, clock, a } = await pair({ writesPerSecond: 2, writeBurst: 2 });
    jest.useFakeTimers({ now: clock.now });
    for (let i = 0; i < 6; i++) a.noteVerified(SERVER, `registry.test/r${i}`, versions({ timestamp: 1 }));
    await jest.advanceTimersByTimeAsync(0);
    expect(store.records.size).toBe(2);
    await expect(a.recordRoot(SERVER, GUN, root('first'), undefined)).rejects.toMatchObject({ code: 'TRUST_STATE_UNAVAILABLE' });
    for (let s = 0; s < 3; s++) {
      clock.now += 1000;
      await jest.advanceTimersByTimeAsync(1000);
    }
    expect(store.records.size).toBe(6);
  });

  it('a hostile record from the store is refused, not trusted', async () => {
    const store = new FakeTrustBackend();
    const bad = root('bad');
    store.records.set(recordName(SERVER, GUN), { revision: '1', record: { server: SERVER, gun: GUN, root: { ...bad, sha256: root('other').sha256 }, versions: new Map(), lastSeen: 0 } });
    const errors: string[] = [];
    const a = replica(store, { now: Date.now() }, { onError: (what) => errors.push(what) });
    await a.start();
    expect(a.root(SERVER, GUN)).toBeUndefined();
    expect(a.sizes().badRecords).toBe(1);
    expect(errors).toEqual(['trust state record refused']);
  });
});
