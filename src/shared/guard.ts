// A small reader for untrusted JSON and YAML (metadata, policies, config, AdmissionReviews):
// every accessor records the field path of what was wrong, so one error lists every problem
// ("targets.signed.expires: not an RFC 3339 time; …"). A leaf module: every layer may use it.

export class Guard {
  readonly problems: string[] = [];

  constructor(private readonly maxEntries = 100_000) {}

  /** Reports keys of `obj` that are not in `known` (config and policies reject unknown keys). */
  onlyKeys(obj: Record<string, unknown> | undefined, known: readonly string[], path: string): void {
    for (const key of Object.keys(obj ?? {})) {
      if (!known.includes(key)) this.fail(`${path}.${key}`, 'unknown field');
    }
  }

  /** An optional value: undefined stays undefined, anything else goes through `read`. */
  optional<T>(value: unknown, read: (v: unknown) => T | undefined): T | undefined {
    return value === undefined || value === null ? undefined : read(value);
  }

  oneOf<T extends string>(value: unknown, allowed: readonly T[], path: string): T | undefined {
    return typeof value === 'string' && (allowed as readonly string[]).includes(value)
      ? (value as T)
      : this.fail(path, `expected one of ${allowed.join(', ')}`);
  }

  fail(path: string, problem: string): undefined {
    if (this.problems.length < 20) this.problems.push(`${path}: ${problem}`);
    return undefined;
  }

  get ok(): boolean {
    return this.problems.length === 0;
  }

  object(value: unknown, path: string): Record<string, unknown> | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return this.fail(path, 'expected an object');
    if (Object.keys(value).length > this.maxEntries) return this.fail(path, `more than ${this.maxEntries} entries`);
    return value as Record<string, unknown>;
  }

  array(value: unknown, path: string): unknown[] | undefined {
    if (!Array.isArray(value)) return this.fail(path, 'expected an array');
    const items: unknown[] = value;
    if (items.length > this.maxEntries) return this.fail(path, `more than ${this.maxEntries} entries`);
    return items;
  }

  string(value: unknown, path: string): string | undefined {
    return typeof value === 'string' ? value : this.fail(path, 'expected a string');
  }

  /** A non-negative safe integer (versions, lengths, thresholds). */
  integer(value: unknown, path: string, min = 0): number | undefined {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
      return this.fail(path, `expected an integer ≥ ${min}`);
    }
    return value;
  }

  boolean(value: unknown, path: string): boolean | undefined {
    return typeof value === 'boolean' ? value : this.fail(path, 'expected a boolean');
  }

  stringArray(value: unknown, path: string): string[] | undefined {
    const items = this.array(value, path);
    if (!items) return undefined;
    const out: string[] = [];
    items.forEach((item, i) => {
      const s = this.string(item, `${path}[${i}]`);
      if (s !== undefined) out.push(s);
    });
    return out.length === items.length ? out : undefined;
  }

  /** Entries of an object map, each read by `read`; undefined when the map itself is bad. */
  map<T>(value: unknown, path: string, read: (item: unknown, path: string) => T | undefined): Map<string, T> | undefined {
    const obj = this.object(value, path);
    if (!obj) return undefined;
    const out = new Map<string, T>();
    for (const [key, item] of Object.entries(obj)) {
      const parsed = read(item, `${path}[${JSON.stringify(key)}]`);
      if (parsed !== undefined) out.set(key, parsed);
    }
    return out;
  }
}
