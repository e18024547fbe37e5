// `npm run soak`: the chaos soak of issue 12 (bench/soak/harness.ts; docs/soak.md). Ten minutes
// by default; SOAK_MINUTES (or --minutes) changes it, SOAK_SEED (or --seed) the schedule.
// Prints the report; with --record, also puts it in bench/RESULTS.md. Exits 1 when the run shows
// a wrong admission, a crash, an unexplained denial or RSS beyond its bound.
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runSoak } from './soak/harness.js';
import { failures, markdown, recordIn, RSS_HEADROOM_KIB } from './soak/report.js';

const { values } = parseArgs({ options: { record: { type: 'boolean', default: false }, minutes: { type: 'string' }, seed: { type: 'string' } } });
const minutes = Number(values.minutes ?? process.env.SOAK_MINUTES ?? 10);
const seed = Number(values.seed ?? process.env.SOAK_SEED ?? 1);
const decisionLog = path.join(os.tmpdir(), `trustgate-soak-decisions-${process.pid}.jsonl`);
const abort = new AbortController();
// Ctrl-C: stop the load and the schedule, then clean up every process the harness started.
process.once('SIGINT', () => abort.abort());
process.once('SIGTERM', () => abort.abort());
const report = await runSoak({ minutes, seed, log: (line) => console.error(`soak: ${line}`), decisionLog, signal: abort.signal });
const text = markdown(report);
console.log(text);
console.error(`soak: every decision in ${decisionLog}`);
const problems = failures(report, RSS_HEADROOM_KIB);
if (values.record) {
  const file = path.resolve('bench/RESULTS.md');
  recordIn(file, `## Chaos soak (\`npm run soak\`, issue 12)\n\nWhat it runs and proves: docs/soak.md. Real figures of one run on the shared two-core machine; the replicas' V8 heap sized as in the chart's 256 Mi pod (POD_HEAP_NODE_OPTIONS).\n\n${text}`);
  console.error(`soak: recorded in ${file}`);
}
if (problems.length) {
  console.error(`soak: FAILED: ${problems.join('; ')}`);
  process.exitCode = 1;
}
