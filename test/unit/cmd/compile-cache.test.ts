import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileCacheCandidates, privateDirectory } from '../../../cmd/compile-cache.js';

// The compile cache holds code the CLI will run: it must come from a directory only this user
// can write (cmd/compile-cache.ts).
describe('the CLI compile cache directory', () => {
  const uid = process.getuid?.() ?? 0;
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'compile-cache-test-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('creates a missing directory that only its owner can enter', () => {
    const dir = path.join(root, 'a', 'cache');
    expect(privateDirectory(dir, uid)).toBe(true);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('refuses a directory others can write', () => {
    const dir = path.join(root, 'shared');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    expect(privateDirectory(dir, uid)).toBe(false);
  });

  it('refuses a directory another user owns', () => {
    const dir = path.join(root, 'theirs');
    mkdirSync(dir, { mode: 0o700 });
    expect(privateDirectory(dir, uid + 1)).toBe(false);
  });

  it('refuses a symlink, even to a private directory', () => {
    const target = path.join(root, 'target');
    mkdirSync(target, { mode: 0o700 });
    symlinkSync(target, path.join(root, 'link'));
    expect(privateDirectory(path.join(root, 'link'), uid)).toBe(false);
  });

  it('prefers the user cache directory, then a per-user one in tmpdir', () => {
    expect(compileCacheCandidates({ HOME: root }, 7, '/tmp')).toEqual([path.join(root, '.cache', 'trustgate', 'compile-cache'), '/tmp/trustgate-compile-cache-7']);
    expect(compileCacheCandidates({ HOME: root, XDG_CACHE_HOME: root }, 7, '/tmp')[0]).toBe(path.join(root, 'trustgate', 'compile-cache'));
  });

  it('never creates a home that does not exist', () => {
    const home = path.join(root, 'nonexistent');
    expect(compileCacheCandidates({ HOME: home }, 7, '/tmp')).toEqual(['/tmp/trustgate-compile-cache-7']);
    expect(existsSync(home)).toBe(false);
  });
});
