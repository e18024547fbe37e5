// TrustRecord objects as the trust state's store (src/kube/trust-records.ts), against a fake API
// server that keeps resourceVersions as the real one does: a stale replace is 409, a delete
// with a stale precondition is 409, pages are followed, and a malformed object is skipped.
import { KubeTrustRecords, trustRecordFromObject, trustRecordToObject, type TrustRecordApi, type TrustRecordObject } from '../../../src/kube/index.js';
import { TrustState, recordName, type TrustRecord } from '../../../src/trust/trust-state.js';

const SERVER = 'https://notary.test/';
const GUN = 'registry.test/team/app';

class FakeApiServer implements TrustRecordApi {
  readonly objects = new Map<string, TrustRecordObject>();
  private rv = 100;
  calls = 0;

  private fail(code: number): never {
    throw Object.assign(new Error(`HTTP-Code: ${code}`), { code });
  }

  private keep(object: TrustRecordObject): TrustRecordObject {
    const copy = structuredClone(object);
    copy.metadata = { ...copy.metadata, resourceVersion: String(++this.rv) };
    this.objects.set(copy.metadata.name!, copy);
    return structuredClone(copy);
  }

  list(cont: string | undefined) {
    this.calls++;
    const all = [...this.objects.values()];
    const start = cont === undefined ? 0 : Number(cont);
    return Promise.resolve({ items: all.slice(start, start + 2), cont: start + 2 < all.length ? String(start + 2) : undefined });
  }

  get(name: string) {
    this.calls++;
    const found = this.objects.get(name);
    return Promise.resolve(found && structuredClone(found));
  }

  create(body: TrustRecordObject) {
    this.calls++;
    if (this.objects.has(body.metadata!.name!)) this.fail(409);
    return Promise.resolve(this.keep(body));
  }

  replace(name: string, body: TrustRecordObject) {
    this.calls++;
    const current = this.objects.get(name);
    if (!current) this.fail(404);
    if (body.metadata?.resourceVersion !== current.metadata?.resourceVersion) this.fail(409);
    return Promise.resolve(this.keep(body));
  }

  remove(name: string, resourceVersion: string) {
    this.calls++;
    const current = this.objects.get(name);
    if (!current) this.fail(404);
    if (current.metadata?.resourceVersion !== resourceVersion) this.fail(409);
    this.objects.delete(name);
    return Promise.resolve();
  }
}

const record = (gun = GUN, versions: Record<string, number> = { timestamp: 3 }): TrustRecord => ({
  server: SERVER,
  gun,
  root: undefined,
  versions: new Map(Object.entries(versions)),
  lastSeen: Date.parse('2026-11-29T12:00:00Z'),
});

it('names each object by a hash of server and GUN, and reads back what it wrote', () => {
  const object = trustRecordToObject(record(), 'trustgate', '7');
  expect(object.metadata).toMatchObject({ name: recordName(SERVER, GUN), namespace: 'trustgate', resourceVersion: '7', labels: { 'app.kubernetes.io/managed-by': 'trustgate' } });
  expect(object.metadata?.name).toMatch(/^[a-z0-9-]{1,63}$/);
  expect(object.spec).toMatchObject({ server: SERVER, gun: GUN, versions: { timestamp: 3 }, lastSeen: '2026-11-29T12:00:00.000Z' });
  expect(trustRecordFromObject(object)).toEqual({ record: record(), revision: '7' });
});

it('optimistic concurrency: a stale resourceVersion is a conflict, the merge keeps the higher version of each role', async () => {
  const server = new FakeApiServer();
  const store = new KubeTrustRecords(server, 'trustgate');
  const created = await store.create(record());
  await expect(store.create(record())).rejects.toMatchObject({ name: 'StateConflict' });
  await store.replace(record(GUN, { timestamp: 9 }), created.revision);
  await expect(store.replace(record(GUN, { timestamp: 4 }), created.revision)).rejects.toMatchObject({ name: 'StateConflict' });

  // Two replicas over the same API server: the one holding a stale copy writes, conflicts, re-reads.
  const options = { maxRecords: 10, expireAfterMs: 86_400_000, touchIntervalMs: 3_600_000, writesPerSecond: 100, writeBurst: 100, refreshIntervalMs: 60_000 };
  const a = new TrustState({ ...options, backend: new KubeTrustRecords(server, 'trustgate') });
  await a.start();
  await store.replace(record(GUN, { timestamp: 12 }), (await store.get(SERVER, GUN))!.revision);
  a.noteVerified(SERVER, GUN, new Map([['timestamp', 10], ['snapshot', 2]]));
  await a.settle();
  a.stop();
  expect(server.objects.get(recordName(SERVER, GUN))?.spec?.versions).toEqual({ timestamp: 12, snapshot: 2 });
});

it('a delete with a stale precondition is a conflict; a record gone already is not an error', async () => {
  const server = new FakeApiServer();
  const store = new KubeTrustRecords(server, 'trustgate');
  const created = await store.create(record());
  await store.replace(record(GUN, { timestamp: 5 }), created.revision);
  await expect(store.remove(SERVER, GUN, created.revision)).rejects.toMatchObject({ name: 'StateConflict' });
  await store.remove(SERVER, GUN, (await store.get(SERVER, GUN))!.revision);
  await expect(store.remove(SERVER, GUN, '1')).resolves.toBeUndefined();
});

it('lists every page and skips, with a warning, an object that is not a record', async () => {
  const server = new FakeApiServer();
  const bad: string[] = [];
  const store = new KubeTrustRecords(server, 'trustgate', undefined, (name, problem) => bad.push(`${name}: ${problem}`));
  for (let i = 0; i < 5; i++) await store.create(record(`registry.test/r${i}`));
  server.objects.set('tr-forged', { metadata: { name: 'tr-forged', resourceVersion: '1' }, spec: { server: SERVER, gun: 'registry.test/x', versions: {}, lastSeen: '2026-01-01T00:00:00Z' } });
  expect(await store.list()).toHaveLength(5);
  expect(bad).toEqual(['tr-forged: is not named for its server and gun']);
});
