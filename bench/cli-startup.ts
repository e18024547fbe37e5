// Start-up of the `trustgate` command with and without Node's module compile cache
// (cmd/compile-cache.ts), as ratios of medians over interleaved rounds: `trustgate verify --help`
// loads the CLI's whole module graph and does no I/O, so it measures start-up alone. CPU time
// (user + system, reported by the child at exit) is the figure to compare: on the shared
// machines wall time mostly measures the neighbours.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { run } from '../test/support/processes.js';
import { fmt, summarise } from './stats.js';

const CLI = path.resolve('dist/cmd/trustgate.js');
const REPORT_CPU = `data:text/javascript,${encodeURIComponent(
  "import { writeSync } from 'node:fs'; process.on('exit', () => { const u = process.cpuUsage(); writeSync(2, `\\ncpu-us ${u.user + u.system}\\n`); });",
)}`;
const ARGS = [CLI, 'verify', '--help'];

interface Sample {
  wallMs: number;
  cpuMs: number;
}

async function time(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Sample> {
  const t = performance.now();
  const r = await run(process.execPath, ['--import', REPORT_CPU, ...args], { env });
  const wallMs = performance.now() - t;
  const cpu = /cpu-us (\d+)/.exec(r.stderr)?.[1];
  if (r.code !== 0 || cpu === undefined) throw new Error(`benchmark command failed: ${r.stderr}`);
  return { wallMs, cpuMs: Number(cpu) / 1000 };
}

async function main(): Promise<void> {
  const rounds = 30;
  const home = mkdtempSync(path.join(os.tmpdir(), 'bench-cli-home-'));
  const samples = { node: [] as Sample[], none: [] as Sample[], cold: [] as Sample[], warm: [] as Sample[] };
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
  const line = (name: string, xs: Sample[]) => {
    const cpu = summarise(xs.map((x) => x.cpuMs));
    const wall = summarise(xs.map((x) => x.wallMs));
    console.log(`  ${name.padEnd(28)} : CPU median ${fmt(cpu.median)} ms  wall median ${fmt(wall.median)} ms  p90 ${fmt(wall.p90)} ms`);
    return cpu.median;
  };
  console.log(`trustgate verify --help start-up, Node ${process.versions.node} (${rounds} rounds, interleaved)`);
  const node = line('node -e 0', samples.node);
  const none = line('no compile cache', samples.none);
  const cold = line('compile cache, first run', samples.cold);
  const warm = line('compile cache, later runs', samples.warm);
  console.log(`  CPU ratio later runs / no cache  : ${fmt(warm / none, 2)}×`);
  console.log(`  CPU ratio first run / no cache   : ${fmt(cold / none, 2)}×`);
  console.log(`  above node -e 0, later / none    : ${fmt((warm - node) / (none - node), 2)}×`);
}

await main();
