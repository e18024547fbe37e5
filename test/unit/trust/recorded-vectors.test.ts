// Verification of metadata exactly as a real notary-server served it (test/fixtures/notary).
import { inspectRepository, TrustClient, NO_PINS, parsePins } from '../../../src/trust/index.js';
import { loadScenario as load, type RecordedScenario } from '../../support/fixtures.js';
import { RecordedFetcher } from '../../support/recorded-fetcher.js';
import { codeOf, verifyFiles } from '../../support/verify-helpers.js';

/** Everything verified, every delegation included, as `trustgate inspect` loads it. */
function loadAll({ scenario, files, now }: RecordedScenario) {
  const client = new TrustClient({ now: () => now });
  return client.loadRepository({ server: 'https://notary.test', gun: scenario.gun, pins: NO_PINS, roles: { all: true }, caBundle: undefined, credentials: undefined, timeoutMs: 5000, fetcher: new RecordedFetcher(files) });
}

describe('targets-only (signed with the repository key)', () => {
  const recorded = load('targets-only');
  const { scenario, files, now } = recorded;

  it.each(Object.entries(scenario.tags))('tag %s resolves to the signed digest', async (tag, digest) => {
    const v = await verifyFiles(files, `${scenario.gun}:${tag}`, { now });
    expect(v).toMatchObject({ digest, signedBy: ['targets'], reference: `${scenario.gun}:${tag}@${digest}` });
    expect(scenario.keys.root).toContain(v.rootKeyId);
  });

  it('reports the key IDs notary reports', async () => {
    const report = inspectRepository(await loadAll(recorded));
    expect(report.repositoryKeyIds).toEqual(scenario.keys.targets);
    expect(scenario.keys.root).toEqual(expect.arrayContaining([...report.rootKeyIds]));
  });

  it('refuses once the server timestamp has expired (14 days)', async () => {
    expect(await codeOf(verifyFiles(files, `${scenario.gun}:1.0`, { now: now + 15 * 86_400_000 }))).toBe('EXPIRED');
  });

  it('pins the root by the canonical ID notary shows', async () => {
    const pins = parsePins(scenario.keys.root!);
    await expect(verifyFiles(files, `${scenario.gun}:1.0`, { now, pins })).resolves.toMatchObject({ trustOnFirstUse: false });
  });
});

describe('releases (docker trust signer add)', () => {
  const recorded = load('releases');
  const { scenario, files, now } = recorded;
  const tags = scenario.tags as Record<'1.0' | 'admin-only' | 'alice-only', string>;

  it('resolves 1.0 from targets/releases', async () => {
    expect(await verifyFiles(files, `${scenario.gun}:1.0`, { now })).toMatchObject({ digest: tags['1.0'], signedBy: ['targets/releases'] });
  });

  it('falls back to targets for admin-only', async () => {
    expect(await verifyFiles(files, `${scenario.gun}:admin-only`, { now })).toMatchObject({ digest: tags['admin-only'], signedBy: ['targets'] });
  });

  it('does not trust a tag only targets/alice signed, unless alice is required', async () => {
    expect(await codeOf(verifyFiles(files, `${scenario.gun}:alice-only`, { now }))).toBe('TAG_NOT_SIGNED');
    const signers = [{ role: 'targets/alice', keys: undefined }];
    expect(await verifyFiles(files, `${scenario.gun}:alice-only`, { now, signers })).toMatchObject({ digest: tags['alice-only'] });
  });

  it('requires every named signer, optionally by the canonical key ID notary shows', async () => {
    const both = [
      { role: 'targets/releases', keys: parsePins(scenario.keys['targets/releases']!) },
      { role: 'targets/alice', keys: parsePins(scenario.keys['targets/alice']!) },
    ];
    expect(await verifyFiles(files, `${scenario.gun}:1.0`, { now, signers: both })).toMatchObject({ signedBy: ['targets/releases', 'targets/alice'] });
    expect(await codeOf(verifyFiles(files, `${scenario.gun}:admin-only`, { now, signers: both }))).toBe('SIGNER_MISSING');
    const wrongKey = [{ role: 'targets/releases', keys: parsePins(scenario.keys['targets/alice']!) }];
    expect(await codeOf(verifyFiles(files, `${scenario.gun}:1.0`, { now, signers: wrongKey }))).toBe('SIGNER_KEY_MISMATCH');
  });

  it('inspect shows delegations with the canonical key IDs of notary delegation list', async () => {
    const report = inspectRepository(await loadAll(recorded));
    expect(report.delegations.map((d) => [d.role, d.keyIds])).toEqual([
      ['targets/alice', scenario.keys['targets/alice']],
      ['targets/releases', scenario.keys['targets/releases']],
    ]);
    expect(report.signedTags.find((t) => t.tag === '1.0')?.signers).toEqual(expect.arrayContaining(['targets/releases', 'targets/alice']));
  });
});

describe('rotated (snapshot to the server, then a new root key)', () => {
  const before = load('rotated-before');
  const after = load('rotated');

  it('trusts the newest root on first use', async () => {
    const v = await verifyFiles(after.files, `${after.scenario.gun}:2.0`, { now: after.now });
    expect(v.digest).toBe(after.scenario.tags['2.0']);
  });

  it('a process that trusted root v1 walks 2.root and 3.root to the rotated keys', async () => {
    const client = new TrustClient({ now: () => after.now });
    const fetcher = new RecordedFetcher(before.files);
    await verifyFiles(new Map(), `${before.scenario.gun}:1.0`, { client, fetcher });
    fetcher.serve(after.files);
    fetcher.requests.length = 0;
    const v = await verifyFiles(new Map(), `${after.scenario.gun}:2.0`, { client, fetcher });
    expect(v.digest).toBe(after.scenario.tags['2.0']);
    expect(fetcher.requests).toEqual(expect.arrayContaining(['root', '2.root']));
  });

  it('a root pin on the old key does not survive a cold start after rotation (as notary)', async () => {
    const oldRoot = before.scenario.keys.root!;
    const newOnly = after.scenario.keys.root!.filter((id) => !oldRoot.includes(id));
    expect(newOnly.length).toBe(1);
    expect(await codeOf(verifyFiles(after.files, `${after.scenario.gun}:2.0`, { now: after.now, pins: parsePins(oldRoot) }))).toBe('ROOT_KEY_MISMATCH');
    await expect(verifyFiles(after.files, `${after.scenario.gun}:2.0`, { now: after.now, pins: parsePins(newOnly) })).resolves.toMatchObject({ trustOnFirstUse: false });
  });
});
