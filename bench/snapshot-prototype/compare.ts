// The start-up snapshot prototype (build.sh) beside today's CLI and `cosign verify`, for the
// same images as bench/cosign-cli-vs-cosign.ts: every contender once per round, the order
// rotating each round, wall and CPU time (user + system) of each whole process (rusage.py).
//   bash bench/snapshot-prototype/build.sh && node dist/bench/snapshot-prototype/compare.js
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cosign, registryFlags, type CosignFormat } from '../../test/support/cosign.js';
import { run } from '../../test/support/processes.js';
import { pushImage, startDockerRegistry, startReferrersRegistry, type RegistryServer } from '../../test/support/registries.js';
import { fmt, summarise } from '../stats.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const RUSAGE = path.resolve('bench/snapshot-prototype/rusage.py');
const BUILT = path.resolve('dist/snapshot-prototype');
// What a `trustgate` bin that is a shell script would do: exec node with the blob and the bundle.
const LAUNCH = 'node=$0 blob=$1 bundle=$2; shift 2; exec "$node" --snapshot-blob "$blob" "$bundle" "$@"';

interface Sample {
  wallMs: number;
  cpuMs: number;
}

const load = () => execFileSync('uptime', { encoding: 'utf8' }).replace(/.*load average: /, '').trim();

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-snapshot-'));
  const registries: RegistryServer[] = [];
  const marks = path.join(dir, 'rusage');
  const time = async (file: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Sample> => {
    const r = await run('python3', [RUSAGE, marks, file, ...args], options);
    if (r.code !== 0) throw new Error(`benchmark command failed (${r.code}): ${r.stdout}\n${r.stderr}`);
    const [wallMs = NaN, cpuMs = NaN] = readFileSync(marks, 'utf8').trim().split(' ').map(Number);
    return { wallMs, cpuMs };
  };
  try {
    const signer = Cosign.create(path.join(dir, 'signer'));
    const key = await signer.generateKeyPair('bench');
    registries.push(await startDockerRegistry(dir), await startReferrersRegistry(dir));
    const cases: [CosignFormat, RegistryServer][] = [['legacy', registries[0]!], ['bundle', registries[1]!]];
    console.log(`trustgate verify --kind cosign: today's CLI, bundled, from a start-up snapshot; cosign verify (${ROUNDS} rounds, rotating; Node ${process.versions.node})`);
    for (const [format, registry] of cases) {
      const image = await pushImage(registry, `bench/${format}`, '1.0', `bench ${format}`, dir);
      await signer.sign(image.ref, key, format, registry);
      const args = ['verify', image.tagged, '--kind', 'cosign', '--key', key.pub, '--insecure-ignore-tlog', '--insecure-registry'];
      const snapshot = (blob: string) => () => time('/bin/sh', ['-c', LAUNCH, process.execPath, path.join(BUILT, blob), path.join(BUILT, 'trustgate.cjs'), ...args]);
      const contenders: Record<string, () => Promise<Sample>> = {
        'today (dist/cmd/trustgate.js)': () => time(process.execPath, [path.resolve('dist/cmd/trustgate.js'), ...args]),
        'bundle (node trustgate.cjs)': () => time(process.execPath, [path.join(BUILT, 'trustgate.cjs'), ...args]),
        'snapshot, warmed up': snapshot('trustgate.blob'),
        'snapshot, no warm-up': snapshot('no-warm-up.blob'),
        'cosign verify': async () => {
          // A fresh HOME and TUF_ROOT each time, as in bench/cosign-cli-vs-cosign.ts.
          const cosign = Cosign.create(mkdtempSync(path.join(dir, 'cosign-')));
          const home = path.join(cosign.dir, 'home');
          const env = { HOME: home, TUF_ROOT: path.join(cosign.dir, 'tuf'), DOCKER_CONFIG: path.join(home, '.docker'), COSIGN_PASSWORD: '', COSIGN_EXPERIMENTAL: '' };
          const sample = await time(cosign.bin, ['verify', '--key', key.pub, '--insecure-ignore-tlog=true', ...registryFlags(registry), image.tagged], { env, cwd: cosign.dir });
          rmSync(cosign.dir, { recursive: true, force: true });
          return sample;
        },
        'node -e 0': () => time(process.execPath, ['-e', '0']),
      };
      const names = Object.keys(contenders);
      for (const name of names) await contenders[name]!(); // the page cache holds every binary and blob
      const samples = new Map<string, Sample[]>(names.map((n) => [n, []]));
      const before = load();
      for (let i = 0; i < ROUNDS; i++) {
        for (let j = 0; j < names.length; j++) {
          const name = names[(i + j) % names.length]!;
          samples.get(name)!.push(await contenders[name]!());
        }
      }
      const cosignWall = summarise(samples.get('cosign verify')!.map((s) => s.wallMs)).median;
      const cosignCpu = summarise(samples.get('cosign verify')!.map((s) => s.cpuMs)).median;
      console.log(`  ${format} (${registry.kind}); load before ${before}, after ${load()}`);
      for (const [name, xs] of samples) {
        const wall = summarise(xs.map((s) => s.wallMs));
        const cpu = summarise(xs.map((s) => s.cpuMs));
        console.log(`    ${name.padEnd(30)} wall median ${fmt(wall.median).padStart(6)} ms (${fmt(wall.median / cosignWall, 2)}×)  p90 ${fmt(wall.p90).padStart(6)}  CPU median ${fmt(cpu.median).padStart(5)} ms (${fmt(cpu.median / cosignCpu, 2)}×)`);
      }
    }
  } finally {
    for (const r of registries) await r.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
