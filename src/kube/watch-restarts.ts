// Reconnecting a list+watch that failed, for every informer trustgate runs (policies,
// src/kube/policy-informers.ts; Notation trust stores, src/kube/trust-stores.ts): exponential
// backoff per kind, 1 s doubling to 30 s, reset by a successful list.
import type { Logger } from 'pino';

export class WatchRestarts {
  /** Consecutive failures per kind; a successful list resets it. */
  private readonly failures = new Map<string, number>();
  private stopped = false;

  constructor(
    private readonly logger: Logger,
    /** The log message of a failure, e.g. "policy watch failed; reconnecting". */
    private readonly message: string,
  ) {}

  /** The kind listed: its next failure waits 1 s again. */
  listed(kind: string): void {
    this.failures.delete(kind);
  }

  /** No more restarts, pending ones included. */
  stop(): void {
    this.stopped = true;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Starts `informer` again after the kind's backoff; a failed start backs off further. */
  restart(informer: { start(): Promise<void> }, kind: string, error: unknown): void {
    if (this.stopped) return;
    const attempt = (this.failures.get(kind) ?? 0) + 1;
    this.failures.set(kind, attempt);
    const delay = Math.min(30_000, 1000 * 2 ** (attempt - 1));
    // The error's message only: never an object of the watch.
    this.logger.warn({ kind, err: error instanceof Error ? error.message : 'watch failed', retryInMs: delay }, this.message);
    setTimeout(() => {
      if (this.stopped) return;
      informer.start().catch((e: unknown) => this.restart(informer, kind, e));
    }, delay).unref();
  }
}
