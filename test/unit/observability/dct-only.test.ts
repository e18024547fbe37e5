// trustgate_images_dct_only: the repositories that would break the day the Notary authority is
// dropped. Bounded in entries and in time, since repository names are the pod author's to choose.
import { DctOnlyImages, Metrics } from '../../../src/observability/index.js';
import { TrustKind } from '../../../src/trust/index.js';

const NOTARY = [TrustKind.NOTARY];
const BOTH = [TrustKind.NOTARY, TrustKind.COSIGN];

describe('DctOnlyImages', () => {
  it('holds repositories Notary alone verified, until another kind verifies them', () => {
    const set = new DctOnlyImages();
    set.record('registry.example.com/a', NOTARY);
    set.record('registry.example.com/b', NOTARY);
    set.record('registry.example.com/c', [TrustKind.COSIGN]);
    set.record('registry.example.com/d', []);
    expect(set.count()).toBe(2);
    set.record('registry.example.com/a', BOTH);
    expect(set.list()).toEqual(['registry.example.com/b']);
  });

  it('forgets a repository not admitted within the window', () => {
    let now = 1_000_000;
    const set = new DctOnlyImages({ maxEntries: 100, windowMs: 3_600_000 }, () => now);
    set.record('registry.example.com/a', NOTARY);
    now += 3_000_000;
    set.record('registry.example.com/b', NOTARY);
    now += 700_000;
    expect(set.list()).toEqual(['registry.example.com/b']);
  });

  it('holds at most maxEntries, the least recently admitted leaving first', () => {
    const set = new DctOnlyImages({ maxEntries: 3, windowMs: 3_600_000 });
    for (let i = 0; i < 10_000; i++) set.record(`registry.example.com/flood-${i}`, NOTARY);
    expect(set.count()).toBe(3);
    expect(set.list()).toEqual(['registry.example.com/flood-9999', 'registry.example.com/flood-9998', 'registry.example.com/flood-9997']);
  });
});

describe('Metrics.verifiedKinds', () => {
  it('counts admitted images by kind and feeds the DCT-only gauge', async () => {
    const metrics = new Metrics();
    metrics.verifiedKinds('validate', [
      { kinds: NOTARY, repository: 'registry.example.com/a' },
      { kinds: BOTH, repository: 'registry.example.com/b' },
      { kinds: [], repository: 'registry.example.com/c' },
    ]);
    const text = await metrics.text();
    expect(text).toContain('trustgate_verified_images_total{endpoint="validate",kind="notary"} 2');
    expect(text).toContain('trustgate_verified_images_total{endpoint="validate",kind="cosign"} 1');
    expect(text).toMatch(/^trustgate_images_dct_only 1$/m);
    expect(metrics.dctOnlyRepositories()).toEqual(['registry.example.com/a']);
  });
});
