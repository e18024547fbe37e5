/**
 * The highest version of each role trusted so far, per trust server and repository. A server
 * that later offers an older version is replaying stale metadata (TUF spec 5.4.3, 5.5.5).
 * In memory, bounded: the process's memory of what it trusted. The least recently recorded
 * repository is forgotten first; docs/architecture.md ("Caches and what bounds them") says what that costs.
 */
export class VersionStore {
  private readonly versions = new Map<string, ReadonlyMap<string, number>>();

  constructor(private readonly maxRepositories = 100_000) {}

  get size(): number {
    return this.versions.size;
  }

  get(server: string, gun: string, role: string): number | undefined {
    return this.versions.get(`${server} ${gun}`)?.get(role);
  }

  record(server: string, gun: string, seen: ReadonlyMap<string, number>): void {
    const key = `${server} ${gun}`;
    const merged = new Map(this.versions.get(key) ?? []);
    for (const [role, version] of seen) merged.set(role, Math.max(version, merged.get(role) ?? 0));
    this.versions.delete(key);
    this.versions.set(key, merged);
    if (this.versions.size > this.maxRepositories) {
      const oldest = this.versions.keys().next().value;
      if (oldest !== undefined) this.versions.delete(oldest);
    }
  }
}
