// Through outages (issue 12, docs/adr/0014): when refreshing an answer fails because its server
// could not be asked (TIMEOUT, UNREACHABLE, SERVER_ERROR), the last verified answer stands in
// until its evidence expires (Notary), or staleFor past its refresh (cosign, Notation); never
// for a refusal of signatures, never for an image not verified before.
import { CachingVerifier, type CacheObserver } from '../../../src/admission/index.js';
import { parseReference } from '../../../src/reference/index.js';
import { TrustError, TrustKind } from '../../../src/trust/index.js';
import { FakeKindVerifier, fakeSpec } from '../../support/fake-verifier.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const T0 = 1_800_000_000_000;
const APP = 'registry.example.com/team/app:1.0';
const DAY = 86_400_000;

class Counts implements CacheObserver {
  stales: string[] = [];
  hit() {}
  miss() {}
  evicted() {}
  size() {}
  verified() {}
  stale(kind: string) {
    this.stales.push(kind);
  }
}

function setup(kind: TrustKind, expires: number, options: { staleForMs?: number; maxEntries?: number; maxTtlMs?: number } = {}) {
  let clock = T0;
  const fake = new FakeKindVerifier({ [APP]: { digest: D1, expires } }, 0, kind);
  const counts = new Counts();
  const verifier = new CachingVerifier(
    [fake],
    { maxEntries: options.maxEntries ?? 100, maxBytes: 1 << 20, maxTtlMs: options.maxTtlMs ?? 300_000, negativeTtlMs: 10_000, timeoutMs: 5000, servers: {}, now: () => clock, staleForMs: options.staleForMs },
    counts,
  );
  const spec = fakeSpec('k1', kind);
  const verify = (image = 'app:1.0') => verifier.verify(parseReference(`registry.example.com/team/${image}`), spec, undefined, 'team');
  const peek = (image = 'app:1.0') => verifier.peek(parseReference(`registry.example.com/team/${image}`), spec, undefined);
  return { verify, peek, fake, counts, tick: (ms: number) => (clock += ms) };
}

describe('stale answers through outages', () => {
  it.each(['TIMEOUT', 'UNREACHABLE', 'SERVER_ERROR'])('a Notary answer stands in when refreshing fails with %s, until its metadata expires, then is refused', async (code) => {
    const { verify, peek, fake, counts, tick } = setup(TrustKind.NOTARY, T0 + 3 * DAY);
    await expect(verify()).resolves.toMatchObject({ digest: D1 });
    expect((await verify()).stale).toBeUndefined();
    fake.script[APP] = code;
    tick(301_000); // past maxTtl: refreshed, and the server is down
    const stale = await verify();
    expect(stale).toMatchObject({ digest: D1, stale: { code, until: T0 + 3 * DAY } });
    expect(fake.started).toHaveLength(2);
    expect(counts.stales).toEqual([TrustKind.NOTARY]);
    // The next reviews within negativeTtl get it without asking the server again, warm.
    expect(peek()).toBe(stale);
    tick(10_001);
    expect(peek()).toBeUndefined();
    await expect(verify()).resolves.toMatchObject({ digest: D1, stale: { code } });
    expect(fake.started).toHaveLength(3);
    // Up to the expiry of the metadata behind it, and not a millisecond past it.
    tick(3 * DAY - 301_000 - 10_001 - 1 - 1000);
    await expect(verify()).resolves.toMatchObject({ digest: D1, stale: { code } });
    tick(1001);
    await expect(verify()).rejects.toMatchObject({ code });
    expect((peek() as { digest?: string } | undefined)?.digest).toBeUndefined();
  });

  it.each([TrustKind.NOTARY, TrustKind.COSIGN])('cache.maxTtlSeconds 0 keeps no answer, so no %s answer bridges an outage, however recent', async (kind) => {
    const { verify, fake } = setup(kind, T0 + 3 * DAY, { maxTtlMs: 0, staleForMs: DAY });
    await expect(verify()).resolves.toMatchObject({ digest: D1 });
    fake.script[APP] = 'UNREACHABLE';
    await expect(verify()).rejects.toMatchObject({ code: 'UNREACHABLE' });
    expect(fake.started).toHaveLength(2);
  });

  it('recovers when the server answers again: a fresh answer, no warning', async () => {
    const { verify, fake, tick } = setup(TrustKind.NOTARY, T0 + 3 * DAY);
    await verify();
    fake.script[APP] = 'UNREACHABLE';
    tick(301_000);
    await expect(verify()).resolves.toMatchObject({ stale: { code: 'UNREACHABLE' } });
    fake.script[APP] = { digest: D2, expires: T0 + 4 * DAY };
    tick(10_001);
    const fresh = await verify();
    expect(fresh).toMatchObject({ digest: D2 });
    expect(fresh.stale).toBeUndefined();
  });

  it.each(['HASH_MISMATCH', 'THRESHOLD_NOT_MET', 'EXPIRED', 'ROOT_KEY_MISMATCH', 'SIGNER_KEY_MISMATCH', 'TAG_NOT_SIGNED', 'ROLLBACK'])('never bridges a refusal of signatures or metadata (%s), and forgets the answer it refutes', async (code) => {
    const { verify, peek, fake, counts, tick } = setup(TrustKind.NOTARY, T0 + 3 * DAY);
    await verify();
    fake.script[APP] = code;
    tick(301_000);
    await expect(verify()).rejects.toMatchObject({ code });
    // An outage now does not bring the refuted answer back.
    fake.script[APP] = 'UNREACHABLE';
    tick(10_001);
    expect(peek()).toBeUndefined();
    await expect(verify()).rejects.toMatchObject({ code: 'UNREACHABLE' });
    expect(counts.stales).toEqual([]);
  });

  it('refuses an image never verified before, naming the outage', async () => {
    const { verify, fake, counts } = setup(TrustKind.NOTARY, T0 + 3 * DAY);
    fake.script['registry.example.com/team/new:1'] = 'TIMEOUT';
    await expect(verify('new:1')).rejects.toMatchObject({ code: 'TIMEOUT' });
    // Nor does another image's (or tag's) answer stand in.
    await verify();
    fake.script['registry.example.com/team/app:2.0'] = 'UNREACHABLE';
    await expect(verify('app:2.0')).rejects.toMatchObject({ code: 'UNREACHABLE' });
    expect(counts.stales).toEqual([]);
  });

  it.each([TrustKind.COSIGN, TrustKind.NOTATION])('bounds a %s answer (no freshness metadata) by staleFor past its refresh', async (kind) => {
    const { verify, fake, tick } = setup(kind, Infinity, { staleForMs: 120_000 });
    await verify();
    fake.script[APP] = 'SERVER_ERROR';
    tick(300_000); // refreshed at maxTtl
    await expect(verify()).resolves.toMatchObject({ digest: D1, stale: { code: 'SERVER_ERROR', until: T0 + 420_000 } });
    tick(119_999);
    await expect(verify()).resolves.toMatchObject({ stale: { code: 'SERVER_ERROR' } });
    tick(1);
    await expect(verify()).rejects.toMatchObject({ code: 'SERVER_ERROR' });
  });

  it('never bridges past a signature\'s own expiry, nor with staleFor 0', async () => {
    const soon = setup(TrustKind.NOTATION, T0 + 350_000, { staleForMs: 120_000 });
    await soon.verify();
    soon.fake.script[APP] = 'TIMEOUT';
    soon.tick(300_000);
    await expect(soon.verify()).resolves.toMatchObject({ stale: { until: T0 + 350_000 } });
    soon.tick(50_000);
    await expect(soon.verify()).rejects.toMatchObject({ code: 'TIMEOUT' });

    const off = setup(TrustKind.COSIGN, Infinity, { staleForMs: 0 });
    await off.verify();
    off.fake.script[APP] = 'TIMEOUT';
    off.tick(300_000);
    await expect(off.verify()).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('defaults to five minutes for kinds without freshness metadata', async () => {
    const { verify, fake, tick } = setup(TrustKind.COSIGN, Infinity);
    await verify();
    fake.script[APP] = 'UNREACHABLE';
    tick(300_000);
    await expect(verify()).resolves.toMatchObject({ stale: { until: T0 + 600_000 } });
  });

  it('keeps stale answers within maxEntries: a stale entry is an entry', async () => {
    const { verify, fake, tick } = setup(TrustKind.NOTARY, T0 + 3 * DAY, { maxEntries: 2 });
    for (const tag of ['a', 'b', 'c']) {
      fake.script[`registry.example.com/team/app:${tag}`] = { digest: D1, expires: T0 + 3 * DAY };
      await verify(`app:${tag}`);
    }
    for (const tag of ['a', 'b', 'c']) fake.script[`registry.example.com/team/app:${tag}`] = 'UNREACHABLE';
    tick(301_000);
    await expect(verify('app:a')).rejects.toMatchObject({ code: 'UNREACHABLE' }); // evicted by c
    await expect(verify('app:c')).resolves.toMatchObject({ stale: { code: 'UNREACHABLE' } });
  });

  it('a refusal that is not an outage is thrown as it is', async () => {
    const { verify, fake } = setup(TrustKind.NOTARY, T0 + 3 * DAY);
    fake.script[APP] = 'NO_TRUST_DATA';
    await expect(verify()).rejects.toBeInstanceOf(TrustError);
  });
});
