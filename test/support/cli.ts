import { existsSync } from 'node:fs';
import path from 'node:path';
import { run, type RunResult } from './processes.js';

export const CLI = path.resolve('dist/cmd/trustgate.js');

/** Runs the built `trustgate` command, as a user would. `npm test` builds it first. */
export function trustgate(args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
  return run(process.execPath, [CLI, ...args], { ...options, env: { HOME: '/nonexistent', ...options.env }, timeoutMs: 60_000 });
}
