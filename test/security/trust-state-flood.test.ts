// A tenant under a trust-on-first-use policy creates pods naming thousands of repositories it
// controls (issue 12): the trust state must not grow past its cap, must not evict a victim's
// recorded root to make room (that would reset the victim's trust), and must not write toward
// the API server faster than its rate. And a hostile state file is refused, not believed.
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NO_PINS, TrustClient } from '../../src/trust/index.js';
import { FileStateBackend } from '../../src/trust/trust-state-file.js';
import { TrustState, recordName } from '../../src/trust/trust-state.js';
import { FakeTrustBackend } from '../support/fake-trust-backend.js';
import { RecordedFetcher } from '../support/recorded-fetcher.js';
import { buildRepository, digestOf, standardKeys, standardSpec } from '../support/repo-builder.js';
import { codeOf } from '../support/verify-helpers.js';

const SERVER = 'https://notary.test';
const NOW = Date.now();
const VICTIM = 'registry.test/victim/app';

function repo(gun: string) {
  return buildRepository(standardSpec(gun, standardKeys(gun), { '1.0': digestOf(gun) }, NOW)).files;
}

const load = (client: TrustClient, gun: string, files: Map<string, Buffer>) =>
  client.loadRepository({ server: SERVER, gun, pins: NO_PINS, roles: { all: false, roles: [] }, caBundle: undefined, credentials: undefined, timeoutMs: 5000, fetcher: new RecordedFetcher(files) });

it('a flood of repositories fills the store to its cap, then is refused; the victim\'s root stays recorded and enforced', async () => {
  const store = new FakeTrustBackend();
  const state = new TrustState({ backend: store.client(), maxRecords: 20, expireAfterMs: 86_400_000, touchIntervalMs: 3_600_000, writesPerSecond: 1000, writeBurst: 1000, refreshIntervalMs: 60_000 });
  await state.start();
  const client = new TrustClient({ state });
  await load(client, VICTIM, repo(VICTIM));

  // One attacker key set serves every flood repository (building keys is the slow part).
  const attacker = standardKeys('registry.test/attacker/x');
  const codes = new Map<string, number>();
  for (let i = 0; i < 60; i++) {
    const gun = `registry.test/attacker/r${i}`;
    const files = buildRepository(standardSpec(gun, { ...attacker, root: standardKeys(gun).root }, { '1.0': digestOf('x') }, NOW)).files;
    const code = await load(client, gun, files).then(() => 'ok', (error: { code?: string }) => error.code ?? 'error');
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }
  expect(Object.fromEntries(codes)).toEqual({ ok: 19, TRUST_STATE_FULL: 41 });
  expect(store.records.size).toBe(20);
  expect(state.sizes().records).toBe(20);
  // The victim's root was not evicted: an impostor root for it is still refused.
  expect(await codeOf(load(client, VICTIM, repo(VICTIM)))).toBe('ROOT_KEY_MISMATCH');
});

it('a burst of new repositories is refused beyond the write rate, not queued without bound', async () => {
  const store = new FakeTrustBackend();
  const state = new TrustState({ backend: store.client(), maxRecords: 10_000, expireAfterMs: 86_400_000, touchIntervalMs: 3_600_000, writesPerSecond: 0.1, writeBurst: 5, refreshIntervalMs: 60_000 });
  await state.start();
  const client = new TrustClient({ state });
  const attacker = standardKeys('registry.test/attacker/x');
  const results = await Promise.all(Array.from({ length: 30 }, (_, i) => {
    const gun = `registry.test/burst/r${i}`;
    return load(client, gun, buildRepository(standardSpec(gun, { ...attacker, root: standardKeys(gun).root }, { '1.0': digestOf('x') }, NOW)).files).then(() => 'ok', (e: { code?: string }) => e.code);
  }));
  expect(results.filter((r) => r === 'ok')).toHaveLength(5);
  expect(results.filter((r) => r === 'TRUST_STATE_UNAVAILABLE')).toHaveLength(25);
  expect(store.calls.filter((c) => c === 'create' || c === 'replace').length).toBeLessThanOrEqual(5);
  state.stop();
});

describe('a hostile state file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'trust-state-hostile-'));
    chmodSync(dir, 0o700);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const fileWith = (records: Record<string, unknown>) => {
    const path = join(dir, 'state.json');
    writeFileSync(path, JSON.stringify({ format: 'trustgate.dev/trust-state/v1', records }), { mode: 0o600 });
    return new TrustState({ backend: new FileStateBackend({ path, maxBytes: 1 << 20 }), maxRecords: 10, expireAfterMs: 86_400_000, touchIntervalMs: 3_600_000, writesPerSecond: 10, writeBurst: 10, refreshIntervalMs: 60_000 });
  };

  it('a root whose bytes do not match its recorded hash (swapped in by hand) stops the start', async () => {
    const bytes = Buffer.from('{"signed":{"_type":"Root"}}');
    const state = fileWith({ [recordName(SERVER, VICTIM)]: { server: SERVER, gun: VICTIM, root: { bytes: bytes.toString('base64'), version: 1, sha256: createHash('sha256').update('other').digest('hex') }, versions: {}, lastSeen: 0, revision: 1 } });
    await expect(state.start()).rejects.toThrow(/root does not match its sha256/);
  });

  it('a floor lowered to a negative or absurd value, or thousands of roles, stops the start', async () => {
    const roles = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`targets/r${i}`, 1]));
    await expect(fileWith({ [recordName(SERVER, VICTIM)]: { server: SERVER, gun: VICTIM, versions: { timestamp: -1 }, lastSeen: 0, revision: 1 } }).start()).rejects.toThrow(/not a whole number/);
    await expect(fileWith({ [recordName(SERVER, VICTIM)]: { server: SERVER, gun: VICTIM, versions: roles, lastSeen: 0, revision: 1 } }).start()).rejects.toThrow(/more than 128 roles/);
  });
});
