// The soak's oracle (issue 12): what trustgate must answer for an image at a given moment, from
// what the harness itself did — which digests a tag was signed to and when, which repositories
// are attacks, which policy was in force, which faults were active — and the judgement of each
// decision against it. Pure bookkeeping, no I/O: test/unit/support/soak-oracle.test.ts checks it.
//
// The rules it applies are trustgate's documented ones:
// - a signed tag is admitted pinned to its signed digest; after a re-signing, the previous
//   digest may still be pinned until the cached answer is refreshed (cache.maxTtlSeconds,
//   docs/adr/0004-cache-freshness.md);
// - a tag is admitted as soon as its first signing is published ("not signed yet" refusals are
//   never cached);
// - while the trust server or registry is down, an image verified before is admitted on its last
//   answer with a warning, one never verified is refused naming the outage (docs/adr/0014);
// - a ClusterImagePolicy change takes effect once the replicas' informers see it;
// - unsigned images, attack repositories, digests that were never signed and images a `deny`
//   policy covers are never admitted.
import type { FaultKind, Phase } from './schedule.js';

export interface OracleTimings {
  readonly maxTtlMs: number;
  /** After a part comes back: how long denials it caused may go on (retries, informer resync). */
  readonly recoveryMs: number;
  /** How long a policy change may take to reach both replicas. */
  readonly policyMs: number;
}

interface Signing {
  readonly digest: string;
  /** When the signing began (the notary CLI started) and when it was published. */
  readonly from: number;
  readonly published: number;
  /** When the next signing of the tag was published. */
  replacedAt?: number;
}

interface Window {
  readonly kind: FaultKind;
  /** The harness began the fault (a kill sent): answers from here on may show it. */
  readonly start: number;
  /** The part was seen gone (its process exited): nothing can be verified against it since. */
  down?: number;
  /** The part is back (or the change made); undefined while still down. */
  end?: number;
}

export interface Outcome {
  /** admitted, denied (by trustgate, or by the API server when calling the webhook failed), or no review happened. */
  readonly result: 'admitted' | 'denied' | 'unavailable';
  /** Who denied: trustgate's answer, or the API server failing to call it (failurePolicy: Fail). */
  readonly by?: 'trustgate' | 'webhook-failure';
  /** Pods: the images as admitted (pinned `…@sha256:…`), container by container. */
  readonly images?: readonly string[];
  /** The admission carried trustgate's stale-answer warning. */
  readonly stale?: boolean;
  readonly message?: string;
}

export type Verdict = 'admitted' | 'refused' | 'wrong-admission' | 'explained-denial' | 'unexplained-denial' | 'unavailable';

export interface Judgement {
  readonly verdict: Verdict;
  readonly phase: Phase;
  /** Why: the fault or rule explaining a denial, or what makes an admission wrong. */
  readonly why?: string;
}

type Expectation = 'admit' | 'refuse' | 'either';

export class Oracle {
  private readonly signings = new Map<string, Signing[]>();
  private readonly attacks = new Set<string>();
  /** When each `gun:tag` was first admitted: verified by the cluster (the stale rule). */
  private readonly firstAdmitted = new Map<string, number>();
  private readonly windows: Window[] = [];
  /** Periods during which `deny` policies covered a repository prefix. */
  private readonly denials: { prefix: string; on: number; off?: number }[] = [];

  constructor(private readonly t: OracleTimings) {}

  /** `gun:tag` signed to `digest`: began at `from`, published at `published`. */
  signed(ref: string, digest: string, from: number, published: number): void {
    const list = this.signings.get(ref) ?? [];
    const last = list.at(-1);
    // A cache may have verified the previous digest until the new one was published.
    if (last && last.replacedAt === undefined) last.replacedAt = published;
    list.push({ digest, from, published });
    this.signings.set(ref, list);
  }

  /** An image that must never be admitted, whatever its signatures say. */
  attack(ref: string): void {
    this.attacks.add(ref);
  }

  denyPolicy(prefix: string, on: number): void {
    this.denials.push({ prefix, on });
  }

  liftDenyPolicy(prefix: string, off: number): void {
    const open = this.denials.find((d) => d.prefix === prefix && d.off === undefined);
    if (open) open.off = off;
  }

  faultStarted(kind: FaultKind, at: number): void {
    this.windows.push({ kind, start: at });
  }

  /** The part of the open `kind` fault has exited. */
  partDown(kind: FaultKind, at: number): void {
    const open = this.windows.findLast((w) => w.kind === kind && w.end === undefined);
    if (open) open.down = at;
  }

  faultEnded(kind: FaultKind, at: number): void {
    const open = this.windows.findLast((w) => w.kind === kind && w.end === undefined);
    if (open) open.end = at;
  }

  /** The latest fault whose window (with its recovery) contains `at`, or normal. */
  phaseAt(at: number): Phase {
    return this.windows.findLast((w) => this.covers(w, at, at))?.kind ?? 'normal';
  }

  /** Whether window `w`, widened by its recovery, overlaps [t0, t1]. */
  private covers(w: Window, t0: number, t1: number): boolean {
    const grace = w.kind === 'policy-changed' ? this.t.policyMs : this.t.recoveryMs;
    return w.start <= t1 && (w.end === undefined || w.end + grace >= t0);
  }

  /** `ref` without a digest, and the digest it names (`…@sha256:…`), if any. */
  private static split(ref: string): { name: string; digest?: string } {
    const at = ref.indexOf('@');
    return at < 0 ? { name: ref } : { name: ref.slice(0, at), digest: ref.slice(at + 1) };
  }

  private expectation(ref: string, t0: number, t1: number): { expect: Expectation; why: string } {
    if (this.attacks.has(ref)) return { expect: 'refuse', why: 'attack' };
    const { name, digest } = Oracle.split(ref);
    for (const d of this.denials) {
      if (!name.startsWith(d.prefix)) continue;
      const surely = t0 >= d.on + this.t.policyMs && (d.off === undefined || t1 < d.off);
      if (surely) return { expect: 'refuse', why: 'deny policy in force' };
      const maybe = d.on <= t1 && (d.off === undefined || d.off + this.t.policyMs >= t0);
      if (maybe) return { expect: 'either', why: 'policy changing' };
    }
    const list = this.signings.get(name) ?? [];
    if (list.length === 0 || list[0]!.from > t1) return { expect: 'refuse', why: 'not signed' };
    if (digest !== undefined && !list.some((s) => s.digest === digest)) return { expect: 'refuse', why: 'digest never signed' };
    if (list[0]!.published > t0) return { expect: 'either', why: 'being signed' };
    return { expect: 'admit', why: '' };
  }

  /**
   * Judges a decision on a workload of `images`, asked at t0 and answered at t1. An admission
   * is wrong when an image must be refused, when a pinned digest is not one the tag was signed
   * to within the cache's freshness, or when, with the trust server down, it was admitted
   * without ever having been verified. A denial of what should pass is explained by an active
   * fault, a first signing not yet past the negative cache, or a policy change on its way.
   */
  judge(images: readonly string[], t0: number, t1: number, outcome: Outcome): Judgement {
    const phase = this.phaseAt(t0);
    if (outcome.result === 'unavailable') return { verdict: 'unavailable', phase, ...(outcome.message && { why: outcome.message }) };
    const expectations = images.map((ref) => ({ ref, ...this.expectation(ref, t0, t1) }));
    if (outcome.result === 'admitted') {
      const refused = expectations.find((e) => e.expect === 'refuse');
      if (refused) return { verdict: 'wrong-admission', phase, why: `${refused.ref}: ${refused.why}` };
      const problem = this.admissionProblem(images, t0, t1, outcome);
      if (problem) return { verdict: 'wrong-admission', phase, why: problem };
      for (const ref of images) {
        const { name } = Oracle.split(ref);
        if (!this.firstAdmitted.has(name)) this.firstAdmitted.set(name, t1);
      }
      return { verdict: 'admitted', phase };
    }
    if (expectations.some((e) => e.expect === 'refuse')) return { verdict: 'refused', phase };
    const changing = expectations.find((e) => e.expect === 'either');
    if (changing) return { verdict: 'explained-denial', phase, why: changing.why };
    const explanation = this.explainDenial(images, t0, t1, outcome);
    return explanation ? { verdict: 'explained-denial', phase, why: explanation } : { verdict: 'unexplained-denial', phase, why: outcome.message ?? '' };
  }

  private admissionProblem(images: readonly string[], t0: number, t1: number, outcome: Outcome): string | undefined {
    const notaryDown = this.windows.some((w) => w.kind === 'notary-down' && w.down !== undefined && w.down <= t0 && (w.end === undefined || w.end >= t1));
    for (const [i, ref] of images.entries()) {
      const { name } = Oracle.split(ref);
      // By tag: an answer for the tag stands in for a reference pinning its signed digest too.
      const seen = this.firstAdmitted.get(name);
      if (notaryDown && (seen === undefined || seen > t0)) return `${ref}: admitted while notary-server was down, never verified before`;
      if (outcome.images === undefined) continue; // a Deployment: validated, not pinned
      const pinned = outcome.images[i];
      if (pinned === undefined) return `${ref}: admitted, but not in the admitted pod`;
      const digest = Oracle.split(pinned).digest;
      if (Oracle.split(pinned).name !== name || digest === undefined) return `${ref}: admitted as ${pinned}, not pinned`;
      const list = this.signings.get(name) ?? [];
      const fresh = (s: Signing) => s.from <= t1 && (s.replacedAt === undefined || s.replacedAt + this.t.maxTtlMs + this.t.recoveryMs >= t0);
      const ok = list.some((s) => s.digest === digest && (outcome.stale ? s.from <= t1 : fresh(s)));
      if (!ok) return `${ref}: pinned to ${digest}, not its signed digest${outcome.stale ? '' : ' within the cache freshness'}`;
    }
    return undefined;
  }

  private explainDenial(images: readonly string[], t0: number, t1: number, outcome: Outcome): string | undefined {
    for (const w of this.windows) {
      if (!this.covers(w, t0, t1)) continue;
      if (w.kind === 'notary-down' || w.kind === 'registry-down' || w.kind === 'apiserver-restart') return w.kind;
      // A killed replica: its connections are reset, the API server's calls on them fail.
      if (w.kind === 'replica-killed' && outcome.by === 'webhook-failure') return w.kind;
    }
    // No allowance after a first signing: "not signed yet" refusals are never cached
    // (docs/configuration.md, cache.negativeTtlSeconds), so a tag is admitted once published.
    for (const ref of images) {
      const list = this.signings.get(Oracle.split(ref).name) ?? [];
      // A tag re-signed: /mutate may pin the previous digest from one replica's cache while
      // /validate, on the other replica, already knows the new one, and refuses the pin.
      const resigned = list.some((s) => s.replacedAt !== undefined && s.replacedAt + this.t.maxTtlMs + this.t.recoveryMs >= t0);
      if (resigned && /DIGEST_NOT_SIGNED/.test(outcome.message ?? '')) return 're-signed tag, caches disagree';
    }
    return undefined;
  }
}
