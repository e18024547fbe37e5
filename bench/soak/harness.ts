// The chaos soak (issue 12): `trustgate serve` as two replicas behind a round-robin balancer,
// registered as the webhooks of a real kube-apiserver, against Debian's notary-server (on
// PostgreSQL) and docker-registry (on disk). A seeded load of pods and Deployments goes through
// the API server (server-side dry runs: the whole admission chain, webhooks included, nothing
// stored) while the schedule (schedule.ts) kills and restarts notary-server, the registry, the
// API server and a replica, rotates the serving certificate and changes a policy. The oracle
// (oracle.ts) judges every decision. Everything runs on loopback and is stopped at the end,
// also when the run fails or is interrupted.
import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { Balancer } from '../../test/support/balancer.js';
import { ControlPlane } from '../../test/support/control-plane.js';
import { eventually } from '../../test/support/eventually.js';
import { freePort, runOk } from '../../test/support/processes.js';
import { review, workload } from '../../test/support/reviews.js';
import { POD_HEAP_NODE_OPTIONS, ServeProcess } from '../../test/support/serve-process.js';
import { TrustStack, type PushedImage } from '../../test/support/stack.js';
import { Oracle, type Judgement, type Outcome, type Verdict } from './oracle.js';
import { outcomeOf } from './outcome.js';
import { makeSchedule, PHASES, rng, type FaultKind, type Phase, type ScheduledEvent } from './schedule.js';

export interface SoakOptions {
  readonly minutes: number;
  readonly seed: number;
  /** Progress lines (set-up steps, faults); default: none. */
  readonly log?: (line: string) => void;
  /** Every decision as a JSON line, appended to this file. */
  readonly decisionLog?: string;
  /** Aborting stops the load and the schedule early; the report covers what ran. */
  readonly signal?: AbortSignal;
}

export interface ReplicaReport {
  readonly name: string;
  readonly pid: number;
  /** Killed by the schedule (or crashed) at some point: its RSS is that of the last process. */
  readonly restarted: boolean;
  readonly rssStartKiB: number;
  readonly rssEndKiB: number;
  readonly rssPeakKiB: number;
  /** VmRSS once a minute from the start of the load (the last process's, after a restart). */
  readonly rssPerMinuteKiB: readonly number[];
}

export interface SoakReport {
  readonly minutes: number;
  readonly seed: number;
  readonly durationMs: number;
  /** Decisions made (by trustgate, or by the API server failing to call it). */
  readonly reviews: number;
  readonly verdicts: Readonly<Record<Verdict, number>>;
  /** Explained denials by what explains them. */
  readonly explained: Readonly<Record<string, number>>;
  readonly staleAdmissions: number;
  /** Up to 20 examples each. */
  readonly wrongAdmissions: readonly { phase: Phase; why: string }[];
  readonly unexplainedDenials: readonly { phase: Phase; why: string }[];
  readonly unavailableSamples: readonly string[];
  readonly phases: Readonly<Record<Phase, { reviews: number; p50Ms: number; p99Ms: number }>>;
  readonly faults: readonly { kind: FaultKind; atMs: number; tookMs: number }[];
  readonly signings: number;
  readonly crashes: readonly { name: string; code: number | null; signal: string | null }[];
  readonly replicas: readonly ReplicaReport[];
  /** Connections the balancer gave each replica, and those it could place nowhere. */
  readonly balancer: { readonly connections: readonly number[]; readonly refused: number };
  /** The replicas' cache bound (cache.maxBytes), for the RSS check. */
  readonly cacheMaxBytes: number;
}

/** The replicas' cache settings: short, so that refreshes, and so stale answers, happen within a minute. */
export const CACHE = { maxTtlSeconds: 5, negativeTtlSeconds: 2, maxBytes: 16 * 1024 * 1024, maxEntries: 10_000 } as const;
const TIMINGS = { maxTtlMs: CACHE.maxTtlSeconds * 1000, recoveryMs: 8_000, policyMs: 10_000 };
const WORKERS = 3;
const BURST = 6;
const NAMESPACE = 'soak';
const EXAMPLES = 20;
/** Latency samples kept per phase: enough for two hours at the load's pace. */
const MAX_SAMPLES = 200_000;
/** RSS samples kept per replica, one a minute: the longest run allowed. */
const MAX_MINUTE_SAMPLES = 120;

interface Replica {
  readonly name: string;
  readonly config: string;
  proc: ServeProcess;
  /** The schedule (or the harness's clean-up) ends it: its exit is no crash. */
  ending: boolean;
  restarted: boolean;
  rssStart: number;
  rssPeak: number;
  rssPerMinute: number[];
}

/** VmRSS of a process in KiB (0 once it has gone). */
export function rssKiB(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const schedule = makeSchedule(options.minutes, options.seed);
  const log = options.log ?? (() => {});
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-soak-'));
  let cp: ControlPlane | undefined;
  let stack: TrustStack | undefined;
  let balancer: Balancer | undefined;
  const replicas: Replica[] = [];
  try {
    log('starting the control plane and the durable trust stack');
    const [plane, trust] = await Promise.allSettled([ControlPlane.start(), TrustStack.start({ durable: true })]);
    if (plane.status === 'fulfilled') cp = plane.value;
    if (trust.status === 'fulfilled') stack = trust.value;
    if (plane.status === 'rejected') throw plane.reason;
    if (trust.status === 'rejected') throw trust.reason;
    return await soak(cp!, stack!, dir, schedule, options, log, stop.signal, replicas, (b) => (balancer = b));
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    // Every step on its own: one failing must not leave the others' processes running.
    for (const r of replicas) r.ending = true;
    await Promise.allSettled([...replicas.map(async (r) => r.proc.kill()), (async () => balancer?.stop())()]);
    await Promise.allSettled([stack?.stop(), cp?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A new serving key and certificate for 127.0.0.1 from the stack's CA, put in place by rename. */
async function issueServingCert(dir: string, ca: { caCert: string; caKey: string }, cert: string, key: string): Promise<void> {
  const f = (n: string) => path.join(dir, n);
  const stamp = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  await runOk('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=trustgate-soak', '-keyout', f(`new-${stamp}.key`), '-out', f(`new-${stamp}.csr`)]);
  writeFileSync(f('serving.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  await runOk('openssl', ['x509', '-req', '-in', f(`new-${stamp}.csr`), '-CA', ca.caCert, '-CAkey', ca.caKey, '-CAcreateserial', '-days', '2', '-extfile', f('serving.ext'), '-out', f(`new-${stamp}.crt`)]);
  // Key then certificate: between the two renames the pair does not match, and trustgate keeps
  // serving the old one until both are in place (src/server/tls.ts).
  renameSync(f(`new-${stamp}.key`), key);
  renameSync(f(`new-${stamp}.crt`), cert);
}

async function soak(
  cp: ControlPlane,
  stack: TrustStack,
  dir: string,
  schedule: ReturnType<typeof makeSchedule>,
  options: SoakOptions,
  log: (line: string) => void,
  signal: AbortSignal,
  replicas: Replica[],
  setBalancer: (b: Balancer) => void,
): Promise<SoakReport> {
  const reg = stack.registry;
  const gun = (repo: string) => `${reg}/${repo}`;
  const caPem = readFileSync(stack.tls.caCert, 'utf8');
  const oracle = new Oracle(TIMINGS);

  log('pushing images, signing tags');
  const pushed: PushedImage[] = [];
  for (const [i, content] of ['soak: build a', 'soak: build b', 'soak: build c', 'soak: rogue build'].entries()) {
    pushed.push(await stack.pushImage('soak/base', `d${i}`, content));
  }
  const [A, B, C, ROGUE] = pushed as [PushedImage, PushedImage, PushedImage, PushedImage];
  const sign = async (ref: string, image: PushedImage) => {
    const at = ref.lastIndexOf(':');
    const from = Date.now();
    await stack.sign(ref.slice(0, at), ref.slice(at + 1), image);
    oracle.signed(ref, image.digest, from, Date.now());
  };
  for (const repo of ['team/api', 'team/web', 'team/worker', 'frozen/legacy', 'attack/rooted']) await stack.init(gun(repo));
  const initial: [string, PushedImage][] = [
    ['team/api:1.0', A], ['team/api:1.1', B], ['team/api:1.2', C], ['team/web:1.0', A], ['team/web:2.0', B],
    ['team/worker:1.0', C], ['frozen/legacy:1.0', A], ['attack/rooted:1.0', A],
  ];
  for (const [ref, image] of initial) await sign(gun(ref), image);

  // The replicas: their own serving certificate (rotated by the schedule), policies from the
  // API server, the shared trust state in TrustRecords, short cache lifetimes.
  const cert = path.join(dir, 'serving.crt');
  const key = path.join(dir, 'serving.key');
  await issueServingCert(dir, stack.tls, cert, key);
  const ports = [await freePort(), await freePort()];
  const balancer = await Balancer.start({ backends: ports, lifetimeMs: schedule.totalMs + 3_600_000 });
  setBalancer(balancer);
  log('installing the chart (webhooks → balancer), the policy, the enforced namespace');
  await cp.installChart({
    port: balancer.port,
    caPem,
    policies: [{ name: 'soak-signed', spec: { images: [`${reg}/**`], trust: { server: stack.notaryUrl, caBundle: caPem, trustOnFirstUse: true } } }],
  });
  await cp.kubectlOk(['create', 'namespace', NAMESPACE]);
  await cp.kubectlOk(['label', 'namespace', NAMESPACE, 'trustgate.dev/enforce=true']);

  const crashes: { name: string; code: number | null; signal: string | null }[] = [];
  const startReplica = async (r: Pick<Replica, 'name' | 'config'>): Promise<ServeProcess> => {
    // Heap sized as in the chart's pod: RSS is then what a replica would hold there.
    const proc = await ServeProcess.start(r.config, stack.tls.caCert, false, { NODE_OPTIONS: POD_HEAP_NODE_OPTIONS });
    await proc.waitReady(60_000);
    return proc;
  };
  const watch = (r: Replica) =>
    r.proc.onExit((code, sig) => {
      if (!r.ending) crashes.push({ name: r.name, code, signal: sig });
    });
  for (const [i, port] of ports.entries()) {
    const config = path.join(dir, `replica-${i}.yaml`);
    writeFileSync(config, `listen: "127.0.0.1:${port}"
tls: {certFile: ${cert}, keyFile: ${key}, reloadIntervalSeconds: 1}
kubernetes: {kubeconfig: ${cp.kubeconfig}, pullSecrets: false}
trustState: {store: kubernetes, namespace: trustgate}
cache: {maxTtlSeconds: ${CACHE.maxTtlSeconds}, negativeTtlSeconds: ${CACHE.negativeTtlSeconds}, maxBytes: ${CACHE.maxBytes}, maxEntries: ${CACHE.maxEntries}}
defaultAction: deny
`);
    const r: Replica = { name: `replica-${'ab'[i]}`, config, proc: undefined as unknown as ServeProcess, ending: false, restarted: false, rssStart: 0, rssPeak: 0, rssPerMinute: [] };
    r.proc = await startReplica(r); // a replica that fails to start kills itself (ServeProcess.start)
    replicas.push(r);
    watch(r);
  }

  // Requests to the API server as its admin, kept alive as kubectl would not (fewer handshakes
  // on a shared two-core machine).
  const pki = path.join(cp.dir, 'pki');
  const agent = new https.Agent({ keepAlive: true, maxSockets: 16, ca: readFileSync(path.join(pki, 'ca.crt')), cert: readFileSync(path.join(pki, 'admin.crt')), key: readFileSync(path.join(pki, 'admin.key')) });
  const create = (kind: 'Pod' | 'Deployment', images: readonly string[]): Promise<Outcome> => {
    const containers = images.map((image, i) => ({ name: `c${i}`, image }));
    const body = kind === 'Pod'
      ? { apiVersion: 'v1', kind, metadata: { generateName: 'soak-' }, spec: { containers } }
      : { apiVersion: 'apps/v1', kind, metadata: { generateName: 'soak-' }, spec: { replicas: 1, selector: { matchLabels: { app: 'soak' } }, template: { metadata: { labels: { app: 'soak' } }, spec: { containers } } } };
    const url = `${cp.apiserverUrl}${kind === 'Pod' ? '/api/v1' : '/apis/apps/v1'}/namespaces/${NAMESPACE}/${kind === 'Pod' ? 'pods' : 'deployments'}?dryRun=All`;
    return new Promise((resolve) => {
      const req = https.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json' }, timeout: 45_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => resolve({ result: 'unavailable', message: e.message }));
        res.on('end', () => resolve(outcomeOf(res.statusCode ?? 0, Buffer.concat(chunks).toString(), res.headers.warning, kind)));
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 45 s')));
      req.on('error', (e) => resolve({ result: 'unavailable', message: e.message }));
      req.end(JSON.stringify(body));
    });
  };

  // Tallies.
  const verdicts: Record<Verdict, number> = { 'admitted': 0, 'refused': 0, 'wrong-admission': 0, 'explained-denial': 0, 'unexplained-denial': 0, 'unavailable': 0 };
  const explained: Record<string, number> = {};
  const wrong: { phase: Phase; why: string }[] = [];
  const unexplained: { phase: Phase; why: string }[] = [];
  const unavailableSamples: string[] = [];
  const latencies = Object.fromEntries(PHASES.map((p) => [p, [] as number[]])) as Record<Phase, number[]>;
  let staleAdmissions = 0;
  const record = (kind: string, images: readonly string[], t0: number, t1: number, outcome: Outcome, j: Judgement) => {
    verdicts[j.verdict]++;
    if (outcome.stale) staleAdmissions++;
    if (j.verdict === 'explained-denial') explained[j.why ?? ''] = (explained[j.why ?? ''] ?? 0) + 1;
    if (j.verdict === 'wrong-admission' && wrong.length < EXAMPLES) wrong.push({ phase: j.phase, why: j.why ?? '' });
    if (j.verdict === 'unexplained-denial' && unexplained.length < EXAMPLES) unexplained.push({ phase: j.phase, why: j.why ?? '' });
    if (j.verdict === 'unavailable' && unavailableSamples.length < EXAMPLES) unavailableSamples.push(`${j.phase}: ${(j.why ?? '').slice(0, 200)}`);
    if (j.verdict !== 'unavailable' && latencies[j.phase].length < MAX_SAMPLES) latencies[j.phase].push(t1 - t0);
    if (options.decisionLog) {
      appendFileSync(options.decisionLog, `${JSON.stringify({ t0, ms: t1 - t0, kind, images, result: outcome.result, by: outcome.by, admittedAs: outcome.images, stale: outcome.stale, verdict: j.verdict, phase: j.phase, why: j.why ?? outcome.message })}\n`);
    }
  };
  const decide = async (kind: 'Pod' | 'Deployment', images: readonly string[]) => {
    const t0 = Date.now();
    const outcome = await create(kind, images);
    const t1 = Date.now();
    const j = oracle.judge(images, t0, t1, outcome);
    record(kind, images, t0, t1, outcome, j);
    return outcome;
  };

  // The images of the mix.
  const signedRefs = ['team/api:1.0', 'team/api:1.1', 'team/api:1.2', 'team/web:1.0', 'team/web:2.0', 'team/worker:1.0', 'frozen/legacy:1.0'].map(gun);
  const pinnedRefs = [`${gun('team/api:1.1')}@${B.digest}`, `${gun('team/web:2.0')}@${B.digest}`];
  const unsignedRefs = [gun('team/api:edge'), gun('unsigned/tool:1.0')];
  const attackRefs = [gun('attack/rooted:1.0'), `${gun('team/api:1.1')}@${ROGUE.digest}`, `${gun('team/api')}@${ROGUE.digest}`, 'other.example/tools/debug:1.0'];
  const firstRefs = Array.from({ length: schedule.firstSignings }, (_, k) => gun(`team/web:new-${k + 1}`));

  log('warming up: every signed image admitted once through the API server');
  for (const ref of [...signedRefs, gun('attack/rooted:1.0')]) {
    const t0 = Date.now();
    const outcome = await eventually(() => create('Pod', [ref]), (o) => o.result === 'admitted', `warm-up admission of ${ref}`, 60_000);
    // Judged (not counted): the oracle learns that the cluster has verified it.
    oracle.judge([ref], t0, Date.now(), outcome);
  }
  // The attack on attack/rooted: its root, trusted on first use during the warm-up, replaced —
  // the repository deleted and initialised again, a rogue build signed with the new root. Both
  // replicas must refuse it (the other through the shared TrustRecord) before the load starts.
  await stack.notaryOk(['delete', gun('attack/rooted'), '--remote']);
  await stack.init(gun('attack/rooted'));
  await stack.sign(gun('attack/rooted'), '1.0', ROGUE);
  const direct = (r: Replica) => r.proc.review('mutate', review('Pod', workload('Pod', 'probe', { containers: [{ name: 'app', image: gun('attack/rooted:1.0') }] }), { namespace: NAMESPACE }));
  for (const r of replicas) await eventually(() => direct(r), (a) => !a.allowed, `${r.name} refusing the replaced root`, 60_000);
  for (const ref of attackRefs) oracle.attack(ref);
  for (const r of replicas) {
    r.rssStart = rssKiB(r.proc.pid);
    r.rssPeak = r.rssStart;
  }

  // The load: a few workers, each drawing from its own seeded sequence. `halt` ends the load
  // and the schedule: on the caller's abort, or when the schedule fails.
  const halt = new AbortController();
  const onStop = () => halt.abort();
  if (signal.aborted) halt.abort();
  signal.addEventListener('abort', onStop, { once: true });
  const loadStart = Date.now();
  log(`load and faults for ${(schedule.totalMs / 60_000).toFixed(2)} min (seed ${options.seed})`);
  let controlDone = false;
  const pick = <T>(random: () => number, list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const maxOpsPerWorker = Math.ceil(schedule.totalMs / 10) + 1000; // never more than one every 10 ms
  const worker = async (w: number) => {
    const random = rng((options.seed + 1) * 7919 + w);
    const pool = [...signedRefs, ...signedRefs, ...signedRefs, ...pinnedRefs, ...unsignedRefs, ...attackRefs, ...firstRefs];
    for (let ops = 0; ops < maxOpsPerWorker && !halt.signal.aborted && (Date.now() - loadStart < schedule.totalMs || !controlDone); ops++) {
      const r = random();
      if (r < 0.55) await decide('Pod', [pick(random, pool)]);
      else if (r < 0.7) await decide('Pod', [pick(random, pool), pick(random, pool)]);
      else if (r < 0.9) await decide('Deployment', [pick(random, pool)]);
      else {
        const image = pick(random, signedRefs);
        await Promise.all(Array.from({ length: BURST }, () => decide('Pod', [image])));
      }
      await sleep(50 + random() * 100, halt.signal);
    }
  };

  // The schedule, one event after another.
  const faults: { kind: FaultKind; atMs: number; tookMs: number }[] = [];
  let resigns = 0;
  let firsts = 0;
  let frozenDenied = false;
  const killedIndex = schedule.killedReplica;
  const frozenPolicy = `apiVersion: trustgate.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: soak-frozen}
spec:
  images: ["${reg}/frozen/**"]
  action: deny
`;
  const restartCrashed = async () => {
    for (const r of replicas) {
      if (!r.proc.exit || r.ending) continue;
      r.proc = await startReplica(r);
      r.restarted = true;
      watch(r);
    }
  };
  const runEvent = async (event: ScheduledEvent) => {
    if (event.type === 'sign') {
      if (event.kind === 'resign') {
        resigns++;
        await sign(gun('team/api:1.0'), [B, C, A][(resigns - 1) % 3]!);
      } else if (firsts < firstRefs.length) {
        await sign(firstRefs[firsts]!, [A, B, C][firsts % 3]!);
        firsts++;
      }
      return;
    }
    const began = Date.now();
    log(`+${((began - loadStart) / 1000).toFixed(1)}s ${event.kind}${event.durationMs ? ` for ${(event.durationMs / 1000).toFixed(1)}s` : ''}`);
    switch (event.kind) {
      case 'notary-down':
        // Started before the kill (a review in flight may already see the connection reset),
        // down once notary-server and its signer have exited.
        oracle.faultStarted(event.kind, Date.now());
        await stack.stopNotary({ kill: true });
        oracle.partDown(event.kind, Date.now());
        await sleep(event.durationMs, halt.signal);
        oracle.faultEnded(event.kind, Date.now());
        await stack.startNotary();
        break;
      case 'registry-down':
        oracle.faultStarted(event.kind, Date.now());
        await stack.stopRegistry({ kill: true });
        oracle.partDown(event.kind, Date.now());
        await sleep(event.durationMs, halt.signal);
        oracle.faultEnded(event.kind, Date.now());
        await stack.startRegistry();
        break;
      case 'apiserver-restart':
        oracle.faultStarted(event.kind, Date.now());
        await cp.restartApiServer();
        oracle.faultEnded(event.kind, Date.now());
        break;
      case 'replica-killed': {
        const r = replicas[killedIndex]!;
        oracle.faultStarted(event.kind, Date.now());
        r.ending = true;
        await r.proc.kill();
        oracle.partDown(event.kind, Date.now());
        await sleep(event.durationMs, halt.signal);
        r.proc = await startReplica(r);
        r.ending = false;
        r.restarted = true;
        watch(r);
        oracle.faultEnded(event.kind, Date.now());
        break;
      }
      case 'cert-rotated':
        oracle.faultStarted(event.kind, Date.now());
        await issueServingCert(dir, stack.tls, cert, key);
        oracle.faultEnded(event.kind, Date.now());
        break;
      case 'policy-changed': {
        const at = Date.now();
        oracle.faultStarted(event.kind, at);
        if (frozenDenied) {
          oracle.liftDenyPolicy(`${reg}/frozen/`, at);
          await cp.kubectlOk(['delete', 'clusterimagepolicy', 'soak-frozen']);
        } else {
          oracle.denyPolicy(`${reg}/frozen/`, at);
          await cp.kubectlOk(['apply', '-f', '-'], frozenPolicy);
        }
        frozenDenied = !frozenDenied;
        oracle.faultEnded(event.kind, Date.now());
        break;
      }
    }
    faults.push({ kind: event.kind, atMs: began - loadStart, tookMs: Date.now() - began });
  };
  const control = async () => {
    try {
      for (const event of schedule.events) {
        if (halt.signal.aborted) break;
        await sleep(loadStart + event.at - Date.now(), halt.signal);
        if (halt.signal.aborted) break;
        await restartCrashed();
        await runEvent(event);
      }
    } catch (error) {
      halt.abort(); // a fault that cannot be undone (a part not coming back) ends the run
      throw error;
    } finally {
      controlDone = true;
    }
  };
  let samples = 0;
  const sampler = setInterval(() => {
    samples++;
    for (const r of replicas) {
      const rss = rssKiB(r.proc.pid);
      r.rssPeak = Math.max(r.rssPeak, rss);
      if (samples % 30 === 0 && r.rssPerMinute.length < MAX_MINUTE_SAMPLES) r.rssPerMinute.push(rss);
    }
  }, 2000);
  try {
    const results = await Promise.allSettled([control(), ...Array.from({ length: WORKERS }, (_, w) => worker(w))]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } finally {
    clearInterval(sampler);
    signal.removeEventListener('abort', onStop);
    agent.destroy();
  }
  const durationMs = Date.now() - loadStart;
  const replicaReports = replicas.map((r) => {
    const rssEnd = rssKiB(r.proc.pid);
    return { name: r.name, pid: r.proc.pid ?? 0, restarted: r.restarted, rssStartKiB: r.rssStart, rssEndKiB: rssEnd, rssPeakKiB: Math.max(r.rssPeak, rssEnd), rssPerMinuteKiB: r.rssPerMinute };
  });
  const pct = (xs: number[], q: number) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : NaN;
  };
  const phases = Object.fromEntries(PHASES.map((p) => [p, { reviews: latencies[p].length, p50Ms: pct(latencies[p], 0.5), p99Ms: pct(latencies[p], 0.99) }])) as SoakReport['phases'];
  return {
    minutes: options.minutes,
    seed: options.seed,
    durationMs,
    reviews: Object.entries(verdicts).reduce((n, [v, c]) => (v === 'unavailable' ? n : n + c), 0),
    verdicts,
    explained,
    staleAdmissions,
    wrongAdmissions: wrong,
    unexplainedDenials: unexplained,
    unavailableSamples,
    phases,
    faults,
    signings: resigns + firsts,
    crashes,
    replicas: replicaReports,
    balancer: { connections: ports.map((p) => balancer.connections.get(p) ?? 0), refused: balancer.refused },
    cacheMaxBytes: CACHE.maxBytes,
  };
}
