// Reconnecting failed watches (src/kube/watch-restarts.ts), shared by the policy and trust store
// informers: the delay doubles from 1 s to 30 s per kind, a successful list resets it, stop()
// ends pending restarts, and the log line carries the error's message, never an object.
import { jest } from '@jest/globals';
import type { Logger } from 'pino';
import { WatchRestarts } from '../../../src/kube/watch-restarts.js';

function logger(): { log: Logger; lines: unknown[] } {
  const lines: unknown[] = [];
  return { log: { warn: (fields: unknown) => lines.push(fields) } as unknown as Logger, lines };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

it('backs off 1 s, 2 s, 4 s … up to 30 s for a watch that keeps failing, per kind', async () => {
  const { log, lines } = logger();
  const restarts = new WatchRestarts(log, 'watch failed; reconnecting');
  let starts = 0;
  const informer = { start: () => { starts++; return Promise.reject(new Error('connection refused')); } };
  restarts.restart(informer, 'ConfigMap', new Error('gone'));
  const delays: number[] = [];
  for (let i = 0; i < 7; i++) {
    const delay = (lines.at(-1) as { retryInMs: number }).retryInMs;
    delays.push(delay);
    await jest.advanceTimersByTimeAsync(delay - 1);
    expect(starts).toBe(i);
    await jest.advanceTimersByTimeAsync(1);
  }
  expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  expect(starts).toBe(7);
  // Another kind starts from 1 s.
  restarts.restart(informer, 'Secret', new Error('gone'));
  expect(lines.at(-1)).toMatchObject({ kind: 'Secret', retryInMs: 1000 });
  restarts.stop();
});

it('starts from 1 s again once the kind listed', () => {
  const { log, lines } = logger();
  const restarts = new WatchRestarts(log, 'm');
  const informer = { start: () => Promise.resolve() };
  restarts.restart(informer, 'k', new Error('a'));
  restarts.restart(informer, 'k', new Error('b'));
  expect(lines.at(-1)).toMatchObject({ retryInMs: 2000 });
  restarts.listed('k');
  restarts.restart(informer, 'k', new Error('c'));
  expect(lines.at(-1)).toMatchObject({ retryInMs: 1000 });
  restarts.stop();
});

it('restarts nothing once stopped, not even one already waiting', async () => {
  const { log } = logger();
  const restarts = new WatchRestarts(log, 'm');
  let starts = 0;
  const informer = { start: () => { starts++; return Promise.resolve(); } };
  restarts.restart(informer, 'k', new Error('a'));
  restarts.stop();
  await jest.advanceTimersByTimeAsync(60_000);
  restarts.restart(informer, 'k', new Error('b'));
  await jest.advanceTimersByTimeAsync(60_000);
  expect(starts).toBe(0);
  expect(restarts.isStopped).toBe(true);
});

it('logs the error\'s message only, never an object a watch handed it', () => {
  const { log, lines } = logger();
  const restarts = new WatchRestarts(log, 'm');
  restarts.restart({ start: () => Promise.resolve() }, 'Secret', { kind: 'Secret', data: { token: 'c2VjcmV0' } });
  expect(JSON.stringify(lines)).not.toContain('c2VjcmV0');
  expect(lines[0]).toMatchObject({ err: 'watch failed' });
  restarts.stop();
});
