// One active audit replica: leader election over a coordination.k8s.io/v1 Lease in trustgate's
// namespace, as client-go's leaderelection package does it (k8s.io/client-go/tools/leaderelection):
// the holder renews `renewTime` every renewInterval; the others stand by and take the Lease over
// once it has not changed for leaseDuration *as they observed it*, on their own clock. The times
// written in the Lease are never trusted for expiry: a Lease claiming to be renewed far in the
// future, or with a duration of a year, holds no longer than an honest one that stopped renewing.
// Writes carry the object's resourceVersion, so two replicas never both win (409 Conflict).

export interface LeaseRecord {
  readonly holder: string | undefined;
  readonly leaseDurationSeconds: number | undefined;
  readonly acquireTime: string | undefined;
  readonly renewTime: string | undefined;
  readonly transitions: number;
  /** The object's version: the precondition of a replace. */
  readonly resourceVersion: string;
}

export type LeaseWrite = Omit<LeaseRecord, 'resourceVersion'>;

export class LeaseConflict extends Error {}

/** The Lease's calls to the API server (src/kube/audit.ts), faked in unit tests. */
export interface LeaseApi {
  /** Undefined when there is no Lease yet. */
  get(): Promise<LeaseRecord | undefined>;
  /** @throws LeaseConflict when it exists already. */
  create(lease: LeaseWrite): Promise<LeaseRecord>;
  /** @throws LeaseConflict when its resourceVersion changed meanwhile. */
  replace(lease: LeaseWrite, resourceVersion: string): Promise<LeaseRecord>;
}

export interface LeaderTiming {
  /** How long a Lease that has not changed keeps the others standing by. */
  readonly leaseDurationMs: number;
  /** How often the holder renews, and the others look. Under leaseDurationMs / 2. */
  readonly renewIntervalMs: number;
}

export class LeaderElector {
  private leadingNow = false;
  /** The last Lease seen, and when (our clock): expiry is measured from here. */
  private observed: { key: string; at: number } | undefined;
  private lastRenew = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private ticking: Promise<void> | undefined;

  constructor(
    private readonly api: LeaseApi,
    readonly identity: string,
    private readonly timing: LeaderTiming,
    private readonly now: () => number,
    private readonly onChange: (leading: boolean) => void,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  get leading(): boolean {
    return this.leadingNow;
  }

  /** One attempt to acquire or renew; resolves to whether this replica leads now. */
  async tick(): Promise<boolean> {
    try {
      await this.attempt();
    } catch (error) {
      this.onError(error);
    }
    // A holder that could not renew steps down before the others may take over.
    if (this.leadingNow && this.now() - this.lastRenew > this.timing.leaseDurationMs * 0.75) this.set(false);
    return this.leadingNow;
  }

  private async attempt(): Promise<void> {
    const now = this.now();
    const current = await this.api.get();
    const write: LeaseWrite = {
      holder: this.identity,
      leaseDurationSeconds: Math.ceil(this.timing.leaseDurationMs / 1000),
      acquireTime: new Date().toISOString(),
      renewTime: new Date().toISOString(),
      transitions: 0,
    };
    if (current === undefined) {
      try {
        await this.api.create(write);
      } catch (error) {
        if (error instanceof LeaseConflict) return; // another replica created it first
        throw error;
      }
      this.renewed(now);
      return;
    }
    const key = `${current.holder ?? ''}\n${current.renewTime ?? ''}\n${current.resourceVersion}`;
    if (this.observed?.key !== key) this.observed = { key, at: now };
    const mine = current.holder === this.identity;
    const free = current.holder === undefined || current.holder === '';
    if (!mine && !free && now - this.observed.at < this.timing.leaseDurationMs) {
      if (this.leadingNow) this.set(false); // taken over while we could not renew
      return;
    }
    try {
      await this.api.replace(
        { ...write, acquireTime: mine ? current.acquireTime ?? write.acquireTime : write.acquireTime, transitions: mine ? current.transitions : current.transitions + 1 },
        current.resourceVersion,
      );
    } catch (error) {
      if (error instanceof LeaseConflict) return;
      throw error;
    }
    this.renewed(now);
  }

  private renewed(at: number): void {
    this.lastRenew = at;
    this.observed = undefined;
    this.set(true);
  }

  private set(leading: boolean): void {
    if (leading === this.leadingNow) return;
    this.leadingNow = leading;
    this.onChange(leading);
  }

  /** Ticks every renewInterval until stop(). */
  start(): void {
    const loop = () => {
      if (this.stopped) return;
      this.ticking = this.tick().then(() => {
        if (!this.stopped) this.timer = setTimeout(loop, this.timing.renewIntervalMs);
      });
    };
    loop();
  }

  /**
   * Stops; a holder gives the Lease up (holder emptied), so a standby takes over at its next look
   * instead of after leaseDuration (client-go's ReleaseOnCancel).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    if (!this.leadingNow) return;
    this.set(false);
    try {
      const current = await this.api.get();
      if (current?.holder === this.identity) {
        await this.api.replace({ holder: '', leaseDurationSeconds: current.leaseDurationSeconds, acquireTime: current.acquireTime, renewTime: current.renewTime, transitions: current.transitions }, current.resourceVersion);
      }
    } catch (error) {
      this.onError(error);
    }
  }
}
