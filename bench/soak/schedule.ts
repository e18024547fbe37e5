// The soak's schedule (issue 12): which fault happens when, for how long, and when tags are
// signed again or for the first time. Derived from a seed alone, so a run can be repeated with
// the same faults in the same order; only the timing of the load around them varies.

export type FaultKind = 'notary-down' | 'registry-down' | 'apiserver-restart' | 'replica-killed' | 'cert-rotated' | 'policy-changed';
export type Phase = 'normal' | FaultKind;
export const FAULT_KINDS: readonly FaultKind[] = ['notary-down', 'registry-down', 'apiserver-restart', 'replica-killed', 'cert-rotated', 'policy-changed'];
export const PHASES: readonly Phase[] = ['normal', ...FAULT_KINDS];

export interface FaultEvent {
  readonly type: 'fault';
  readonly kind: FaultKind;
  /** Milliseconds from the start of the load. */
  readonly at: number;
  /** How long the part stays down (notary, registry, replica); 0 for one-off changes. */
  readonly durationMs: number;
}

export interface SignEvent {
  readonly type: 'sign';
  /** resign: a signed tag moves to another digest; first: an unsigned tag is signed. */
  readonly kind: 'resign' | 'first';
  readonly at: number;
}

export type ScheduledEvent = FaultEvent | SignEvent;

export interface Schedule {
  readonly totalMs: number;
  readonly events: readonly ScheduledEvent[];
  /** The replica the schedule kills (always the same one: the other's RSS spans the whole run). */
  readonly killedReplica: 0 | 1;
  /** How many tags are signed for the first time during the run. */
  readonly firstSignings: number;
}

/** Minutes accepted: a quarter of a minute (a smoke run) to two hours. */
export const MIN_MINUTES = 0.25;
export const MAX_MINUTES = 120;
/** A slot holds one fault and its recovery; never shorter than this. */
const MIN_SLOT_MS = 10_000;
const TARGET_SLOT_MS = 20_000;

/** mulberry32: a small seeded generator, enough to shuffle and jitter a schedule. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Checks the options a user gives (`SOAK_MINUTES`, `--seed`): clear errors, never a runaway run. */
export function checkOptions(minutes: number, seed: number): void {
  if (!Number.isFinite(minutes) || minutes < MIN_MINUTES || minutes > MAX_MINUTES) {
    throw new Error(`soak: minutes must be a number from ${MIN_MINUTES} to ${MAX_MINUTES}, got ${String(minutes)}`);
  }
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffff_ffff) throw new Error(`soak: seed must be an integer from 0 to 4294967295, got ${String(seed)}`);
}

/**
 * Slots of 10-20 s; each begins with a quiet stretch, then its fault (the six kinds in a seeded
 * order, repeated), then a recovery, and ends with a signing (alternately a re-signing and a
 * first signing) while the trust server is up. The last stretch of every slot is quiet, so the
 * run ends with everything restored.
 */
export function makeSchedule(minutes: number, seed: number): Schedule {
  checkOptions(minutes, seed);
  const random = rng(seed);
  const totalMs = Math.round(minutes * 60_000);
  const slots = Math.max(1, Math.floor(totalMs / TARGET_SLOT_MS), totalMs >= 6 * MIN_SLOT_MS ? 6 : 0);
  const slotMs = Math.max(MIN_SLOT_MS, Math.floor(totalMs / slots));
  const order = [...FAULT_KINDS];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const events: ScheduledEvent[] = [];
  let firstSignings = 0;
  const count = Math.min(slots, Math.floor(totalMs / slotMs));
  for (let s = 0; s < count; s++) {
    const start = s * slotMs;
    const kind = order[s % order.length]!;
    const lead = Math.round(slotMs * (0.1 + 0.1 * random()));
    const durationMs = kind === 'notary-down' || kind === 'registry-down' || kind === 'replica-killed' ? Math.round(slotMs * (0.25 + 0.1 * random())) : 0;
    events.push({ type: 'fault', kind, at: start + lead, durationMs });
    const signKind = s % 2 === 0 ? 'resign' : 'first';
    if (signKind === 'first') firstSignings++;
    events.push({ type: 'sign', kind: signKind, at: start + Math.round(slotMs * 0.75) });
  }
  return { totalMs, events, killedReplica: random() < 0.5 ? 0 : 1, firstSignings };
}
