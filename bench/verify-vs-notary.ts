// A cold `trustgate verify` against a local notary-server, beside `notary list` (the reference
// client, fresh trust dir each time) for the same repository, as a ratio of medians.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { run } from '../test/support/processes.js';
import { TrustStack } from '../test/support/stack.js';
import { fmt, summarise } from './stats.js';

const CLI = path.resolve('dist/cmd/trustgate.js');

async function time(fn: () => Promise<{ code: number; stderr: string }>): Promise<number> {
  const t = performance.now();
  const r = await fn();
  if (r.code !== 0) throw new Error(`benchmark command failed: ${r.stderr}`);
  return performance.now() - t;
}

async function main(): Promise<void> {
  const stack = await TrustStack.start();
  try {
    const gun = `${stack.registry}/bench/app`;
    const image = await stack.pushImage('bench/app', '1.0', 'bench');
    await stack.init(gun);
    await stack.sign(gun, '1.0', image);
    const rounds = 15;
    const ours: number[] = [];
    const theirs: number[] = [];
    const nodeStart: number[] = [];
    for (let i = 0; i < rounds; i++) {
      ours.push(await time(() => run(process.execPath, [CLI, 'verify', `${gun}:1.0`, '--trust-server', stack.notaryUrl, '--ca-file', stack.tls.caCert])));
      const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-notary-'));
      writeFileSync(path.join(dir, 'c.json'), JSON.stringify({ trust_dir: dir, remote_server: { url: stack.notaryUrl, root_ca: stack.tls.caCert } }));
      theirs.push(await time(() => run('notary', ['-c', path.join(dir, 'c.json'), 'list', gun])));
      rmSync(dir, { recursive: true, force: true });
      nodeStart.push(await time(() => run(process.execPath, ['-e', '0'])));
    }
    const a = summarise(ours);
    const b = summarise(theirs);
    const n = summarise(nodeStart);
    console.log('cold verification as a command, against a local notary-server (15 rounds, interleaved)');
    console.log(`  trustgate verify : median ${fmt(a.median)} ms  p90 ${fmt(a.p90)} ms`);
    console.log(`  notary list      : median ${fmt(b.median)} ms  p90 ${fmt(b.p90)} ms`);
    console.log(`  node -e 0        : median ${fmt(n.median)} ms  (process start-up alone)`);
    console.log(`  ratio trustgate / notary : ${fmt(a.median / b.median, 2)}×`);
  } finally {
    await stack.stop();
  }
}

await main();
