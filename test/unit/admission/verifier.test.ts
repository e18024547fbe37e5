import { CachingVerifier, type CacheObserver } from '../../../src/admission/index.js';
import { parsePolicy } from '../../../src/policy/index.js';
import { parseReference } from '../../../src/reference/index.js';
import { TrustClient, TrustError } from '../../../src/trust/index.js';
import { loadScenario } from '../../support/fixtures.js';
import { RecordedFetcher } from '../../support/recorded-fetcher.js';

const recorded = loadScenario('targets-only');
const trust = parsePolicy({ apiVersion: 'trustgate.dev/v1alpha1', kind: 'ClusterImagePolicy', metadata: { name: 'p' }, spec: { images: ['**'], trust: { server: 'https://notary.test', trustOnFirstUse: true } } }, 't').trust;

class Counts implements CacheObserver {
  hits = 0;
  misses = 0;
  evictions = 0;
  results: string[] = [];
  hit() { this.hits++; }
  miss() { this.misses++; }
  evicted() { this.evictions++; }
  size() {}
  verified(code: string) { this.results.push(code); }
}

function setup(options: { now?: () => number; maxEntries?: number } = {}) {
  const fetcher = new RecordedFetcher(recorded.files);
  let clock = recorded.now;
  const now = options.now ?? (() => clock);
  const client = new TrustClient({ now, fetcher: () => fetcher });
  const counts = new Counts();
  const verifier = new CachingVerifier(client, { maxEntries: options.maxEntries ?? 100, maxBytes: 1 << 20, maxTtlMs: 300_000, negativeTtlMs: 10_000, timeoutMs: 5000, servers: {}, now }, counts);
  return { verifier, fetcher, counts, tick: (ms: number) => (clock += ms) };
}

const ref = (tag: string) => parseReference(`${recorded.scenario.gun}:${tag}`);

describe('CachingVerifier', () => {
  it('a burst of 500 identical lookups makes one round of trust fetches', async () => {
    const { verifier, fetcher, counts } = setup();
    const results = await Promise.all(Array.from({ length: 500 }, () => verifier.verify(ref('1.0'), trust, undefined)));
    expect(new Set(results.map((r) => r.digest))).toEqual(new Set([recorded.scenario.tags['1.0']]));
    expect(fetcher.requests.filter((f) => f === 'timestamp')).toHaveLength(1);
    expect(counts.results).toEqual(['VERIFIED']);
  });

  it('resolves many tags of one repository from one round of trust fetches', async () => {
    const { verifier, fetcher } = setup();
    const tags = ['1.0', ...Array.from({ length: 299 }, (_, i) => `unsigned-${i}`)];
    const results = await Promise.allSettled(tags.map((tag) => verifier.verify(ref(tag), trust, undefined)));
    expect(results[0]).toMatchObject({ status: 'fulfilled', value: { digest: recorded.scenario.tags['1.0'] } });
    expect(results.slice(1).every((r) => r.status === 'rejected' && (r.reason as TrustError).code === 'TAG_NOT_SIGNED')).toBe(true);
    expect(fetcher.requests.filter((f) => f === 'timestamp')).toHaveLength(1);
  });

  it('answers from the cache until the entry expires, then verifies again', async () => {
    const { verifier, fetcher, counts, tick } = setup();
    await verifier.verify(ref('1.0'), trust, undefined);
    await verifier.verify(ref('1.0'), trust, undefined);
    expect(counts).toMatchObject({ hits: 1, misses: 1 });
    tick(301_000);
    await verifier.verify(ref('1.0'), trust, undefined);
    expect(fetcher.requests.filter((f) => f === 'timestamp')).toHaveLength(2);
  });

  it('does not cache "not signed yet" refusals: a tag signed a second later is admitted', async () => {
    const { verifier, counts } = setup();
    await expect(verifier.verify(ref('nope'), trust, undefined)).rejects.toMatchObject({ code: 'TAG_NOT_SIGNED' });
    await expect(verifier.verify(ref('nope'), trust, undefined)).rejects.toMatchObject({ code: 'TAG_NOT_SIGNED' });
    expect(counts.results).toEqual(['TAG_NOT_SIGNED', 'TAG_NOT_SIGNED']);
  });

  it('caches other refusals briefly (a broken or unreachable trust server is not hammered)', async () => {
    let clock = recorded.now + 15 * 86_400_000; // past the timestamp's expiry
    const { verifier, counts } = setup({ now: () => clock });
    await expect(verifier.verify(ref('1.0'), trust, undefined)).rejects.toMatchObject({ code: 'EXPIRED' });
    await expect(verifier.verify(ref('1.0'), trust, undefined)).rejects.toMatchObject({ code: 'EXPIRED' });
    expect(counts.results).toEqual(['EXPIRED']);
    clock += 11_000;
    await expect(verifier.verify(ref('1.0'), trust, undefined)).rejects.toMatchObject({ code: 'EXPIRED' });
    expect(counts.results).toEqual(['EXPIRED', 'EXPIRED']);
  });

  it('never caches a TIMEOUT: a lookup starved by someone else\'s flood is tried again at once', async () => {
    const served = new RecordedFetcher(recorded.files);
    let stalled = true;
    const fetcher = { fetch: (file: string, max: number) => (stalled ? Promise.reject(new TrustError('TIMEOUT', 'starved')) : served.fetch(file, max)) };
    const client = new TrustClient({ now: () => recorded.now, fetcher: () => fetcher });
    const counts = new Counts();
    const verifier = new CachingVerifier(client, { maxEntries: 100, maxBytes: 1 << 20, maxTtlMs: 300_000, negativeTtlMs: 10_000, timeoutMs: 5000, servers: {}, now: () => recorded.now }, counts);
    await expect(verifier.verify(ref('1.0'), trust, undefined)).rejects.toMatchObject({ code: 'TIMEOUT' });
    stalled = false;
    await expect(verifier.verify(ref('1.0'), trust, undefined)).resolves.toMatchObject({ digest: recorded.scenario.tags['1.0'] });
    expect(counts.results).toEqual(['TIMEOUT', 'VERIFIED']);
  });

  it('never serves an answer past the metadata expiry, whatever the configured TTL', async () => {
    // The server timestamp expires 14 days after recording; one day before that, the TTL
    // is capped by the metadata, and past it the cached answer is gone and the refusal is new.
    const start = recorded.now + 14 * 86_400_000 - 120_000;
    let clock = start;
    const { verifier, counts } = setup({ now: () => clock });
    await verifier.verify(ref('1.0'), trust, undefined);
    clock = start + 200_000;
    await expect(verifier.verify(ref('1.0'), trust, undefined)).rejects.toMatchObject({ code: 'EXPIRED' });
    expect(counts.hits).toBe(0);
  });

  it('keys by everything that decides the answer (signers, pins, credentials)', async () => {
    const { verifier, counts } = setup();
    await verifier.verify(ref('1.0'), trust, undefined);
    await expect(verifier.verify(ref('1.0'), { ...trust, signers: [{ role: 'targets/releases', keys: undefined }] }, undefined)).rejects.toMatchObject({ code: 'SIGNER_MISSING' });
    await verifier.verify(ref('1.0'), trust, { username: 'a', password: 'b' });
    expect(counts).toMatchObject({ hits: 0, misses: 3 });
  });

  it('evicts beyond its size and counts it', async () => {
    const { verifier, counts } = setup({ maxEntries: 1 });
    await verifier.verify(ref('1.0'), trust, undefined);
    await verifier.verify(ref('latest'), trust, undefined);
    expect(counts.evictions).toBe(1);
  });

  it('peek answers only what verify would answer from the cache, and starts nothing', async () => {
    let clock = recorded.now;
    const { verifier, fetcher, counts } = setup({ now: () => clock });
    expect(verifier.peek(ref('1.0'), trust, undefined)).toBeUndefined();
    expect(fetcher.requests).toEqual([]);
    const verified = await verifier.verify(ref('1.0'), trust, undefined);
    expect(verifier.peek(ref('1.0'), trust, undefined)).toEqual(verified);
    expect(counts).toMatchObject({ hits: 1, misses: 1 });
    // Keyed like verify: other credentials are another entry.
    expect(verifier.peek(ref('1.0'), trust, { username: 'a', password: 'b' })).toBeUndefined();
    // "Not signed yet" is never cached, so never peeked: the next review verifies again.
    await expect(verifier.verify(ref('nope'), trust, undefined)).rejects.toMatchObject({ code: 'TAG_NOT_SIGNED' });
    expect(verifier.peek(ref('nope'), trust, undefined)).toBeUndefined();
    // Past the entry's TTL there is nothing to peek.
    clock += 301_000;
    expect(verifier.peek(ref('1.0'), trust, undefined)).toBeUndefined();
  });

  it('peek gives a cached refusal as the TrustError verify would throw', async () => {
    const clock = recorded.now + 15 * 86_400_000; // past the timestamp's expiry
    const { verifier } = setup({ now: () => clock });
    await expect(verifier.verify(ref('1.0'), trust, undefined)).rejects.toMatchObject({ code: 'EXPIRED' });
    expect(verifier.peek(ref('1.0'), trust, undefined)).toMatchObject({ code: 'EXPIRED' });
  });
});
