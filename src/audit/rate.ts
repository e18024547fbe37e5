// A token bucket: what the audit may ask of trust servers and of the API server per second.
// The audit is background work; admission must never wait behind it (docs/audit.md).

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()),
};

export class TokenBucket {
  private tokens: number;
  private last: number;
  /** Callers waiting, in order: each takes the next token. */
  private queue: Promise<void> = Promise.resolve();
  private waitingCount = 0;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly clock: Clock = realClock,
  ) {
    if (!(perSecond > 0) || !(burst >= 1)) throw new Error('a token bucket needs a positive rate and a burst of at least 1');
    this.tokens = burst;
    this.last = clock.now();
  }

  /** Callers waiting for a token (metrics, tests). */
  get waiting(): number {
    return this.waitingCount;
  }

  /** Resolves when a token is taken; callers are served in order. */
  take(): Promise<void> {
    this.waitingCount++;
    const turn = this.queue.then(async () => {
      for (;;) {
        this.refill();
        if (this.tokens >= 1) {
          this.tokens -= 1;
          return;
        }
        await this.clock.sleep(Math.ceil(((1 - this.tokens) / this.perSecond) * 1000));
      }
    });
    this.queue = turn.finally(() => this.waitingCount--);
    return this.queue;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
  }
}
