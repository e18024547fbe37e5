// Notary's loads on the one process-wide budget of metadata bytes (src/shared/metadata-budget.ts).
import type { MetadataFetcher } from './fetcher.js';
import { abortReason, MetadataBudget } from '../shared/metadata-budget.js';
import { TrustError } from './errors.js';

export { DEFAULT_METADATA_BUDGET, MetadataBudget, type MetadataBudgetBounds } from '../shared/metadata-budget.js';

/**
 * Root and timestamp (and `<n>.root`): nothing declares their length, so they are read no
 * further than a small document first, and only a larger one waits for its cap.
 */
const UNDECLARED = /^(?:root|timestamp|\d+\.root)$/;

/**
 * The fetcher of one load, holding budget for every document it read until `release` (when the
 * load settles: the load keeps the documents until then). A declared document holds its declared
 * length before it is downloaded; an undeclared one a small document's share, then its cap.
 */
export class BudgetedFetcher implements MetadataFetcher {
  private holding: number[] = [];
  private released = false;

  constructor(
    private readonly inner: MetadataFetcher,
    private readonly budget: MetadataBudget,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async fetch(file: string, maxBytes: number): Promise<Buffer | undefined> {
    // Past the load's deadline, or once nobody waits for it, no further document is asked for
    // (whatever the fetcher: the network's requests also end at the signal, recorded ones do not).
    if (this.signal?.aborted) throw abortReason(this.signal);
    const small = this.budget.bounds.smallDocumentBytes;
    if (UNDECLARED.test(file) && maxBytes > small) {
      await this.hold(small);
      try {
        return await this.inner.fetch(file, small);
      } catch (error) {
        if (!(error instanceof TrustError && error.code === 'TOO_LARGE')) throw error;
        // The partial download is dropped; its cap is held instead.
        this.budget.release(this.holding.pop()!);
      }
    }
    await this.hold(maxBytes);
    return this.inner.fetch(file, maxBytes);
  }

  /** Gives back everything this load held; a request still waiting for budget gets none. */
  release(): void {
    this.released = true;
    for (const bytes of this.holding) this.budget.release(bytes);
    this.holding = [];
  }

  private async hold(bytes: number): Promise<void> {
    await this.budget.acquire(bytes, this.signal);
    if (this.released) {
      // A request made ahead that outlived its load (src/trust/update.ts): nothing may stay held.
      this.budget.release(bytes);
      throw new TrustError('TIMEOUT', 'the load this document was for has settled');
    }
    this.holding.push(bytes);
  }
}
