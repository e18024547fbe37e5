// Cold verification over a slow link: a fresh TrustClient (no connection, no TLS session, no
// remembered root: trust on first use) loads a signed repository from Debian's notary-server
// through a loopback proxy that adds 50 ms to every round trip (test/support/delay-proxy.ts).
// Sequential round trips on the critical path (TCP and TLS handshakes included) are the time
// the added latency costs, divided by it: (median at 50 ms - median at 0 ms) / 50 ms, measured
// interleaved in the same run. Issue 12's goal: ≤ 3 round trips.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { NO_PINS, TrustClient } from '../src/trust/index.js';
import { DelayProxy } from '../test/support/delay-proxy.js';
import { TrustStack } from '../test/support/stack.js';
import { fmt, summarise } from './stats.js';

const ADDED_RTT_MS = 50;
const ROUNDS = 15;

async function main(): Promise<void> {
  const stack = await TrustStack.start();
  const notary = new URL(stack.notaryUrl);
  const proxy = await DelayProxy.start({ target: { host: notary.hostname, port: Number(notary.port) }, oneWayMs: 0, lifetimeMs: 5 * 60_000 });
  try {
    const gun = `${stack.registry}/bench/app`;
    const image = await stack.pushImage('bench/app', '1.0', 'bench');
    await stack.init(gun);
    await stack.sign(gun, '1.0', image);
    const caBundle = readFileSync(stack.tls.caCert, 'utf8');
    const server = `https://127.0.0.1:${proxy.port}`;
    const cold = async (): Promise<{ ms: number; connections: number; requests: number }> => {
      let requests = 0;
      const client = new TrustClient({ requestTimeoutMs: 10_000, onFetch: () => requests++ });
      const before = proxy.connections;
      const t = performance.now();
      const repo = await client.loadRepository({ server, gun, pins: NO_PINS, roles: { all: false, roles: [] }, caBundle, credentials: undefined, timeoutMs: 10_000 });
      const ms = performance.now() - t;
      client.close();
      if (!repo.roles.get('targets')?.doc.body.targets.has('1.0')) throw new Error('benchmark repository lost its signed tag');
      return { ms, connections: proxy.connections - before, requests };
    };
    await cold(); // warm-up: code paths, notary-server's caches
    const fast: number[] = [];
    const slow: number[] = [];
    let last = { connections: 0, requests: 0 };
    for (let i = 0; i < ROUNDS; i++) {
      proxy.setDelay(0);
      fast.push((await cold()).ms);
      proxy.setDelay(ADDED_RTT_MS / 2);
      const r = await cold();
      slow.push(r.ms);
      last = r;
    }
    // The same load on a client whose connections were warmed first (TrustClient.warm, as at start).
    const warmed: number[] = [];
    const warmedFast: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      for (const [delay, into] of [[0, warmedFast], [ADDED_RTT_MS / 2, warmed]] as const) {
        proxy.setDelay(delay);
        const client = new TrustClient({ requestTimeoutMs: 10_000 });
        await client.warm([{ server, caBundle }], 10_000);
        const t = performance.now();
        await client.loadRepository({ server, gun, pins: NO_PINS, roles: { all: false, roles: [] }, caBundle, credentials: undefined, timeoutMs: 10_000 });
        into.push(performance.now() - t);
        client.close();
      }
    }
    const w = summarise(warmed);
    const wf = summarise(warmedFast);
    const a = summarise(fast);
    const b = summarise(slow);
    console.log(`cold trust load (fresh client, TOFU) through a loopback proxy, notary-server (${ROUNDS} rounds, interleaved)`);
    console.log(`  +0 ms per round trip  : median ${fmt(a.median)} ms  p90 ${fmt(a.p90)} ms`);
    console.log(`  +${ADDED_RTT_MS} ms per round trip : median ${fmt(b.median)} ms  p90 ${fmt(b.p90)} ms`);
    console.log(`  sequential round trips: ${fmt((b.median - a.median) / ADDED_RTT_MS, 1)} (goal ≤ 3)`);
    console.log(`  per load: ${last.connections} connection(s), ${last.requests} metadata request(s)`);
    console.log(`  ratio slow / fast     : ${fmt(b.median / a.median, 2)}×`);
    console.log(`  warmed client, +0 / +${ADDED_RTT_MS} ms : median ${fmt(wf.median)} / ${fmt(w.median)} ms, ${fmt((w.median - wf.median) / ADDED_RTT_MS, 1)} round trips`);
  } finally {
    await proxy.stop();
    await stack.stop();
  }
}

await main();
