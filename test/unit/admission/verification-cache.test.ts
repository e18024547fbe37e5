// The verification cache is kind-agnostic: these tests drive it through the CachingVerifier with
// a second kind of trust (test/support/fake-verifier.ts) beside Notary, as cosign will plug in.
import { CachingVerifier, type CacheObserver } from '../../../src/admission/index.js';
import { parseReference } from '../../../src/reference/index.js';
import { TrustClient, TrustError, TrustKind, type KindVerifier } from '../../../src/trust/index.js';
import { FakeKindVerifier, fakeSpec, type FakeAnswer } from '../../support/fake-verifier.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const T0 = 1_800_000_000_000;

class Counts implements CacheObserver {
  hits = 0;
  misses = 0;
  evictions = 0;
  results: string[] = [];
  kinds: (string | undefined)[] = [];
  hit() { this.hits++; }
  miss() { this.misses++; }
  evicted() { this.evictions++; }
  size() {}
  verified(code: string, kind?: string) {
    this.results.push(code);
    this.kinds.push(kind);
  }
}

function setup(script: Record<string, FakeAnswer>, options: { delayMs?: number; maxEntries?: number; maxTtlMs?: number; timeoutMs?: number } = {}) {
  let clock = T0;
  const fake = new FakeKindVerifier(script, options.delayMs ?? 0);
  const counts = new Counts();
  const verifier = new CachingVerifier(
    [fake],
    { maxEntries: options.maxEntries ?? 100, maxBytes: 1 << 20, maxTtlMs: options.maxTtlMs ?? 300_000, negativeTtlMs: 10_000, timeoutMs: options.timeoutMs ?? 5000, servers: {}, now: () => clock },
    counts,
  );
  return { verifier, fake, counts, tick: (ms: number) => (clock += ms) };
}

const ref = (text: string) => parseReference(`registry.example.com/team/${text}`);
const APP = 'registry.example.com/team/app:1.0';

describe('the verification cache, for any kind of trust', () => {
  it('shares one verification among identical concurrent lookups of a namespace, not across namespaces', async () => {
    const { verifier, fake, counts } = setup({ [APP]: D1 }, { delayMs: 20 });
    const same = await Promise.all(Array.from({ length: 50 }, () => verifier.verify(ref('app:1.0'), fakeSpec(), undefined, 'team-a')));
    expect(new Set(same.map((v) => v.digest))).toEqual(new Set([D1]));
    expect(fake.started).toHaveLength(1);
    expect(counts.results).toEqual(['VERIFIED']);
    expect(counts.kinds).toEqual([TrustKind.COSIGN]);
    // Cached now: another namespace is answered from the cache, without a verification.
    await verifier.verify(ref('app:1.0'), fakeSpec(), undefined, 'team-b');
    expect(fake.started).toHaveLength(1);
  });

  it('keeps an answer until its evidence expires, and never past maxTtl', async () => {
    const { verifier, fake, tick } = setup({ [APP]: { digest: D1, expires: T0 + 60_000 }, 'registry.example.com/team/far:1': D2 }, { maxTtlMs: 300_000 });
    await verifier.verify(ref('app:1.0'), fakeSpec(), undefined);
    tick(59_000);
    expect(verifier.peek(ref('app:1.0'), fakeSpec(), undefined)).toMatchObject({ digest: D1, kind: TrustKind.COSIGN });
    tick(2000);
    expect(verifier.peek(ref('app:1.0'), fakeSpec(), undefined)).toBeUndefined();
    await verifier.verify(ref('far:1'), fakeSpec(), undefined);
    tick(299_000);
    expect(verifier.peek(ref('far:1'), fakeSpec(), undefined)).toMatchObject({ digest: D2 });
    tick(2000);
    expect(verifier.peek(ref('far:1'), fakeSpec(), undefined)).toBeUndefined();
    expect(fake.started).toHaveLength(2);
  });

  it('keeps cacheable refusals for the negative TTL, never those publishing cures or transient ones', async () => {
    const { verifier, fake, tick } = setup({ 'registry.example.com/team/bad:1': 'SIGNATURE_INVALID', 'registry.example.com/team/slow:1': 'TIMEOUT' });
    await expect(verifier.verify(ref('bad:1'), fakeSpec(), undefined)).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    expect(verifier.peek(ref('bad:1'), fakeSpec(), undefined)).toBeInstanceOf(TrustError);
    tick(10_001);
    expect(verifier.peek(ref('bad:1'), fakeSpec(), undefined)).toBeUndefined();
    // NO_SIGNATURES: the publisher signs next; TIMEOUT: this process may have been the slow one.
    for (const image of ['unsigned:1', 'slow:1']) {
      await expect(verifier.verify(ref(image), fakeSpec(), undefined)).rejects.toBeInstanceOf(TrustError);
      expect(verifier.peek(ref(image), fakeSpec(), undefined)).toBeUndefined();
    }
    fake.script['registry.example.com/team/unsigned:1'] = D1;
    await expect(verifier.verify(ref('unsigned:1'), fakeSpec(), undefined)).resolves.toMatchObject({ digest: D1 });
  });

  it('peek never starts a verification, and counts a hit only when it answers', async () => {
    const { verifier, fake, counts } = setup({ [APP]: D1 });
    expect(verifier.peek(ref('app:1.0'), fakeSpec(), undefined)).toBeUndefined();
    expect(fake.started).toEqual([]);
    expect(counts.hits).toBe(0);
    await verifier.verify(ref('app:1.0'), fakeSpec(), undefined);
    expect(verifier.peek(ref('app:1.0'), fakeSpec(), undefined)).toMatchObject({ digest: D1 });
    expect(counts).toMatchObject({ hits: 1, misses: 1 });
  });

  it('keys answers by the spec, the credentials and the reference', async () => {
    const { verifier, fake } = setup({ [APP]: D1 });
    await verifier.verify(ref('app:1.0'), fakeSpec('k1'), undefined);
    expect(verifier.peek(ref('app:1.0'), fakeSpec('k2'), undefined)).toBeUndefined();
    expect(verifier.peek(ref('app:1.0'), fakeSpec('k1'), { username: 'u', password: 'p' })).toBeUndefined();
    expect(verifier.peek(parseReference('registry.example.com/team/app:1.0@' + D1), fakeSpec('k1'), undefined)).toBeUndefined();
    // The same spec key from another object is the same answer.
    expect(verifier.peek(ref('app:1.0'), fakeSpec('k1'), undefined)).toMatchObject({ digest: D1 });
    expect(fake.started).toHaveLength(1);
  });

  it('holds at most maxEntries answers, evicting the least recently used', async () => {
    const script: Record<string, string> = {};
    for (let i = 0; i < 5; i++) script[`registry.example.com/team/app${i}:1`] = D1;
    const { verifier, counts } = setup(script, { maxEntries: 3 });
    for (let i = 0; i < 5; i++) await verifier.verify(ref(`app${i}:1`), fakeSpec(), undefined);
    expect(counts.evictions).toBe(2);
    expect(verifier.peek(ref('app0:1'), fakeSpec(), undefined)).toBeUndefined();
    expect(verifier.peek(ref('app4:1'), fakeSpec(), undefined)).toMatchObject({ digest: D1 });
  });

  it('stops a verification when every review waiting for it gives up, and caches nothing', async () => {
    const { verifier, fake } = setup({ [APP]: D1 }, { delayMs: 10_000 });
    const first = new AbortController();
    const second = new AbortController();
    const a = verifier.verify(ref('app:1.0'), fakeSpec(), undefined, 'ns', first.signal);
    const b = verifier.verify(ref('app:1.0'), fakeSpec(), undefined, 'ns', second.signal);
    first.abort();
    await expect(a).rejects.toMatchObject({ code: 'TIMEOUT' });
    // The other review still waits: the verification goes on.
    await new Promise((r) => setTimeout(r, 5));
    expect(fake.aborted).toBe(0);
    second.abort();
    await expect(b).rejects.toMatchObject({ code: 'TIMEOUT' });
    await new Promise((r) => setTimeout(r, 5));
    expect(fake.aborted).toBe(1);
    expect(verifier.peek(ref('app:1.0'), fakeSpec(), undefined)).toBeUndefined();
  });

  it('starts afresh for a review that comes after every earlier one gave up, never joining the stopped verification', async () => {
    const { verifier, fake } = setup({ [APP]: D1 }, { delayMs: 30 });
    const gaveUp = new AbortController();
    const first = verifier.verify(ref('app:1.0'), fakeSpec(), undefined, 'ns', gaveUp.signal);
    gaveUp.abort();
    await expect(first).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(verifier.verify(ref('app:1.0'), fakeSpec(), undefined, 'ns', new AbortController().signal)).resolves.toMatchObject({ digest: D1 });
    expect(fake.started).toHaveLength(2);
    expect(fake.aborted).toBe(1);
  });

  it('gives each kind its verifier, and refuses a kind it has none for', async () => {
    const fake = new FakeKindVerifier({ [APP]: D1 });
    const verifier = new CachingVerifier([fake], { maxEntries: 10, maxBytes: 1 << 20, maxTtlMs: 1000, negativeTtlMs: 1000, timeoutMs: 1000, servers: {}, now: Date.now }, new Counts());
    await expect(verifier.verify(ref('app:1.0'), fakeSpec(), undefined)).resolves.toMatchObject({ kind: TrustKind.COSIGN });
    await expect(verifier.verify(ref('app:1.0'), { kind: TrustKind.NOTATION }, undefined)).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringMatching(/no verifier for trust kind "notation"/) });
    expect(() => new CachingVerifier([fake, fake] as KindVerifier<never>[], { maxEntries: 10, maxBytes: 1 << 20, maxTtlMs: 1000, negativeTtlMs: 1000, timeoutMs: 1000, servers: {}, now: Date.now }, new Counts())).toThrow(/two verifiers for trust kind cosign/);
  });

  it('stands for Notary alone when made from a TrustClient', async () => {
    const notaryOnly = new CachingVerifier(new TrustClient(), { maxEntries: 10, maxBytes: 1 << 20, maxTtlMs: 1000, negativeTtlMs: 1000, timeoutMs: 1000, servers: {}, now: Date.now }, new Counts());
    // A TrustClient alone is Notary only: the second kind is refused, not answered by Notary.
    await expect(notaryOnly.verify(ref('app:1.0'), fakeSpec(), undefined)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });
});
