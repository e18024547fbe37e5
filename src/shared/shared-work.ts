// Work that several callers wait for together — one round of fetches for 500 identical lookups —
// each with its own deadline. One caller giving up must not fail the others, and the work must
// not go on once nobody waits: it is aborted when the last caller with a signal has left, and
// never while a caller without one still waits. A leaf module: every layer may use it.

export class SharedWork<T> {
  readonly promise: Promise<T>;
  private readonly controller = new AbortController();
  /** Callers still waiting; a caller without a signal counts for ever. */
  private waiting = 0;
  private unbounded = false;

  constructor(run: (signal: AbortSignal) => Promise<T>) {
    this.promise = run(this.controller.signal);
    // Every caller handles the answer; one that left before it came must not leave it unhandled.
    this.promise.catch(() => undefined);
  }

  /** Every caller left and the work was aborted: a new caller must start the work anew, not join it. */
  get aborted(): boolean {
    return this.controller.signal.aborted;
  }

  /**
   * The work's answer for one caller: rejected with `reason()` as soon as the caller's signal
   * aborts (the work goes on while others wait).
   */
  join(signal: AbortSignal | undefined, reason: () => Error): Promise<T> {
    if (signal === undefined) {
      this.unbounded = true;
      return this.promise;
    }
    if (signal.aborted) {
      this.maybeAbort(reason);
      return Promise.reject(reason());
    }
    this.waiting++;
    return new Promise<T>((resolve, reject) => {
      const leave = () => {
        this.waiting--;
        this.maybeAbort(reason);
        reject(reason());
      };
      signal.addEventListener('abort', leave, { once: true });
      this.promise.finally(() => signal.removeEventListener('abort', leave)).then(resolve, reject);
    });
  }

  private maybeAbort(reason: () => Error): void {
    if (this.waiting === 0 && !this.unbounded) this.controller.abort(reason());
  }
}
