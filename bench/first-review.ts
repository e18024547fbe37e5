// The first review after `trustgate serve` starts, through the whole server (issue 12's cold
// latency, measured end to end rather than on a TrustClient: bench/cold-latency.ts). Each round
// starts a new serve process whose policy names Debian's notary-server behind a loopback proxy
// that adds latency (test/support/delay-proxy.ts), waits until it is ready and a moment more, as
// a first pod arrives some time after a rollout, then times one review of a signed image
// (admitted and pinned: a fast refusal would flatter the figure), then a second image of another
// repository on the same connection: a cache miss in a process whose code has run once, the
// baseline that separates what is cold about the process from what the review must fetch.
// The server is named by a ClusterImagePolicy, so serve warms connections to it at start; a server
// only a namespace's ImagePolicy names is not warmed, and pays the cold load of
// bench/cold-latency.ts (an ImagePolicy alone admits nothing here: it needs a cluster policy,
// whose server would then be warmed). Sequential
// round trips on the critical path = (median at +50 ms − median at +0 ms) / 50 ms, interleaved
// in the same run. Goal: ≤ 3 round trips.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { DelayProxy } from '../test/support/delay-proxy.js';
import { ServeProcess, writeServeConfig } from '../test/support/serve-process.js';
import { TrustStack } from '../test/support/stack.js';
import { postReview } from './cold-review-requests.js';
import { fmt, summarise } from './stats.js';

const ADDED_RTT_MS = 50;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
/** After readiness: a rollout's first pod comes later than the first /readyz that answers. */
const SETTLE_MS = 500;

function policy(server: string, caBundle: string): string {
  return `apiVersion: trustgate.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: all}
spec:
  images: ["**"]
  trust: {server: ${JSON.stringify(server)}, caBundle: ${JSON.stringify(caBundle)}, trustOnFirstUse: true}
`;
}

async function main(): Promise<void> {
  const stack = await TrustStack.start();
  const notary = new URL(stack.notaryUrl);
  const proxy = await DelayProxy.start({ target: { host: notary.hostname, port: Number(notary.port) }, oneWayMs: 0, lifetimeMs: 10 * 60_000 });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-first-review-'));
  try {
    const gun = `${stack.registry}/bench/first`;
    const image = await stack.pushImage('bench/first', '1.0', 'first review');
    await stack.init(gun);
    await stack.sign(gun, '1.0', image);
    const other = `${stack.registry}/bench/other`;
    await stack.init(other);
    await stack.sign(other, '1.0', image);
    const caBundle = readFileSync(stack.tls.caCert, 'utf8');
    const ca = readFileSync(stack.tls.caCert);
    const server = `https://127.0.0.1:${proxy.port}`;

    const first = async (oneWayMs: number): Promise<{ ms: number; connections: number; second: number }> => {
      proxy.setDelay(oneWayMs);
      const config = await writeServeConfig(dir, stack.tls, policy(server, caBundle));
      const serve = await ServeProcess.start(config, stack.tls.caCert, false);
      const agent = new https.Agent({ keepAlive: true });
      try {
        await serve.waitReady(15_000);
        await new Promise((r) => setTimeout(r, SETTLE_MS));
        const before = proxy.connections;
        const ms = await postReview(serve.port, ca, agent, `${gun}:1.0`);
        const connections = proxy.connections - before;
        return { ms, connections, second: await postReview(serve.port, ca, agent, `${other}:1.0`) };
      } finally {
        agent.destroy();
        await serve.stop();
      }
    };

    await first(0); // warm-up: the compile cache, notary-server's caches
    const fast: number[] = [];
    const slow: number[] = [];
    const second: number[] = [];
    let connections = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const f = await first(0);
      fast.push(f.ms);
      second.push(f.second);
      const r = await first(ADDED_RTT_MS / 2);
      slow.push(r.ms);
      connections = Math.max(connections, r.connections);
    }
    const a = summarise(fast);
    const b = summarise(slow);
    console.log(`first review after serve starts (ClusterImagePolicy's server, warmed at start), notary-server behind a loopback proxy (${ROUNDS} rounds, interleaved; a new process each)`);
    console.log(`  +0 ms per round trip  : median ${fmt(a.median)} ms  p90 ${fmt(a.p90)} ms`);
    console.log(`  +${ADDED_RTT_MS} ms per round trip : median ${fmt(b.median)} ms  p90 ${fmt(b.p90)} ms`);
    console.log(`  second image (another repository, a miss) at +0 ms: median ${fmt(summarise(second).median)} ms; first / second ${fmt(a.median / summarise(second).median, 2)}×`);
    console.log(`  sequential round trips: ${fmt((b.median - a.median) / ADDED_RTT_MS, 1)} (goal ≤ 3); new connections during a review: at most ${connections}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await proxy.stop();
    await stack.stop();
  }
}

await main();
