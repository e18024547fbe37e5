// When audit rounds run: on the replica that holds the Lease (leader.ts), at once when it starts
// leading, every `intervalMs` after, and soon after a policy change (debounced: a burst of policy
// edits is one round). Rounds never overlap; a change during a round asks for one more after it.
// A change never postpones a round already due (else a tenant editing its ImagePolicy every
// second would keep the audit from ever running), and rounds asked for by changes start at least
// `minGapMs` after the last one ended (else the same tenant would make the audit run back to back).

export interface AuditSchedule {
  readonly intervalMs: number;
  /** Wait after a policy change before the round: later changes within it join that round. */
  readonly debounceMs: number;
  /** Least time between the end of a round and a round a policy change asks for. */
  readonly minGapMs: number;
}

export class AuditController {
  private leadingNow = false;
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  /** When the scheduled round is due (the clock's ms); undefined when none is. */
  private due: number | undefined;
  private lastEnd = -Infinity;
  private stopped = false;
  /** Rounds started (tests, logs). */
  rounds = 0;

  constructor(
    private readonly schedule: AuditSchedule,
    private readonly round: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Leadership changed (LeaderElector's onChange). */
  leading(leading: boolean): void {
    this.leadingNow = leading;
    if (leading) this.at(this.now());
    else this.cancel();
  }

  /** The policies in force changed. */
  policiesChanged(): void {
    if (!this.leadingNow) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.at(Math.max(this.now() + this.schedule.debounceMs, this.lastEnd + this.schedule.minGapMs));
  }

  /** The round now in progress, if one (tests, shutdown). */
  get current(): Promise<void> | undefined {
    return this.running;
  }

  /** Schedules a round at `when`, unless one is due sooner. */
  private at(when: number): void {
    if (this.stopped || this.running) return;
    if (this.due !== undefined && this.due <= when) return;
    this.cancel();
    this.due = when;
    this.timer = setTimeout(() => this.run(), Math.max(0, when - this.now()));
    this.timer.unref();
  }

  private cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.due = undefined;
  }

  private run(): void {
    this.due = undefined;
    if (this.stopped || !this.leadingNow || this.running) return;
    this.again = false;
    this.rounds++;
    this.running = this.round()
      .catch((error: unknown) => this.onError(error))
      .finally(() => {
        this.running = undefined;
        this.lastEnd = this.now();
        if (this.stopped || !this.leadingNow) return;
        const next = this.lastEnd + this.schedule.intervalMs;
        this.at(this.again ? Math.min(next, this.lastEnd + Math.max(this.schedule.debounceMs, this.schedule.minGapMs)) : next);
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancel();
    await this.running;
  }
}
