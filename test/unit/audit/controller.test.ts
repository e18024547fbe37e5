// When rounds run (src/audit/controller.ts), on fake timers: at once on leading, every interval,
// soon after a policy change; never overlapping; and a tenant's policy edits can neither postpone
// the audit forever nor make it run back to back.
import { jest } from '@jest/globals';
import { AuditController } from '../../../src/audit/index.js';

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

const schedule = { intervalMs: 300_000, debounceMs: 2_000, minGapMs: 30_000 };

function controller(roundMs = 1_000) {
  const starts: number[] = [];
  let running = 0;
  let overlapped = false;
  const c = new AuditController(schedule, async () => {
    starts.push(Date.now());
    if (++running > 1) overlapped = true;
    await new Promise((r) => setTimeout(r, roundMs));
    running--;
  }, () => undefined, () => Date.now());
  return { c, starts, overlapped: () => overlapped };
}

it('runs at once on leading, then every interval, and not while standing by', async () => {
  const { c, starts } = controller();
  const t0 = Date.now();
  c.policiesChanged(); // not leading: nothing
  await jest.advanceTimersByTimeAsync(10_000);
  expect(starts).toEqual([]);
  c.leading(true);
  await jest.advanceTimersByTimeAsync(1);
  expect(starts).toEqual([t0 + 10_000]);
  await jest.advanceTimersByTimeAsync(301_000);
  expect(starts).toEqual([t0 + 10_000, t0 + 10_000 + 1_000 + 300_000]);
  c.leading(false);
  await jest.advanceTimersByTimeAsync(1_000_000);
  expect(starts).toHaveLength(2);
  await c.stop();
});

it('a burst of policy changes is one round, after the debounce and at least minGap after the last round', async () => {
  const { c, starts } = controller();
  c.leading(true);
  await jest.advanceTimersByTimeAsync(1_000); // first round ran and ended
  const ended = Date.now();
  for (let i = 0; i < 10; i++) c.policiesChanged();
  await jest.advanceTimersByTimeAsync(60_000);
  expect(starts.length).toBe(2);
  expect(starts[1]! - ended).toBe(schedule.minGapMs);
  await c.stop();
});

it('a policy edited every second neither postpones the audit forever nor runs it back to back', async () => {
  const { c, starts, overlapped } = controller();
  c.leading(true);
  for (let s = 0; s < 600; s++) {
    c.policiesChanged();
    await jest.advanceTimersByTimeAsync(1_000);
  }
  // Ten minutes of edits: rounds keep running, at most one per minGap (+ the round itself).
  expect(starts.length).toBeGreaterThanOrEqual(10);
  expect(starts.length).toBeLessThanOrEqual(600_000 / schedule.minGapMs + 1);
  for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(schedule.minGapMs);
  expect(overlapped()).toBe(false);
  await c.stop();
});

it('a change during a round asks for one more after it, never two at once', async () => {
  const { c, starts, overlapped } = controller(20_000);
  c.leading(true);
  await jest.advanceTimersByTimeAsync(5_000); // in the first round
  c.policiesChanged();
  c.policiesChanged();
  await jest.advanceTimersByTimeAsync(120_000);
  expect(starts.length).toBe(2);
  expect(overlapped()).toBe(false);
  await c.stop();
});
