// When audit rounds run: on the replica that holds the Lease (leader.ts), at once when it starts
// leading, every `intervalMs` after, and soon after a policy change (debounced: a burst of policy
// edits is one round). Rounds never overlap; a change during a round asks for one more after it.

export interface AuditSchedule {
  readonly intervalMs: number;
  /** Wait after a policy change before the round: later changes within it join that round. */
  readonly debounceMs: number;
}

export class AuditController {
  private leadingNow = false;
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly schedule: AuditSchedule,
    private readonly round: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Leadership changed (LeaderElector's onChange). */
  leading(leading: boolean): void {
    this.leadingNow = leading;
    if (leading) this.soon(0);
    else clearTimeout(this.timer);
  }

  /** The policies in force changed. */
  policiesChanged(): void {
    if (this.leadingNow) this.soon(this.schedule.debounceMs);
  }

  /** The round now in progress, if one (tests, shutdown). */
  get current(): Promise<void> | undefined {
    return this.running;
  }

  private soon(ms: number): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), ms);
    this.timer.unref();
  }

  private run(): void {
    if (this.stopped || !this.leadingNow || this.running) return;
    this.again = false;
    this.running = this.round()
      .catch((error: unknown) => this.onError(error))
      .finally(() => {
        this.running = undefined;
        if (this.stopped || !this.leadingNow) return;
        this.soon(this.again ? this.schedule.debounceMs : this.schedule.intervalMs);
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
