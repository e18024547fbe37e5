import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trustgate } from '../support/cli.js';

// The built `trustgate` keeps V8's compiled code between runs (cmd/compile-cache.ts), and only
// in a directory no other user can write. NODE_DEBUG_NATIVE=COMPILE_CACHE makes Node say what
// it read and whether V8 accepted it.
const debug = { NODE_DEBUG_NATIVE: 'COMPILE_CACHE' };

describe('trustgate start-up with the compile cache', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'cli-compile-cache-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes the cache under the user cache directory, and the next run uses it', async () => {
    const first = await trustgate(['verify', '--help'], { env: { HOME: root, ...debug } });
    expect(first.code).toBe(0);
    const dir = path.join(root, '.cache', 'trustgate', 'compile-cache');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const second = await trustgate(['verify', '--help'], { env: { HOME: root, ...debug } });
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).toMatch(/V8 code cache for ESM file:\/\/\S+\/cmd\/cli\/main\.js was accepted/);
  });

  it('ignores a cache directory other users can write, and still runs', async () => {
    const tmp = path.join(root, 'tmp');
    const planted = path.join(tmp, `trustgate-compile-cache-${process.getuid?.() ?? 0}`);
    mkdirSync(planted, { recursive: true });
    chmodSync(planted, 0o777);
    const r = await trustgate(['verify', '--help'], { env: { HOME: path.join(root, 'nonexistent'), TMPDIR: tmp, ...debug } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: trustgate verify');
    expect(r.stderr).not.toContain(planted);
    expect(readdirSync(planted)).toEqual([]);
  });

  it('runs without a cache when NODE_DISABLE_COMPILE_CACHE is set', async () => {
    const r = await trustgate(['verify', '--help'], { env: { HOME: root, NODE_DISABLE_COMPILE_CACHE: '1', ...debug } });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/was accepted/);
  });
});
