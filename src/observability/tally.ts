import { Counter, type Registry } from 'prom-client';

/**
 * A counter for the hot path: increments touch a plain Map; prom-client receives the totals
 * only when scraped (its `collect` hook). prom-client's own inc validates and hashes the labels
 * and allocates on every call, which cost ~18% of webhook throughput (bench/RESULTS.md).
 */
export class TallyCounter<L extends string> {
  private readonly tallies = new Map<string, { labels: Record<L, string>; value: number }>();

  constructor(registry: Registry, name: string, help: string, private readonly labelNames: readonly L[]) {
    const tallies = this.tallies;
    new Counter<L>({
      name,
      help,
      labelNames: [...labelNames],
      registers: [registry],
      collect() {
        this.reset();
        for (const { labels, value } of tallies.values()) this.inc(labels, value);
      },
    });
  }

  inc(labels: Record<L, string>, by = 1): void {
    let key = '';
    for (const name of this.labelNames) key += `${labels[name]}\u0000`;
    const tally = this.tallies.get(key);
    if (tally) tally.value += by;
    else this.tallies.set(key, { labels: { ...labels }, value: by });
  }
}
