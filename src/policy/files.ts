// Policies from multi-document YAML files. A set is loaded whole or not at all: one broken
// document rejects the new set and the last good one stays in force (docs/policy.md).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describePolicy, type Policy } from './types.js';
import { parsePolicy, PolicyError } from './parse.js';
import { PolicySet } from './select.js';

const MAX_POLICY_FILE_BYTES = 4 * 1024 * 1024;

/** Expands `dir/*.yaml`-style patterns (a `*` in the file name only) and plain paths, sorted. */
export function expandFilePatterns(patterns: readonly string[], baseDir: string): string[] {
  const files = new Set<string>();
  for (const pattern of patterns) {
    const full = path.resolve(baseDir, pattern);
    const name = path.basename(full);
    if (!name.includes('*')) {
      files.add(full);
      continue;
    }
    const re = new RegExp(`^${name.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
    let entries: string[] = [];
    try {
      entries = readdirSync(path.dirname(full));
    } catch {
      /* a missing directory matches nothing; an empty set is reported by the caller */
    }
    for (const entry of entries) if (re.test(entry) && !entry.startsWith('.')) files.add(path.join(path.dirname(full), entry));
  }
  return [...files].sort();
}

export interface LoadedPolicies {
  readonly set: PolicySet;
  /** Hash of every file's bytes: unchanged files mean no reload. */
  readonly fingerprint: string;
  readonly files: readonly string[];
}

/** @throws PolicyError (one per failing file or document, joined) when anything is invalid. */
export function loadPolicyFiles(patterns: readonly string[], baseDir: string): LoadedPolicies {
  const files = expandFilePatterns(patterns, baseDir);
  const hash = createHash('sha256');
  const policies: Policy[] = [];
  const problems: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      if (statSync(file).size > MAX_POLICY_FILE_BYTES) throw new Error(`larger than ${MAX_POLICY_FILE_BYTES} bytes`);
      text = readFileSync(file, 'utf8');
    } catch (error) {
      problems.push(`${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      continue;
    }
    hash.update(file).update('\0').update(text).update('\0');
    parseAllDocuments(text).forEach((doc, i) => {
      const source = `${file}#${i + 1}`;
      if (doc.errors.length > 0) {
        problems.push(`${source}: not valid YAML: ${doc.errors[0]?.message.split('\n')[0] ?? ''}`);
        return;
      }
      const value: unknown = doc.toJS({ maxAliasCount: 100 });
      if (value === null || value === undefined) return; // an empty document, e.g. after a trailing ---
      try {
        policies.push(parsePolicy(value, source));
      } catch (error) {
        problems.push(error instanceof PolicyError ? error.message : `${source}: ${String(error)}`);
      }
    });
  }
  const seen = new Map<string, string>();
  for (const p of policies) {
    const key = describePolicy(p);
    const earlier = seen.get(key);
    if (earlier) problems.push(`${p.source}: ${key} is also defined in ${earlier}`);
    seen.set(key, p.source);
  }
  if (files.length === 0) problems.push(`no policy files match ${patterns.join(', ')}`);
  if (problems.length > 0) throw new PolicyError('policies', problems);
  return { set: new PolicySet(policies), fingerprint: hash.digest('hex'), files };
}

/**
 * Re-reads the policy files when they change (polling: it sees ConfigMap symlink swaps and
 * edits alike). A broken change is reported and the last good set stays in force.
 */
export class PolicyFileWatcher {
  private timer: NodeJS.Timeout | undefined;
  private fingerprint: string;
  private lastError = '';

  constructor(
    private readonly patterns: readonly string[],
    private readonly baseDir: string,
    initial: LoadedPolicies,
    private readonly onLoad: (loaded: LoadedPolicies) => void,
    private readonly onError: (error: PolicyError) => void,
    private readonly intervalMs = 1000,
  ) {
    this.fingerprint = initial.fingerprint;
  }

  start(): void {
    this.timer = setInterval(() => this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One look at the files; public so tests need not wait for the timer. */
  check(): void {
    try {
      const loaded = loadPolicyFiles(this.patterns, this.baseDir);
      this.lastError = '';
      if (loaded.fingerprint === this.fingerprint) return;
      this.fingerprint = loaded.fingerprint;
      this.onLoad(loaded);
    } catch (error) {
      const e = error instanceof PolicyError ? error : new PolicyError('policies', [String(error)]);
      // Report a broken state once, not every second.
      if (e.message !== this.lastError) this.onError(e);
      this.lastError = e.message;
    }
  }
}
