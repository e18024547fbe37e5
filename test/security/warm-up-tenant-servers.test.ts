// Warm-up at start (issue 12) connects only to trust servers the cluster chose: a server an
// ImagePolicy names (a tenant's) is never contacted before a review asks for it, so a tenant
// cannot make every replica open connections at every start.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DelayProxy } from '../support/delay-proxy.js';
import { eventually } from '../support/eventually.js';
import { ServeProcess, writeServeConfig } from '../support/serve-process.js';
import { TrustStack } from '../support/stack.js';

let stack: TrustStack;
let cluster: DelayProxy;
let tenant: DelayProxy;
let dir: string;

beforeAll(async () => {
  stack = await TrustStack.start({ registry: false });
  const notary = new URL(stack.notaryUrl);
  const target = { host: notary.hostname, port: Number(notary.port) };
  cluster = await DelayProxy.start({ target, oneWayMs: 0, lifetimeMs: 120_000 });
  tenant = await DelayProxy.start({ target, oneWayMs: 0, lifetimeMs: 120_000 });
  dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-warm-tenant-'));
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await tenant?.stop();
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("an ImagePolicy's trust server is not warmed; the ClusterImagePolicy's is", async () => {
  const ca = JSON.stringify(readFileSync(stack.tls.caCert, 'utf8'));
  const policies = `apiVersion: trustgate.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: platform}
spec:
  images: ["**"]
  trust: {server: "https://127.0.0.1:${cluster.port}", caBundle: ${ca}, trustOnFirstUse: true}
---
apiVersion: trustgate.dev/v1alpha1
kind: ImagePolicy
metadata: {name: team-server, namespace: team}
spec:
  images: ["**"]
  trust: {server: "https://127.0.0.1:${tenant.port}", caBundle: ${ca}, trustOnFirstUse: true}
`;
  const serve = await ServeProcess.start(await writeServeConfig(dir, stack.tls, policies), stack.tls.caCert, false);
  try {
    await eventually(() => cluster.connections, (n) => n >= 5, "warmed connections to the cluster's trust server");
    await new Promise((r) => setTimeout(r, 300));
    expect(tenant.connections).toBe(0);
  } finally {
    await serve.stop();
  }
});
