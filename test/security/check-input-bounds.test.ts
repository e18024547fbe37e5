// trustgate check and pin read manifests from a repository or a pipe, which a contributor to
// that repository controls: every input is bounded, nothing leads out of the directory given,
// and a hostile document is an input error (exit 2) or a denial (exit 1), never a crash, a hang
// or memory without bound.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MANIFEST_LIMITS } from '../../cmd/cli/manifests.js';
import { ScriptedVerifier } from '../support/fake-verifier.js';
import { policyFile, runCli, tempFiles } from '../support/check-cli.js';
import { spawn } from 'node:child_process';
import { CLI } from '../support/cli.js';

const SIGNED = `sha256:${'a'.repeat(64)}`;
const verifier = () => new ScriptedVerifier({ 'registry.test/team/app:1.0': SIGNED });
const POLICIES = policyFile(tempFiles({}), ['registry.test/**']);

async function check(args: string[], stdin?: string) {
  return runCli(['check', ...args, '--policies', POLICIES], { verifier: verifier(), ...(stdin !== undefined && { stdin }) });
}

function expectInputError(r: { code: number; stderr: string }, message: RegExp | string) {
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^trustgate: USAGE: /);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

/** Runs the built command with `bytes` of YAML comment piped in, as long as it reads them. */
function pipeInto(args: string[], bytes: number): Promise<{ code: number; stdout: string; stderr: string; written: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '', written: 0 };
    child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
    child.stdin.on('error', () => undefined); // EPIPE: the command stopped reading, as it should
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    chunk.write('# ');
    const pump = () => {
      while (out.written < bytes && !child.stdin.destroyed) {
        out.written += chunk.length;
        if (!child.stdin.write(chunk)) return void child.stdin.once('drain', pump);
      }
      child.stdin.end();
    };
    pump();
    child.on('close', (code) => resolve({ code: code ?? -1, ...out }));
  });
}

const pod = (name: string, image: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec: {containers: [{name: c, image: ${JSON.stringify(image)}}]}\n`;

describe('check: YAML bombs and nesting', () => {
  it('refuses a billion-laughs document at the yaml package\'s alias bound', async () => {
    const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(',')}]`);
    const bomb = `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: registry.test/team/app:1.0}]}\nx:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
    const r = await check(['-f', '-'], bomb);
    expectInputError(r, /stdin: document 1: cannot be read: .*alias/i);
  });

  it('refuses a value nested past the bound, and one deep enough to overflow a parser, without a stack trace', async () => {
    expectInputError(await check(['-f', '-'], `kind: Pod\nspec: ${'['.repeat(200)}${']'.repeat(200)}\n`), /nested deeper than 100|too deeply nested/);
    expectInputError(await check(['-f', '-'], `kind: Pod\nspec: ${'['.repeat(200_000)}${']'.repeat(200_000)}\n`), /nested deeper than 100|too deeply nested/);
  });

  it(`refuses Lists nested deeper than ${MANIFEST_LIMITS.listDepth}`, async () => {
    let object: Record<string, unknown> = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'registry.test/team/app:1.0' }] } };
    for (let i = 0; i < MANIFEST_LIMITS.listDepth; i++) object = { apiVersion: 'v1', kind: 'List', items: [object] };
    expect((await check(['-f', '-'], JSON.stringify(object))).code).toBe(0);
    expectInputError(await check(['-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [object] })), /Lists nested deeper than 4/);
  });
});

describe('check: size and count bounds', () => {
  it('refuses more bytes than the bound, from a file or stdin, before parsing', async () => {
    const big = `# ${'x'.repeat(MANIFEST_LIMITS.bytes)}\n`;
    const dir = tempFiles({ 'big.yaml': big });
    expectInputError(await check(['-f', path.join(dir, 'big.yaml')]), /larger than 16777216 bytes/);
    expectInputError(await check(['-f', '-'], big), /larger than 16777216 bytes together/);
  });

  it('the built command stops reading stdin at the bound, and refuses', async () => {
    const r = await pipeInto(['check', '-f', '-', '--policies', POLICIES], 4 * MANIFEST_LIMITS.bytes);
    expectInputError(r, /larger than 16777216 bytes together/);
    // It closed stdin before the writer was done: the rest was never read.
    expect(r.written).toBeLessThan(4 * MANIFEST_LIMITS.bytes);
  });

  it('refuses files that are each small but together over the bound', async () => {
    const half = `# ${'x'.repeat(MANIFEST_LIMITS.bytes / 2)}\n`;
    const dir = tempFiles({ 'a.yaml': half, 'b.yaml': half });
    expectInputError(await check(['-f', dir]), /larger than 16777216 bytes together/);
  });

  it('refuses a directory of more files than the bound', async () => {
    const dir = tempFiles({});
    for (let i = 0; i <= MANIFEST_LIMITS.files; i++) writeFileSync(path.join(dir, `f${i}.yaml`), '');
    expectInputError(await check(['-f', dir]), /more than 2000 manifest files/);
  });

  it('refuses a stream of more documents than the bound, empty ones included', async () => {
    expectInputError(await check(['-f', '-'], '---\n'.repeat(MANIFEST_LIMITS.documents + 1)), /more than 10000 YAML documents/);
  });

  it('refuses more objects than the bound, inside Lists too', async () => {
    const items = Array.from({ length: MANIFEST_LIMITS.objects + 1 }, (_, i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}` } }));
    expectInputError(await check(['-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items })), /more than 10000 objects/);
  });

  it('refuses more images than the bound before verifying any', async () => {
    const v = verifier();
    const containers = Array.from({ length: 250 }, (_, i) => ({ name: `c${i}`, image: 'registry.test/team/app:1.0' }));
    const pods = Array.from({ length: Math.ceil(MANIFEST_LIMITS.images / 250) + 1 }, (_, i) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${i}` }, spec: { containers } }));
    const r = await runCli(['check', '-f', '-', '--policies', POLICIES], { verifier: v, stdin: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: pods }) });
    expectInputError(r, /more than 20000/);
    expect(v.calls).toEqual([]);
  });
});

describe('check: directories and symlinks', () => {
  it('refuses a device or FIFO named with -f instead of reading it without end', async () => {
    expectInputError(await check(['-f', '/dev/zero']), /\/dev\/zero is not a regular file or directory/);
  });

  it('charges a symlinked file by its target\'s size, before reading it', async () => {
    const dir = tempFiles({});
    mkdirSync(path.join(dir, 'data'));
    // Not a manifest name, so only the link reads it; inside the directory given, so followed.
    writeFileSync(path.join(dir, 'data', 'big.txt'), `# ${'x'.repeat(MANIFEST_LIMITS.bytes)}\n`);
    symlinkSync(path.join(dir, 'data', 'big.txt'), path.join(dir, 'link.yaml'));
    expectInputError(await check(['-f', dir]), /link\.yaml is larger than 16777216 bytes/);
  });

  it('follows a symlink the user names with -f, to a directory too', async () => {
    const dir = tempFiles({ 'app.yaml': pod('app', 'registry.test/team/app:1.0') });
    const link = path.join(tempFiles({}), 'deploy');
    symlinkSync(dir, link);
    expect((await check(['-f', link])).code).toBe(0);
  });

  it('does not follow a symlink out of the directory given, to a file or a directory', async () => {
    const outside = tempFiles({ 'secret.yaml': pod('stolen', 'registry.test/SECRET-CONTENT:1') });
    const dir = tempFiles({ 'app.yaml': pod('app', 'registry.test/team/app:1.0') });
    symlinkSync(path.join(outside, 'secret.yaml'), path.join(dir, 'link.yaml'));
    symlinkSync(outside, path.join(dir, 'linked-dir'));
    symlinkSync('/etc/passwd', path.join(dir, 'passwd.yaml'));
    const r = await check(['-f', dir, '--output', 'json']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('SECRET');
    expect((JSON.parse(r.stdout) as { objects: unknown[] }).objects).toHaveLength(1);
  });

  it('does not loop on a symlink to the directory itself', async () => {
    const dir = tempFiles({ 'app.yaml': pod('app', 'registry.test/team/app:1.0') });
    mkdirSync(path.join(dir, 'sub'));
    symlinkSync(dir, path.join(dir, 'sub', 'loop'));
    expect((await check(['-f', dir])).code).toBe(0);
  });
});

describe('check and pin: image fields that are not strings', () => {
  it.each([
    ['a number', 'image: 42'],
    ['a map', 'image: {name: registry.test/team/app, tag: "1.0"}'],
    ['a list', 'image: [registry.test/team/app:1.0]'],
    ['null', 'image: null'],
  ])('an image that is %s is denied as malformed, as the webhook denies it', async (_what, field) => {
    const text = `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      ${field}\n`;
    const r = await check(['-f', '-'], text);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/stdin:1: deny: Pod\/p: malformed Pod: \/spec\/containers\/0\/image is missing/);
    const pinned = await runCli(['pin', '-f', '-', '--policies', POLICIES], { verifier: verifier(), stdin: text });
    expect(pinned.code).toBe(1);
    expect(pinned.stdout).toBe('');
  });

  it('an image volume whose reference is not a string is denied as malformed', async () => {
    const text = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: registry.test/team/app:1.0}]\n  volumes: [{name: v, image: {reference: [x]}}]\n';
    const r = await check(['-f', '-'], text);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('/spec/volumes/0/image/reference is not a string');
  });
});

describe('pin: the file is never half written', () => {
  it('leaves the file as it was when it refuses', async () => {
    const dir = tempFiles({ 'p.yaml': pod('p', 'registry.test/team/unsigned:1') + '---\n' + pod('q', 'registry.test/team/app:1.0') });
    const file = path.join(dir, 'p.yaml');
    const before = readFileSync(file, 'utf8');
    const r = await runCli(['pin', '-f', file, '--in-place', '--policies', POLICIES], { verifier: verifier() });
    expect(r.code).toBe(1);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });
});
