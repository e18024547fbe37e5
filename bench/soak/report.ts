// The soak's report as Markdown, and its section of bench/RESULTS.md (replaced between markers,
// appended the first time).
import { readFileSync, writeFileSync } from 'node:fs';
import type { SoakReport } from './harness.js';
import { PHASES } from './schedule.js';
import { CHART_MEMORY_LIMIT_KIB } from '../../test/support/serve-process.js';

/**
 * RSS a replica may add beyond its caches between the start of the load and its end: V8 sizes
 * its heap to the load it sees (new-space semi-spaces, old-space growth ahead of the next
 * collection), TLS session and socket buffers grow with the API server's connections. Measured
 * across runs in docs/soak.md ("RSS"); growth beyond this is what a leak looks like.
 */
export const RSS_HEADROOM_KIB = 64 * 1024;

const BEGIN = '<!-- soak:begin -->';
const END = '<!-- soak:end -->';

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : '–');
const mib = (kib: number) => (kib / 1024).toFixed(1);

/**
 * Replicas that ran throughout and ended beyond their start + cache bound + headroom, and any
 * replica whose peak passed the chart's memory limit (the replicas run with the pod's heap
 * sizing, POD_HEAP_NODE_OPTIONS: in a pod that peak would be an OOM kill).
 */
export function rssProblems(report: SoakReport, rssHeadroomKiB: number): string[] {
  const growth = report.replicas.filter((r) => !r.restarted).flatMap((r) => {
    const bound = r.rssStartKiB + report.cacheMaxBytes / 1024 + rssHeadroomKiB;
    return r.rssEndKiB > bound ? [`${r.name}: RSS ${mib(r.rssEndKiB)} MiB at the end, beyond ${mib(bound)} MiB (start + cache bound + headroom)`] : [];
  });
  const peak = report.replicas.flatMap((r) => (r.rssPeakKiB > CHART_MEMORY_LIMIT_KIB ? [`${r.name}: RSS peaked at ${mib(r.rssPeakKiB)} MiB, beyond the chart's ${mib(CHART_MEMORY_LIMIT_KIB)} MiB limit`] : []));
  return [...growth, ...peak];
}

/** What the soak must show: no wrong admission, no crash, no unexplained denial, RSS within bounds. */
export function failures(report: SoakReport, rssHeadroomKiB: number): string[] {
  const out: string[] = [];
  if (report.verdicts['wrong-admission'] > 0) out.push(`${report.verdicts['wrong-admission']} wrong admissions`);
  if (report.crashes.length > 0) out.push(`${report.crashes.length} crashes`);
  if (report.verdicts['unexplained-denial'] > 0) out.push(`${report.verdicts['unexplained-denial']} unexplained denials`);
  return [...out, ...rssProblems(report, rssHeadroomKiB)];
}

export function markdown(report: SoakReport, when = new Date()): string {
  const v = report.verdicts;
  const lines = [
    `### ${report.minutes} minute${report.minutes === 1 ? '' : 's'}, seed ${report.seed} (${when.toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
    '',
    `Load for ${(report.durationMs / 60_000).toFixed(1)} min; ${report.faults.length} faults, ${report.signings} signings during the run.`,
    '',
    '| | |',
    '| --- | --- |',
    `| reviews | ${report.reviews} |`,
    `| admitted (of which on a stale answer) | ${v.admitted} (${report.staleAdmissions}) |`,
    `| refused, as the oracle requires | ${v.refused} |`,
    `| **wrong admissions** | **${v['wrong-admission']}** |`,
    `| denials explained by a fault or rule | ${v['explained-denial']} (${Object.entries(report.explained).map(([k, n]) => `${k}: ${n}`).join(', ') || 'none'}) |`,
    `| **unexplained denials** | **${v['unexplained-denial']}** |`,
    `| not reviewed (API server unavailable) | ${v.unavailable} |`,
    `| **crashes** | **${report.crashes.length}** |`,
    `| balancer connections per replica (none placed) | ${report.balancer.connections.join(' / ')} (${report.balancer.refused}) |`,
    '',
    '| phase | reviews | p50 ms | p99 ms |',
    '| --- | --- | --- | --- |',
    ...PHASES.map((p) => `| ${p} | ${report.phases[p].reviews} | ${ms(report.phases[p].p50Ms)} | ${ms(report.phases[p].p99Ms)} |`),
    '',
    '| replica | RSS start MiB | RSS end MiB | peak MiB | |',
    '| --- | --- | --- | --- | --- |',
    ...report.replicas.map((r) => `| ${r.name} | ${mib(r.rssStartKiB)} | ${mib(r.rssEndKiB)} | ${mib(r.rssPeakKiB)} | ${r.restarted ? 'killed and restarted by the schedule: start is the first process, end the last' : 'ran throughout'} |`),
    ...report.replicas.filter((r) => r.rssPerMinuteKiB.length > 1).map((r) => `\nRSS of ${r.name} once a minute (MiB): ${[r.rssStartKiB, ...r.rssPerMinuteKiB].map(mib).join(' → ')}${r.restarted ? ' (restarted along the way)' : ''}.`),
    '',
    `Faults (seconds into the load, how long the action took): ${report.faults.map((f) => `${f.kind} @${(f.atMs / 1000).toFixed(0)}s (${(f.tookMs / 1000).toFixed(1)}s)`).join(', ')}.`,
  ];
  if (report.wrongAdmissions.length) lines.push('', 'Wrong admissions:', ...report.wrongAdmissions.map((w) => `- ${w.phase}: ${w.why}`));
  if (report.unexplainedDenials.length) lines.push('', 'Unexplained denials:', ...report.unexplainedDenials.map((w) => `- ${w.phase}: ${w.why.slice(0, 300)}`));
  if (report.crashes.length) lines.push('', 'Crashes:', ...report.crashes.map((c) => `- ${c.name}: code ${String(c.code)}, signal ${String(c.signal)}`));
  if (report.unavailableSamples.length) lines.push('', 'Not reviewed, examples:', ...report.unavailableSamples.slice(0, 5).map((s) => `- ${s}`));
  return lines.join('\n');
}

/** Puts `section` between the soak markers of bench/RESULTS.md, appending them the first time. */
export function recordIn(file: string, section: string): void {
  const text = readFileSync(file, 'utf8');
  const block = `${BEGIN}\n${section}\n${END}`;
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  const next = start >= 0 && end > start ? `${text.slice(0, start)}${block}${text.slice(end + END.length)}` : `${text.replace(/\n*$/, '\n')}\n${block}\n`;
  writeFileSync(file, next);
}
