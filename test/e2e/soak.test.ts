// The chaos soak of issue 12, short: the harness of `npm run soak` (bench/soak/harness.ts) for
// SOAK_MINUTES (default 1) — two `trustgate serve` replicas behind a balancer as the webhooks of
// a real kube-apiserver, against Debian's notary-server and registry, a seeded load of pods and
// Deployments, while the schedule kills and restarts notary-server, the registry, the API server
// and a replica, rotates the serving certificate and changes a policy. The oracle
// (bench/soak/oracle.ts, its rules checked in test/unit/support/soak-oracle.test.ts) judges every
// decision. What the soak proves and how to read its figures: docs/soak.md.
import { runSoak, type SoakReport } from '../../bench/soak/harness.js';
import { rssProblems, RSS_HEADROOM_KIB } from '../../bench/soak/report.js';
import { FAULT_KINDS, PHASES } from '../../bench/soak/schedule.js';

let report: SoakReport;

beforeAll(async () => {
  report = await runSoak({ minutes: Number(process.env.SOAK_MINUTES ?? 1), seed: Number(process.env.SOAK_SEED ?? 1) });
});

it('ran the whole schedule under load: every fault happened, every phase saw reviews, some refused', () => {
  expect(new Set(report.faults.map((f) => f.kind))).toEqual(new Set(FAULT_KINDS));
  for (const phase of PHASES) expect([phase, report.phases[phase].reviews > 0]).toEqual([phase, true]);
  expect(report.verdicts.refused).toBeGreaterThan(0);
  expect(report.verdicts.admitted).toBeGreaterThan(0);
  expect(report.signings).toBeGreaterThan(0);
});

it('admits nothing the oracle says must be refused', () => {
  expect(report.wrongAdmissions).toEqual([]);
  expect(report.verdicts['wrong-admission']).toBe(0);
});

it('refuses what should pass only when a fault, a re-signing the replicas disagree on or a policy change explains it', () => {
  // Zero, not a bound: every denial the schedule can cause has its rule in the oracle.
  expect(report.unexplainedDenials).toEqual([]);
  expect(report.verdicts['unexplained-denial']).toBe(0);
});

it('no replica crashes, and the one that ran throughout stays within its cache bound plus headroom', () => {
  expect(report.crashes).toEqual([]);
  expect(report.replicas.filter((r) => !r.restarted).length).toBeGreaterThan(0);
  expect(rssProblems(report, RSS_HEADROOM_KIB)).toEqual([]);
});
