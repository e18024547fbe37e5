// Node's module compile cache for the CLI: V8's compiled code for every module `trustgate`
// loads, kept on disk so the next run skips compiling them (docs/adr/0006-node-24.md has the
// measurements). Compiled code is code: it is only read from a directory that this user owns
// and no one else can write, never from a shared one another user could have filled (Node's
// own default is a shared `$TMPDIR/node-compile-cache`).
import { existsSync, lstatSync, mkdirSync } from 'node:fs';
import { constants, enableCompileCache, getCompileCacheDir } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const { ENABLED, ALREADY_ENABLED } = constants.compileCacheStatus;

/** Where the cache may live, most preferred first: the user's cache directory, then a per-user one in tmpdir. */
export function compileCacheCandidates(env: NodeJS.ProcessEnv, uid: number, tmpdir = os.tmpdir()): string[] {
  // Only below directories that exist: a HOME of /nonexistent must not be created (root could).
  const xdg = env.XDG_CACHE_HOME && existsSync(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : undefined;
  const base = xdg ?? (env.HOME && existsSync(env.HOME) ? path.join(env.HOME, '.cache') : undefined);
  return [...(base ? [path.join(base, 'trustgate', 'compile-cache')] : []), path.join(tmpdir, `trustgate-compile-cache-${uid}`)];
}

/** Creates `dir` (0700) when missing; true when it is a real directory owned by `uid` that no one else can write. */
export function privateDirectory(dir: string, uid: number): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = lstatSync(dir);
    return stat.isDirectory() && stat.uid === uid && (stat.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/**
 * Turns the compile cache on, unless NODE_DISABLE_COMPILE_CACHE is set or NODE_COMPILE_CACHE
 * already chose a directory. Never fails: without a usable directory the CLI starts without it.
 * @returns the directory in use, if any
 */
export function enableCliCompileCache(env: NodeJS.ProcessEnv): string | undefined {
  const already = getCompileCacheDir();
  if (already !== undefined || env.NODE_DISABLE_COMPILE_CACHE || process.getuid === undefined) return already;
  const uid = process.getuid();
  for (const dir of compileCacheCandidates(env, uid)) {
    if (!privateDirectory(dir, uid)) continue;
    const { status, directory } = enableCompileCache(dir);
    if (status === ENABLED || status === ALREADY_ENABLED) return directory;
  }
  return undefined;
}
