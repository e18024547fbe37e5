// Start-up of the `trustgate` command with and without Node's module compile cache
// (cmd/compile-cache.ts), as ratios of medians over interleaved rounds: `trustgate verify --help`
// loads the CLI's whole module graph and does no I/O, so it measures start-up alone.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { run } from '../test/support/processes.js';
import { fmt, summarise } from './stats.js';

const CLI = path.resolve('dist/cmd/trustgate.js');
const ARGS = [CLI, 'verify', '--help'];

async function time(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  const t = performance.now();
  const r = await run(process.execPath, args, { env });
  if (r.code !== 0) throw new Error(`benchmark command failed: ${r.stderr}`);
  return performance.now() - t;
}

async function main(): Promise<void> {
  const rounds = 30;
  const home = mkdtempSync(path.join(os.tmpdir(), 'bench-cli-home-'));
  const samples = { node: [] as number[], none: [] as number[], cold: [] as number[], warm: [] as number[] };
  try {
    await time(ARGS, { HOME: home }); // fills the cache the "warm" runs read
    for (let i = 0; i < rounds; i++) {
      samples.node.push(await time(['-e', '0']));
      samples.none.push(await time(ARGS, { HOME: home, NODE_DISABLE_COMPILE_CACHE: '1' }));
      const empty = mkdtempSync(path.join(os.tmpdir(), 'bench-cli-cold-'));
      samples.cold.push(await time(ARGS, { HOME: empty }));
      rmSync(empty, { recursive: true, force: true });
      samples.warm.push(await time(ARGS, { HOME: home }));
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  const [node, none, cold, warm] = [summarise(samples.node), summarise(samples.none), summarise(samples.cold), summarise(samples.warm)];
  console.log(`trustgate verify --help start-up, Node ${process.versions.node} (${rounds} rounds, interleaved)`);
  console.log(`  node -e 0                    : median ${fmt(node.median)} ms  p90 ${fmt(node.p90)} ms`);
  console.log(`  no compile cache             : median ${fmt(none.median)} ms  p90 ${fmt(none.p90)} ms`);
  console.log(`  compile cache, first run     : median ${fmt(cold.median)} ms  p90 ${fmt(cold.p90)} ms`);
  console.log(`  compile cache, later runs    : median ${fmt(warm.median)} ms  p90 ${fmt(warm.p90)} ms`);
  console.log(`  ratio later runs / no cache  : ${fmt(warm.median / none.median, 2)}×`);
  console.log(`  ratio first run / no cache   : ${fmt(cold.median / none.median, 2)}×`);
  console.log(`  above node -e 0, later / none: ${fmt((warm.median - node.median) / (none.median - node.median), 2)}×`);
}

await main();
