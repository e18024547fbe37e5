// Loads a scenario recorded by test/fixtures/record.ts (see test/fixtures/README.md).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface Scenario {
  readonly gun: string;
  readonly recordedAt: string;
  readonly tags: Record<string, string>;
  readonly keys: Record<string, string[]>;
}

export interface RecordedScenario {
  readonly scenario: Scenario;
  /** Files by the name the fetcher asks for (`root`, `snapshot.<hex>`, `targets/releases.<hex>`). */
  readonly files: Map<string, Buffer>;
  /** A minute after recording: the server's 14-day timestamp is still valid then. */
  readonly now: number;
}

export function loadScenario(name: string, root = path.resolve('test/fixtures/notary')): RecordedScenario {
  const dir = path.join(root, name);
  const files = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const entry of readdirSync(d)) {
      const full = path.join(d, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (entry !== 'scenario.json') files.set(path.relative(dir, full).replace(/\.json$/, ''), readFileSync(full));
    }
  };
  walk(dir);
  const scenario = JSON.parse(readFileSync(path.join(dir, 'scenario.json'), 'utf8')) as Scenario;
  return { scenario, files, now: Date.parse(scenario.recordedAt) + 60_000 };
}
