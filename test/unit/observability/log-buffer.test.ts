import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogBuffer } from '../../../src/observability/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-log-'));
let n = 0;
function file(): { fd: number; read: () => string; size: () => number } {
  const name = path.join(dir, `log-${n++}`);
  const fd = openSync(name, 'w');
  return { fd, read: () => readFileSync(name, 'utf8'), size: () => statSync(name).size };
}
const line = (i: number) => `{"level":30,"i":${i},"msg":"admission decision ü"}\n`;

describe('LogBuffer', () => {
  it('holds lines until flushed, then writes them in order, multibyte text intact', async () => {
    const out = file();
    const log = new LogBuffer(out.fd);
    for (let i = 0; i < 3; i++) log.write(line(i));
    expect(out.size()).toBe(0);
    await log.close();
    expect(out.read()).toBe([0, 1, 2].map(line).join(''));
    closeSync(out.fd);
  });

  it('starts a write by itself once enough is pending', async () => {
    const out = file();
    const log = new LogBuffer(out.fd, { flushChars: 200, maxChars: 1 << 20 });
    for (let i = 0; i < 10; i++) log.write(line(i));
    for (let tries = 0; out.size() === 0 && tries < 100; tries++) await new Promise((r) => setTimeout(r, 10));
    expect(out.read().startsWith(line(0))).toBe(true);
    await log.close();
    expect(out.read()).toBe(Array.from({ length: 10 }, (_, i) => line(i)).join(''));
    closeSync(out.fd);
  });

  it('drops what it cannot hold, and says how many lines it dropped', async () => {
    const out = file();
    const log = new LogBuffer(out.fd, { flushChars: 1 << 20, maxChars: 2 * line(0).length });
    expect([0, 1, 2, 3].map((i) => log.write(line(i)))).toEqual([true, true, false, false]);
    expect(log.droppedTotal).toBe(2);
    await log.close();
    const lines = out.read().trimEnd().split('\n');
    expect(lines.slice(0, 2)).toEqual([line(0).trimEnd(), line(1).trimEnd()]);
    expect(JSON.parse(lines[2]!)).toMatchObject({ level: 40, msg: '2 log lines dropped: the reader of the log did not keep up' });
    closeSync(out.fd);
  });

  it('waits for a reader that is slow to start: nothing is lost or reordered behind a full pipe', async () => {
    // A real non-blocking pipe (libuv's, to a child that starts reading after 300 ms): writes
    // beyond its capacity fail with EAGAIN until the reader drains it.
    const out = path.join(dir, 'pipe-out');
    const child = spawn('sh', ['-c', `sleep 0.3; cat > ${out}`], { stdio: ['pipe', 'ignore', 'inherit'] });
    const fd = (child.stdin as unknown as { _handle: { fd: number } })._handle.fd;
    const log = new LogBuffer(fd, { flushChars: 4096, maxChars: 64 << 20 });
    const count = 20_000; // ~1 MiB, many times a pipe's capacity
    for (let i = 0; i < count; i++) log.write(line(i));
    await log.close();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdin.end();
    await exited;
    expect(readFileSync(out, 'utf8')).toBe(Array.from({ length: count }, (_, i) => line(i)).join(''));
  });
});
