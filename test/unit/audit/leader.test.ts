// Leader election over a Lease (src/audit/leader.ts): one replica leads, the other stands by and
// takes over when the leader stops renewing or gives the Lease up; expiry is measured on the
// standby's own clock, never from the times written in the Lease.
import { LeaderElector, LeaseConflict, type LeaseApi, type LeaseRecord, type LeaseWrite } from '../../../src/audit/index.js';

/** An in-memory Lease with the API server's optimistic concurrency (resourceVersion). */
class MemoryLease implements LeaseApi {
  record: LeaseRecord | undefined;
  private version = 0;
  down = false;

  get(): Promise<LeaseRecord | undefined> {
    return this.answer(() => this.record);
  }
  create(lease: LeaseWrite): Promise<LeaseRecord> {
    return this.answer(() => {
      if (this.record) throw new LeaseConflict('exists');
      return (this.record = { ...lease, resourceVersion: String(++this.version) });
    });
  }
  replace(lease: LeaseWrite, resourceVersion: string): Promise<LeaseRecord> {
    return this.answer(() => {
      if (this.record?.resourceVersion !== resourceVersion) throw new LeaseConflict('changed');
      return (this.record = { ...lease, resourceVersion: String(++this.version) });
    });
  }
  /** Settles on a later turn, as a request would (two replicas may interleave). */
  private async answer<T>(f: () => T): Promise<T> {
    await Promise.resolve();
    if (this.down) throw new Error('API server unreachable');
    return f();
  }
  /** Someone else writes the Lease (a tenant, a replica of another version). */
  forge(lease: LeaseWrite): void {
    this.record = { ...lease, resourceVersion: String(++this.version) };
  }
}

const timing = { leaseDurationMs: 15_000, renewIntervalMs: 5_000 };

function pair(api: LeaseApi, clock: { t: number }) {
  const changes: string[] = [];
  const a = new LeaderElector(api, 'a', timing, () => clock.t, (l) => changes.push(`a:${l}`));
  const b = new LeaderElector(api, 'b', timing, () => clock.t, (l) => changes.push(`b:${l}`));
  return { a, b, changes };
}

it('one replica leads; the other stands by while the leader renews', async () => {
  const api = new MemoryLease();
  const clock = { t: 0 };
  const { a, b, changes } = pair(api, clock);
  expect(await a.tick()).toBe(true);
  expect(await b.tick()).toBe(false);
  for (let i = 0; i < 10; i++) {
    clock.t += 5_000;
    expect(await a.tick()).toBe(true);
    expect(await b.tick()).toBe(false);
  }
  expect(changes).toEqual(['a:true']);
  expect(api.record?.holder).toBe('a');
});

it('the standby takes over once the leader has not renewed for the lease duration, counting a transition', async () => {
  const api = new MemoryLease();
  const clock = { t: 0 };
  const { a, b, changes } = pair(api, clock);
  await a.tick();
  await b.tick(); // observes a's Lease at t=0
  clock.t = 14_000;
  expect(await b.tick()).toBe(false);
  clock.t = 15_001;
  expect(await b.tick()).toBe(true);
  expect(api.record).toMatchObject({ holder: 'b', transitions: 1 });
  // a comes back: it sees b's Lease and steps down.
  expect(await a.tick()).toBe(false);
  expect(changes).toEqual(['a:true', 'b:true', 'a:false']);
});

it('a leader that stops gives the Lease up: the standby takes over at its next look', async () => {
  const api = new MemoryLease();
  const clock = { t: 0 };
  const { a, b } = pair(api, clock);
  await a.tick();
  await b.tick();
  await a.stop();
  expect(api.record?.holder).toBe('');
  clock.t += 1;
  expect(await b.tick()).toBe(true);
});

it('a leader that cannot renew steps down before a standby may take over', async () => {
  const api = new MemoryLease();
  const clock = { t: 0 };
  const { a, changes } = pair(api, clock);
  await a.tick();
  api.down = true;
  clock.t = 10_000;
  expect(await a.tick()).toBe(true);
  clock.t = 11_300; // past 3/4 of the lease duration since the last renewal
  expect(await a.tick()).toBe(false);
  expect(changes).toEqual(['a:true', 'a:false']);
});

it('two replicas racing for a free Lease: exactly one wins (resourceVersion)', async () => {
  const api = new MemoryLease();
  const clock = { t: 0 };
  const { a, b } = pair(api, clock);
  const [la, lb] = await Promise.all([a.tick(), b.tick()]);
  expect([la, lb].filter(Boolean)).toHaveLength(1);
});

it('a forged Lease claiming a renewal far in the future and a year-long duration holds no longer than an honest one', async () => {
  const api = new MemoryLease();
  const clock = { t: 0 };
  const { b } = pair(api, clock);
  api.forge({ holder: 'intruder', leaseDurationSeconds: 31_536_000, acquireTime: '2999-01-01T00:00:00.000000Z', renewTime: '2999-01-01T00:00:00.000000Z', transitions: 0 });
  expect(await b.tick()).toBe(false);
  clock.t = 15_001;
  expect(await b.tick()).toBe(true);
  expect(api.record?.holder).toBe('b');
});
