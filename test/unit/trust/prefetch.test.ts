// A cold load asks for its documents in one wave (src/trust/update.ts, Prefetch): root and
// timestamp, and snapshot, targets and targets/releases by name before their hashes are known.
// What arrives early is used only when it is exactly what its verified parent declares; every
// other copy is dropped and the role fetched by hash, and nothing early is read past a small
// document or holds budget once the load settles.
import { NO_PINS, TrustClient, TrustError, type MetadataFetcher } from '../../../src/trust/index.js';
import { loadScenario } from '../../support/fixtures.js';

const recorded = loadScenario('targets-only');
const gun = recorded.scenario.gun;
const byHash = (role: string) => [...recorded.files.keys()].find((k) => k.startsWith(`${role}.`))!;

/** Serves `files`; records each request with its byte cap; answers only when `gate` opens. */
function serving(files: ReadonlyMap<string, Buffer>, gate: Promise<void> = Promise.resolve()) {
  const asked: { file: string; maxBytes: number }[] = [];
  const fetcher: MetadataFetcher = {
    async fetch(file, maxBytes) {
      asked.push({ file, maxBytes });
      await gate;
      const bytes = files.get(file);
      if (bytes && bytes.length > maxBytes) throw new TrustError('TOO_LARGE', `${file} is larger than ${maxBytes} bytes`);
      return bytes;
    },
  };
  return { asked, fetcher };
}

function load(client: TrustClient) {
  return client.loadRepository({ server: 'https://notary.test', gun, pins: NO_PINS, roles: { all: false, roles: [] }, caBundle: undefined, credentials: undefined, timeoutMs: 5000 });
}

/** The server's files, with `targets` also served by name as notary-server does. */
function withTargetsByName(): Map<string, Buffer> {
  const files = new Map(recorded.files);
  files.set('targets', recorded.files.get(byHash('targets'))!);
  return files;
}

test('a cold load asks for root, timestamp and the roles by name at once, and needs nothing more when they match', async () => {
  let open!: () => void;
  const { asked, fetcher } = serving(withTargetsByName(), new Promise<void>((r) => (open = r)));
  const client = new TrustClient({ now: () => recorded.now, fetcher: () => fetcher });
  const pending = load(client);
  await new Promise((r) => setTimeout(r, 20));
  // Nothing has answered yet, and the whole wave is out.
  expect(asked.map((a) => a.file)).toEqual(['root', 'timestamp', 'snapshot', 'targets', 'targets/releases']);
  open();
  const repo = await pending;
  expect(repo.roles.get('targets')?.doc.body.targets.size).toBeGreaterThan(0);
  expect(asked).toHaveLength(5);
});

test('a role served by name that is not what its verified parent declares is dropped and fetched by hash', async () => {
  const files = new Map(recorded.files);
  // A newer (or forged) document under the names: it must never be parsed, let alone trusted.
  files.set('snapshot', Buffer.from('{"not": "the declared snapshot"}'));
  files.set('targets', Buffer.from('{"not": "the declared targets"}'));
  const { asked, fetcher } = serving(files);
  const client = new TrustClient({ now: () => recorded.now, fetcher: () => fetcher });
  const repo = await load(client);
  expect(repo.versions.get('targets')).toBeGreaterThan(0);
  expect(asked.map((a) => a.file)).toEqual(expect.arrayContaining([byHash('snapshot'), byHash('targets')]));
});

test('documents asked for ahead are read no further than a small document, then fetched by hash', async () => {
  const small = 256;
  const files = withTargetsByName();
  expect(files.get('targets')!.length).toBeGreaterThan(small);
  const { asked, fetcher } = serving(files);
  const client = new TrustClient({ now: () => recorded.now, fetcher: () => fetcher, metadataBudget: { bytes: 8 << 20, reservedForSmall: 1 << 20, smallDocumentBytes: small } });
  await load(client);
  for (const role of ['snapshot', 'targets', 'targets/releases']) expect(asked.find((a) => a.file === role)?.maxBytes).toBe(small);
  expect(asked.map((a) => a.file)).toEqual(expect.arrayContaining([byHash('targets')]));
  expect(client.sizes().metadataBytes).toBe(0);
});

test('a request made ahead that the answer did not need holds no budget once the load settles', async () => {
  const files = withTargetsByName();
  let late!: () => void;
  const lateGate = new Promise<void>((r) => (late = r));
  const inner = serving(files).fetcher;
  const fetcher: MetadataFetcher = {
    async fetch(file, maxBytes) {
      if (file === 'targets/releases') await lateGate; // never published here: answered after all
      return inner.fetch(file, maxBytes);
    },
  };
  const client = new TrustClient({ now: () => recorded.now, fetcher: () => fetcher });
  await load(client);
  expect(client.sizes()).toMatchObject({ metadataBytes: 0, loads: 0 });
  late();
  await new Promise((r) => setTimeout(r, 10));
  expect(client.sizes().metadataBytes).toBe(0);
});

test('a policy naming many signers has only the first few asked for ahead', async () => {
  const { asked, fetcher } = serving(withTargetsByName());
  const client = new TrustClient({ now: () => recorded.now, fetcher: () => fetcher });
  const roles = Array.from({ length: 40 }, (_, i) => `targets/signer-${i}`);
  await client.loadRepository({ server: 'https://notary.test', gun, pins: NO_PINS, roles: { all: false, roles }, caBundle: undefined, credentials: undefined, timeoutMs: 5000 });
  const ahead = asked.filter((a) => a.file.startsWith('targets/'));
  expect(ahead.map((a) => a.file)).toEqual(['targets/releases', 'targets/signer-0', 'targets/signer-1', 'targets/signer-2']);
});
