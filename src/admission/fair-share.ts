// Verifications in flight, shared fairly between namespaces. One namespace creating pods that
// each name up to MAX_IMAGES_PER_REVIEW distinct repositories would otherwise start thousands
// of lookups at once, fill every socket the trust server's agent has (16 per origin) and queue
// every other namespace's lookup behind them until its review's deadline (issue 9, item 8).
// Here each namespace waits in its own queue; a free slot goes to the namespace with the fewest
// verifications running, in turn among equals. Lookups of one repository form one group that
// takes one slot: the trust client loads a repository once for all of its tags (client.ts), so a
// pod of thousands of tags is one slot, not thousands.
// The cached path never comes here (docs/adr/0003): only a verification that must fetch does.
import { TrustError } from '../trust/index.js';

/** How many verifications run at once, and how many may wait. */
export interface FairShareBounds {
  /** Repositories being verified at once, all namespaces together. */
  readonly inFlight: number;
  /** Of those, at most this many for one namespace: a flood keeps to its share. */
  readonly perNamespace: number;
  /** Repositories one namespace may have waiting; beyond, refused at once with TIMEOUT. */
  readonly queuedPerNamespace: number;
}

export const DEFAULT_FAIR_SHARE: FairShareBounds = Object.freeze({ inFlight: 64, perNamespace: 16, queuedPerNamespace: 1024 });

/** One repository's lookups waiting for a slot, or running in one. */
interface Group {
  readonly namespace: string;
  readonly key: string;
  /** When the first review that asked gives up (its deadline): a group still waiting then never starts. */
  readonly expiresAt: number;
  readonly starts: (() => void)[];
  readonly expires: (() => void)[];
  /** Lookups of the group running; the slot is given back when none is left. */
  running: number;
}

export class FairShare {
  private slots = 0;
  private readonly slotsOf = new Map<string, number>();
  /** Namespaces with groups waiting, in turn order: a namespace served moves to the back. */
  private readonly waiting = new Map<string, Group[]>();
  /** Groups by namespace and repository, waiting or running; a group leaves when it is done. */
  private readonly groups = new Map<string, Group>();

  constructor(
    private readonly bounds: FairShareBounds,
    private readonly now: () => number,
  ) {}

  /**
   * Runs `task` when the repository `group` of `namespace` has a slot: at once when the group
   * holds one already. Rejects with TIMEOUT, without running it, when the namespace already has
   * `queuedPerNamespace` groups waiting or no slot comes before `expiresAt`.
   */
  run<T>(namespace: string, group: string, expiresAt: number, what: string, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const key = `${namespace}\n${group}`;
      const startIn = (g: Group) => {
        g.running++;
        task()
          .then(resolve, reject)
          .finally(() => this.finished(g));
      };
      const expire = () => reject(new TrustError('TIMEOUT', `${what}: no turn to reach the trust server before the deadline (namespace ${namespace || '(cluster)'} has many verifications waiting)`));
      const existing = this.groups.get(key);
      if (existing?.running) return startIn(existing);
      if (existing) {
        existing.starts.push(() => startIn(existing));
        existing.expires.push(expire);
        return;
      }
      const queue = this.waiting.get(namespace) ?? [];
      if (queue.length >= this.bounds.queuedPerNamespace) {
        reject(new TrustError('TIMEOUT', `${what}: namespace ${namespace || '(cluster)'} already has ${queue.length} repositories waiting for the trust servers`));
        return;
      }
      const g: Group = { namespace, key, expiresAt, starts: [], expires: [expire], running: 0 };
      g.starts.push(() => startIn(g));
      this.groups.set(key, g);
      queue.push(g);
      if (!this.waiting.has(namespace)) this.waiting.set(namespace, queue);
      this.pump();
    });
  }

  /** Slots taken and groups waiting now (tests, metrics). */
  sizes(): { running: number; waiting: number; groups: number } {
    let waiting = 0;
    for (const queue of this.waiting.values()) waiting += queue.length;
    return { running: this.slots, waiting, groups: this.groups.size };
  }

  private finished(g: Group): void {
    if (--g.running > 0) return;
    this.groups.delete(g.key);
    this.slots--;
    const left = (this.slotsOf.get(g.namespace) ?? 1) - 1;
    if (left > 0) this.slotsOf.set(g.namespace, left);
    else this.slotsOf.delete(g.namespace);
    this.pump();
  }

  private pump(): void {
    while (this.slots < this.bounds.inFlight) {
      const next = this.nextTurn();
      if (next === undefined) return;
      if (this.now() > next.expiresAt) {
        this.groups.delete(next.key);
        for (const expire of next.expires) expire();
        continue;
      }
      this.slots++;
      this.slotsOf.set(next.namespace, (this.slotsOf.get(next.namespace) ?? 0) + 1);
      for (const start of next.starts.splice(0)) start();
      next.expires.length = 0;
    }
  }

  /**
   * The namespace with the fewest slots (below its share), first in turn order among equals,
   * gives up its oldest waiting group and moves to the back of the order.
   */
  private nextTurn(): Group | undefined {
    let chosen: string | undefined;
    let fewest = this.bounds.perNamespace;
    for (const namespace of this.waiting.keys()) {
      const taken = this.slotsOf.get(namespace) ?? 0;
      if (taken < fewest) {
        chosen = namespace;
        fewest = taken;
        if (taken === 0) break;
      }
    }
    if (chosen === undefined) return undefined;
    const queue = this.waiting.get(chosen)!;
    const next = queue.shift();
    this.waiting.delete(chosen);
    if (queue.length > 0) this.waiting.set(chosen, queue);
    return next;
  }
}
