// TrustClient with a shared trust state: what one replica trusted on first use, every replica
// and every restart enforces (notary's rotation rules from the recorded root), and a rollback
// one replica saw is refused by the others (issue 12).
import { NO_PINS, TrustClient } from '../../../src/trust/index.js';
import { TrustState } from '../../../src/trust/trust-state.js';
import { TestKey } from '../../support/keys.js';
import { FakeTrustBackend } from '../../support/fake-trust-backend.js';
import { RecordedFetcher } from '../../support/recorded-fetcher.js';
import { buildRepository, digestOf, standardKeys, standardSpec, type RepoSpec } from '../../support/repo-builder.js';
import { codeOf } from '../../support/verify-helpers.js';

const GUN = 'registry.test/team/app';
const SERVER = 'https://notary.test';
const NOW = Date.now();
const keys = standardKeys(GUN);

function repo(edit?: (spec: RepoSpec) => void): Map<string, Buffer> {
  const spec = standardSpec(GUN, keys, { '1.0': digestOf('v1') }, NOW);
  edit?.(spec);
  return buildRepository(spec).files;
}

async function replica(store: FakeTrustBackend): Promise<TrustClient> {
  const state = new TrustState({ backend: store.client(), maxRecords: 100, expireAfterMs: 86_400_000, touchIntervalMs: 3_600_000, writesPerSecond: 100, writeBurst: 100, refreshIntervalMs: 60_000 });
  await state.start();
  return new TrustClient({ state });
}

function load(client: TrustClient, files: Map<string, Buffer>) {
  return client.loadRepository({ server: SERVER, gun: GUN, pins: NO_PINS, roles: { all: false, roles: [] }, caBundle: undefined, credentials: undefined, timeoutMs: 5000, fetcher: new RecordedFetcher(files) });
}

/** The same GUN initialised again by someone else: other root keys, nothing signed by the old ones. */
const impostor = () => {
  const other = standardKeys(GUN);
  return buildRepository(standardSpec(GUN, other, { '1.0': digestOf('evil') }, NOW)).files;
};

it('a root trusted on first use by one replica is enforced by another and after a restart', async () => {
  const store = new FakeTrustBackend();
  const a = await replica(store);
  await expect(load(a, repo())).resolves.toMatchObject({ gun: GUN });
  const b = await replica(store);
  expect(await codeOf(load(b, impostor()))).toBe('ROOT_KEY_MISMATCH');
  const restarted = await replica(store);
  expect(await codeOf(load(restarted, impostor()))).toBe('ROOT_KEY_MISMATCH');
  await expect(load(restarted, repo())).resolves.toMatchObject({ gun: GUN });
  // Without the shared state, the other replica trusts the impostor on its first use.
  await expect(load(new TrustClient(), impostor())).resolves.toMatchObject({ gun: GUN });
});

it('a valid rotation from the recorded root moves the record for every replica', async () => {
  const store = new FakeTrustBackend();
  const a = await replica(store);
  const b = await replica(store);
  const v1 = repo();
  await load(a, v1);
  const newRoot = TestKey.generate('ecdsa-x509', { cn: GUN });
  const rotated = repo((s) => {
    s.root = { keys: [newRoot], signers: [keys.root, newRoot], version: 2 };
    s.rootHistory = new Map([[1, v1.get('root')!]]);
  });
  await expect(load(b, rotated)).resolves.toMatchObject({ root: { version: 2 } });
  // a now verifies from root version 2: the old root's repository is a rollback.
  expect(await codeOf(load(a, v1))).toBe('ROLLBACK');
  // And a root signed only by the new keys, not by the recorded ones, is refused.
  const hijack = repo((s) => {
    s.root = { keys: [TestKey.generate('ecdsa-x509', { cn: GUN })], version: 3 };
  });
  expect(await codeOf(load(a, hijack))).toBe('ROOT_KEY_MISMATCH');
});

it('a rollback one replica saw is refused by the other', async () => {
  const store = new FakeTrustBackend();
  const a = await replica(store);
  const b = await replica(store);
  const older = repo((s) => { s.timestamp.version = 4; s.snapshot.version = 4; });
  const newer = repo((s) => { s.timestamp.version = 5; s.snapshot.version = 5; });
  await load(b, older);
  await load(a, newer);
  await (a as unknown as { options: { state: TrustState } }).options.state.settle();
  expect(await codeOf(load(b, older))).toBe('ROLLBACK');
});

it('a new repository is refused while its root cannot be recorded', async () => {
  const store = new FakeTrustBackend();
  const a = await replica(store);
  store.down = true;
  expect(await codeOf(load(a, repo()))).toBe('TRUST_STATE_UNAVAILABLE');
});

it('two replicas that first see different roots at the same moment end with one: the loser verifies from the winner\'s', async () => {
  const store = new FakeTrustBackend();
  const a = await replica(store);
  const b = await replica(store);
  const genuine = repo();
  // While b is fetching the impostor's metadata, a trusts and records the genuine root.
  const inner = new RecordedFetcher(impostor());
  let raced = false;
  const racing = {
    async fetch(file: string, maxBytes: number) {
      if (!raced && file === 'timestamp') {
        raced = true;
        await load(a, genuine);
      }
      return inner.fetch(file, maxBytes);
    },
  };
  const loadB = b.loadRepository({ server: SERVER, gun: GUN, pins: NO_PINS, roles: { all: false, roles: [] }, caBundle: undefined, credentials: undefined, timeoutMs: 5000, fetcher: racing });
  expect(await codeOf(loadB)).toBe('ROOT_KEY_MISMATCH');
  expect(raced).toBe(true);
  await expect(load(b, genuine)).resolves.toMatchObject({ gun: GUN });
});
