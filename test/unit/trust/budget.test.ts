import { BudgetedFetcher, MetadataBudget } from '../../../src/trust/budget.js';
import { TrustError } from '../../../src/trust/errors.js';
import type { MetadataFetcher } from '../../../src/trust/fetcher.js';

const KiB = 1024;
const bounds = { bytes: 100 * KiB, reservedForSmall: 30 * KiB, smallDocumentBytes: 10 * KiB };

describe('MetadataBudget', () => {
  it('keeps its reserve for small documents while large ones wait', async () => {
    const budget = new MetadataBudget(bounds);
    await budget.acquire(70 * KiB, undefined);
    let large = false;
    const waiting = budget.acquire(20 * KiB, undefined).then(() => (large = true));
    // Three small documents fit in the reserve at once, though a large one is waiting.
    await Promise.all([budget.acquire(10 * KiB, undefined), budget.acquire(10 * KiB, undefined), budget.acquire(10 * KiB, undefined)]);
    expect(budget.sizes()).toEqual({ held: 100 * KiB, waiting: 1 });
    budget.release(70 * KiB);
    await waiting;
    expect(large).toBe(true);
    expect(budget.sizes()).toEqual({ held: 50 * KiB, waiting: 0 });
  });

  it("gives up with the load's TIMEOUT when its deadline passes, and lets the next one in", async () => {
    const budget = new MetadataBudget(bounds);
    await budget.acquire(50 * KiB, undefined);
    const deadline = new AbortController();
    const first = budget.acquire(30 * KiB, deadline.signal);
    // Would fit, but waits behind the first: the largest are not starved by smaller ones.
    const second = budget.acquire(15 * KiB, undefined);
    expect(budget.sizes()).toEqual({ held: 50 * KiB, waiting: 2 });
    deadline.abort(new TrustError('TIMEOUT', 'trust data did not arrive'));
    await expect(first).rejects.toMatchObject({ code: 'TIMEOUT' });
    await second;
    expect(budget.sizes()).toEqual({ held: 65 * KiB, waiting: 0 });
  });
});

describe('BudgetedFetcher', () => {
  it('reads root no further than a small document first, holds its cap only when larger, and gives all back', async () => {
    const budget = new MetadataBudget(bounds);
    const asked: [string, number][] = [];
    const sizes: Record<string, number> = { root: 20 * KiB, timestamp: KiB, 'targets.ab': 20 * KiB };
    const inner: MetadataFetcher = {
      fetch: (file, maxBytes) => {
        asked.push([file, maxBytes]);
        if (sizes[file]! > maxBytes) return Promise.reject(new TrustError('TOO_LARGE', `${file} is larger than ${maxBytes}`));
        return Promise.resolve(Buffer.alloc(sizes[file]!));
      },
    };
    const fetcher = new BudgetedFetcher(inner, budget, undefined);
    await fetcher.fetch('root', 50 * KiB);
    await fetcher.fetch('timestamp', 50 * KiB);
    await fetcher.fetch('targets.ab', 20 * KiB);
    expect(asked).toEqual([['root', 10 * KiB], ['root', 50 * KiB], ['timestamp', 10 * KiB], ['targets.ab', 20 * KiB]]);
    // The small share the first read of root held is given back when root turns out larger.
    expect(budget.sizes().held).toBe(50 * KiB + 10 * KiB + 20 * KiB);
    fetcher.release();
    expect(budget.sizes()).toEqual({ held: 0, waiting: 0 });
  });
});
