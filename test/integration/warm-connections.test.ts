// Warming the trust client's connections at start (TrustClient.warm, issue 12): a warmed client's
// first update opens no connection of its own, and a server that refuses or never answers only
// stays cold — warm-up never rejects and ends by its timeout.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { NO_PINS, TrustClient } from '../../src/trust/index.js';
import { DelayProxy } from '../support/delay-proxy.js';
import { freePort } from '../support/processes.js';
import { TrustStack } from '../support/stack.js';

let stack: TrustStack;
let proxy: DelayProxy;
let caBundle: string;
let gun: string;

beforeAll(async () => {
  stack = await TrustStack.start();
  const notary = new URL(stack.notaryUrl);
  proxy = await DelayProxy.start({ target: { host: notary.hostname, port: Number(notary.port) }, oneWayMs: 0, lifetimeMs: 120_000 });
  gun = `${stack.registry}/warm/app`;
  const image = await stack.pushImage('warm/app', '1.0', 'warm');
  await stack.init(gun);
  await stack.sign(gun, '1.0', image);
  caBundle = readFileSync(stack.tls.caCert, 'utf8');
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await stack?.stop();
});

test('a warmed client verifies its first repository on the connections opened at start', async () => {
  const client = new TrustClient();
  const server = `https://127.0.0.1:${proxy.port}`;
  try {
    const before = proxy.connections;
    await expect(client.warm([{ server, caBundle }], 5000)).resolves.toBe(5);
    expect(proxy.connections - before).toBe(5);
    const repo = await client.loadRepository({ server, gun, pins: NO_PINS, roles: { all: false, roles: [] }, caBundle, credentials: undefined, timeoutMs: 10_000 });
    expect(repo.roles.get('targets')?.doc.body.targets.has('1.0')).toBe(true);
    expect(proxy.connections - before).toBe(5);
  } finally {
    client.close();
  }
});

test('warm-up of a server that refuses, or never answers, resolves by its timeout and leaves it cold', async () => {
  const silent = net.createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const client = new TrustClient();
  try {
    const refusing = `https://127.0.0.1:${await freePort()}`;
    const hanging = `https://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    const started = Date.now();
    await expect(client.warm([{ server: refusing, caBundle }, { server: hanging, caBundle }, { server: 'not a url', caBundle }], 300)).resolves.toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
  } finally {
    client.close();
    silent.close();
  }
});
