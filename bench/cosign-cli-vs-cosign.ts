// `trustgate verify --kind cosign` beside `cosign verify` (the reference tool, v3.1.3, offline:
// fresh HOME and TUF_ROOT, no log) for the same image, both as whole processes, alternating in
// one run (issue 10: trustgate's wall time ≤ cosign's). One image per format: a legacy `.sig`
// tag on Debian's docker-registry and a v3 bundle referrer on the referrers registry.
//   npm run bench   (or: node dist/bench/cosign-cli-vs-cosign.js)
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Cosign, registryFlags, type CosignFormat } from '../test/support/cosign.js';
import { run, type RunResult } from '../test/support/processes.js';
import { pushImage, startDockerRegistry, startReferrersRegistry, type RegistryServer } from '../test/support/registries.js';
import { fmt, summarise } from './stats.js';

const CLI = path.resolve('dist/cmd/trustgate.js');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);

async function time(fn: () => Promise<RunResult>): Promise<number> {
  const t = performance.now();
  const r = await fn();
  if (r.code !== 0) throw new Error(`benchmark command failed (${r.code}): ${r.stdout}\n${r.stderr}`);
  return performance.now() - t;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-cosign-cli-'));
  const registries: RegistryServer[] = [];
  try {
    const signer = Cosign.create(path.join(dir, 'signer'));
    const key = await signer.generateKeyPair('bench');
    registries.push(await startDockerRegistry(dir), await startReferrersRegistry(dir));
    const cases: [CosignFormat, RegistryServer][] = [['legacy', registries[0]!], ['bundle', registries[1]!]];
    console.log(`cold verification as a command: trustgate verify --kind cosign vs cosign verify (keyed, no log; ${ROUNDS} rounds, alternating; Node ${process.versions.node})`);
    for (const [format, registry] of cases) {
      const image = await pushImage(registry, `bench/${format}`, '1.0', `bench ${format}`, dir);
      await signer.sign(image.ref, key, format, registry);
      const insecure = registry.caCert ? ['--registry-ca-file', registry.caCert] : ['--insecure-registry'];
      const ours = () => run(process.execPath, [CLI, 'verify', image.tagged, '--kind', 'cosign', '--key', key.pub, '--insecure-ignore-tlog', ...insecure]);
      const theirs = async () => {
        // A fresh HOME and TUF_ROOT each time: cold, and never reaching for the network.
        const cosign = Cosign.create(mkdtempSync(path.join(dir, 'cosign-')));
        const t = performance.now();
        const r = await cosign.run(['verify', '--key', key.pub, '--insecure-ignore-tlog=true', ...registryFlags(registry), image.tagged]);
        const ms = performance.now() - t;
        rmSync(cosign.dir, { recursive: true, force: true });
        if (r.code !== 0) throw new Error(`cosign verify failed: ${r.stderr}`);
        return ms;
      };
      await ours(); // both once before measuring: the page cache holds both binaries
      await theirs();
      const a: number[] = [];
      const b: number[] = [];
      const n: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        if (i % 2 === 0) {
          a.push(await time(ours));
          b.push(await theirs());
        } else {
          b.push(await theirs());
          a.push(await time(ours));
        }
        n.push(await time(() => run(process.execPath, ['-e', '0'])));
      }
      const x = summarise(a);
      const y = summarise(b);
      const z = summarise(n);
      console.log(`  ${format} (${registry.kind})`);
      console.log(`    trustgate verify : median ${fmt(x.median)} ms  p90 ${fmt(x.p90)} ms`);
      console.log(`    cosign verify    : median ${fmt(y.median)} ms  p90 ${fmt(y.p90)} ms`);
      console.log(`    node -e 0        : median ${fmt(z.median)} ms  (process start-up alone)`);
      console.log(`    ratio trustgate / cosign : ${fmt(x.median / y.median, 2)}×  (goal ≤ 1: ${x.median <= y.median ? 'met' : 'NOT met'})`);
    }
  } finally {
    for (const r of registries) await r.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
