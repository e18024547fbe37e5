// The gate a cold wave passes through (src/trust/connect-gate.ts): while a host is not known to be
// reachable, one request tries to connect and the others wait for its TCP handshake; they go when
// it is up, give up without a connection of their own when it failed, and one of them tries in
// its place when it was aborted (which says nothing of the host).
import type { ConnectionObserver } from '../../../src/registry/http.js';
import { ConnectGate } from '../../../src/trust/connect-gate.js';
import { TrustError } from '../../../src/trust/index.js';

/** An attempt the test drives: `attempts` records each start, with its observer. */
function driven() {
  const attempts: { observer: ConnectionObserver; finish: (error?: Error) => void }[] = [];
  const attempt = (observer: ConnectionObserver) =>
    new Promise<string>((resolve, reject) => attempts.push({ observer, finish: (error) => (error ? reject(error) : resolve('answered')) }));
  return { attempts, attempt };
}
const refused = () => new TrustError('UNREACHABLE', 'the first connection failed');
const tick = () => new Promise((r) => setImmediate(r));

test('the rest of a wave waits for the first connection, then goes at once; later waves do not wait', async () => {
  const gate = new ConnectGate();
  const { attempts, attempt } = driven();
  const wave = [0, 1, 2, 3, 4].map(() => gate.run(undefined, attempt, refused));
  await tick();
  expect(attempts).toHaveLength(1);
  attempts[0]!.observer.connected();
  await tick();
  expect(attempts).toHaveLength(5);
  for (const a of attempts) a.finish();
  await expect(Promise.all(wave)).resolves.toHaveLength(5);
  expect(gate.open).toBe(true);
  const next = [0, 1].map(() => gate.run(undefined, attempt, refused));
  expect(attempts).toHaveLength(7);
  for (const a of attempts.slice(5)) a.finish();
  await Promise.all(next);
});

test('when the first connection fails, the others are refused without trying; the next wave tries once again', async () => {
  const gate = new ConnectGate();
  const { attempts, attempt } = driven();
  const wave = [0, 1, 2].map(() => gate.run(undefined, attempt, refused));
  await tick();
  attempts[0]!.observer.failed();
  attempts[0]!.finish(new TrustError('UNREACHABLE', 'ECONNREFUSED'));
  const outcomes = await Promise.allSettled(wave);
  expect(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as Error).message : 'admitted'))).toEqual(['ECONNREFUSED', 'the first connection failed', 'the first connection failed']);
  expect(attempts).toHaveLength(1);
  void gate.run(undefined, attempt, refused).catch(() => undefined);
  void gate.run(undefined, attempt, refused).catch(() => undefined);
  await tick();
  expect(attempts).toHaveLength(2);
});

test('a host known reachable whose connection then fails is probed again by the next wave', async () => {
  const gate = new ConnectGate();
  const { attempts, attempt } = driven();
  const first = gate.run(undefined, attempt, refused);
  attempts[0]!.observer.connected();
  attempts[0]!.finish();
  await first;
  const broken = gate.run(undefined, attempt, refused);
  attempts[1]!.observer.failed();
  attempts[1]!.finish(new TrustError('UNREACHABLE', 'ECONNREFUSED'));
  await expect(broken).rejects.toThrow('ECONNREFUSED');
  expect(gate.open).toBe(false);
  void gate.run(undefined, attempt, refused).catch(() => undefined);
  void gate.run(undefined, attempt, refused).catch(() => undefined);
  await tick();
  expect(attempts).toHaveLength(3);
});

test('an aborted first attempt leaves the next waiter to try; a waiter stops waiting at its own deadline', async () => {
  const gate = new ConnectGate();
  const { attempts, attempt } = driven();
  const first = gate.run(undefined, attempt, refused);
  const deadline = new AbortController();
  const impatient = gate.run(deadline.signal, attempt, refused);
  const patient = gate.run(undefined, attempt, refused);
  await tick();
  deadline.abort(new TrustError('TIMEOUT', 'deadline passed'));
  await expect(impatient).rejects.toThrow('deadline passed');
  attempts[0]!.finish(new TrustError('TIMEOUT', 'aborted by its load'));
  await expect(first).rejects.toThrow('aborted by its load');
  await tick();
  expect(attempts).toHaveLength(2);
  attempts[1]!.observer.connected();
  attempts[1]!.finish();
  await expect(patient).resolves.toBe('answered');
});
