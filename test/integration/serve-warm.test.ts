// `trustgate serve` warms connections to the trust servers its config and ClusterImagePolicies
// name, with the CA bundle their Notary authorities give, at start and before any review
// (issue 12, cold latency); it is ready whether or not they answer.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DelayProxy } from '../support/delay-proxy.js';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/processes.js';
import { ServeProcess, verifyAllOnFirstUse, writeServeConfig } from '../support/serve-process.js';
import { TrustStack } from '../support/stack.js';

let stack: TrustStack;
let proxy: DelayProxy;
let dir: string;

beforeAll(async () => {
  stack = await TrustStack.start({ registry: false });
  const notary = new URL(stack.notaryUrl);
  proxy = await DelayProxy.start({ target: { host: notary.hostname, port: Number(notary.port) }, oneWayMs: 0, lifetimeMs: 120_000 });
  dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-serve-warm-'));
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('connections to the configured trust server are open before the first review, and a dead one does not hold readiness', async () => {
  const dead = `https://127.0.0.1:${await freePort()}`;
  const extra = `trust: {servers: {"registry.test": "https://127.0.0.1:${proxy.port}", "dead.test": "${dead}"}}\nmetrics: {listen: "127.0.0.1:${await freePort()}"}\n`;
  const serve = await ServeProcess.start(await writeServeConfig(dir, stack.tls, verifyAllOnFirstUse(readFileSync(stack.tls.caCert, 'utf8')), extra), stack.tls.caCert, false);
  try {
    expect((await serve.request('GET', '/readyz')).status).toBe(200);
    await eventually(() => proxy.connections, (n) => n >= 5, 'five warmed connections to the trust server');
    // Warmed through the policy's CA, they stay open for the first review (a TLS handshake refused
    // for want of the CA would have closed them).
    await new Promise((r) => setTimeout(r, 300));
    expect(proxy.open).toBeGreaterThanOrEqual(5);
    const metrics = await serve.metrics();
    expect(metrics).toMatch(/^trustgate_trust_client_entries\{structure="agents"\} [1-9]/m);
  } finally {
    await serve.stop();
  }
});
