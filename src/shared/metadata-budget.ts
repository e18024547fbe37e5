// One process-wide budget of metadata bytes held by repository loads in flight. Each document
// is bounded on its own (limits.ts), but a load keeps every document it read until it settles,
// and checking one takes several copies of it: 32 repositories of one pod, every role at the
// role limit, peaked at 316 MiB before this budget, over the chart's 256 Mi (issue 9, ADR 0008).
// Every kind draws on it: Notary's loads (src/trust/budget.ts) and the OCI registry client's
// documents (src/registry/oci), so it lives below both.
// Small documents (real Notary repositories are a few KB each) draw on the whole budget, large
// ones only on the part not reserved for small ones: a flood of large documents waits on itself,
// never in front of another tenant's small ones.
import { TrustError } from './trust-error.js';

/** How many metadata bytes loads in flight may hold (docs/architecture.md, bounds table). */
export interface MetadataBudgetBounds {
  /** Bytes of documents held by loads in flight, all of them together. */
  readonly bytes: number;
  /** Of those, kept for documents of at most `smallDocumentBytes`: large ones never take them. */
  readonly reservedForSmall: number;
  /** A document up to this size is small. Root and timestamp are first read no further. */
  readonly smallDocumentBytes: number;
}

// Checking a document takes several copies of it at once: one load of a 5 MiB snapshot and 5 MiB
// targets peaks some 75 MiB above serve's ~86 MiB. 20 MiB of large documents is one load at the
// role limit (3 roles of 5 MiB, timestamp and root at their caps): the attack of
// test/security/metadata-memory-budget.test.ts peaks at ~176 MiB. The reserve holds ~190 small
// documents at their largest (real ones are KBs).
export const DEFAULT_METADATA_BUDGET: MetadataBudgetBounds = Object.freeze({
  bytes: 32 << 20,
  reservedForSmall: 12 << 20,
  smallDocumentBytes: 64 << 10,
});

interface Waiter {
  readonly bytes: number;
  readonly grant: () => void;
}

/** A byte semaphore with a share reserved for small requests; waiters are served in order. */
export class MetadataBudget {
  private held = 0;
  private heldLarge = 0;
  private readonly small: Waiter[] = [];
  private readonly large: Waiter[] = [];

  constructor(readonly bounds: MetadataBudgetBounds) {
    if (bounds.bytes - bounds.reservedForSmall < bounds.smallDocumentBytes) throw new RangeError('metadata budget: no room for large documents');
  }

  /** Bytes held now, and requests waiting (metrics, tests). */
  sizes(): { held: number; waiting: number } {
    return { held: this.held, waiting: this.small.length + this.large.length };
  }

  /**
   * Resolves, holding `bytes`, when they fit; rejects with the signal's reason (the load's
   * TIMEOUT) if it aborts first. The caller gives the bytes back with `release`.
   */
  acquire(bytes: number, signal: AbortSignal | undefined): Promise<void> {
    const isSmall = bytes <= this.bounds.smallDocumentBytes;
    const queue = isSmall ? this.small : this.large;
    if (queue.length === 0 && this.fits(bytes, isSmall)) {
      this.take(bytes, isSmall);
      return Promise.resolve();
    }
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        bytes,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        const at = queue.indexOf(waiter);
        if (at >= 0) queue.splice(at, 1);
        reject(abortReason(signal!));
        // A large request at the head may have held up the ones behind it.
        this.pump();
      };
      queue.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  release(bytes: number): void {
    const isSmall = bytes <= this.bounds.smallDocumentBytes;
    this.held -= bytes;
    if (!isSmall) this.heldLarge -= bytes;
    this.pump();
  }

  private fits(bytes: number, isSmall: boolean): boolean {
    if (this.held + bytes > this.bounds.bytes) return false;
    return isSmall || this.heldLarge + bytes <= this.bounds.bytes - this.bounds.reservedForSmall;
  }

  private take(bytes: number, isSmall: boolean): void {
    this.held += bytes;
    if (!isSmall) this.heldLarge += bytes;
  }

  /** Grants waiters in order, small ones first; a large one that does not fit holds back those behind it. */
  private pump(): void {
    for (const [queue, isSmall] of [[this.small, true], [this.large, false]] as const) {
      while (queue.length > 0 && this.fits(queue[0]!.bytes, isSmall)) {
        const next = queue.shift()!;
        this.take(next.bytes, isSmall);
        next.grant();
      }
    }
  }
}

/** Why a wait for the budget ended: the signal's TrustError, else a TIMEOUT. */
export function abortReason(signal: AbortSignal): TrustError {
  return signal.reason instanceof TrustError ? signal.reason : new TrustError('TIMEOUT', 'deadline passed while waiting for memory to read trust data');
}
