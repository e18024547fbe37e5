// A trust server whose host is down costs one connection attempt per review, not one per document
// of a cold update's wave (src/trust/update.ts asks for root, timestamp, snapshot, targets and
// targets/releases at once; src/trust/connect-gate.ts holds the rest of the wave until the first
// connection is up), whether it refuses connections or drops them. Connection attempts are counted where this process makes them: node's
// `net.client.socket` diagnostics channel and each socket's `connectionAttempt` event
// (https://nodejs.org/api/diagnostics_channel.html#built-in-channels).
import { spawn } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { NO_PINS, TrustClient } from '../../src/trust/index.js';
import { DelayProxy } from '../support/delay-proxy.js';
import { freePort } from '../support/processes.js';
import { TrustStack } from '../support/stack.js';

let stack: TrustStack;
let caBundle: string;
const attempts = new Map<number, number>();
const onSocket = (message: unknown) => {
  const socket = (message as { socket: net.Socket }).socket;
  socket.on('connectionAttempt', (_ip: string, port: number) => attempts.set(port, (attempts.get(port) ?? 0) + 1));
};

beforeAll(async () => {
  diagnostics.subscribe('net.client.socket', onSocket);
  stack = await TrustStack.start({ registry: false });
  caBundle = readFileSync(stack.tls.caCert, 'utf8');
  for (const name of ['live/app', 'live/other']) {
    await stack.init(`127.0.0.1:5000/${name}`);
    await stack.sign(`127.0.0.1:5000/${name}`, '1.0', { digest: `sha256:${'d'.repeat(64)}`, size: 10 });
  }
}, 60_000);

afterAll(async () => {
  diagnostics.unsubscribe('net.client.socket', onSocket);
  await stack?.stop();
});

/**
 * A host that drops connection attempts: a process listening with a backlog of 1, stopped
 * (SIGSTOP) so it never accepts, its accept queue filled; the kernel then drops every SYN, as for
 * a host that is powered off or behind a firewall that drops packets.
 */
async function silentHost(): Promise<{ port: number; close(): void }> {
  const child = spawn(process.execPath, ['-e', `const s = require('node:net').createServer(); s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => { console.log(s.address().port); process.kill(process.pid, 'SIGSTOP'); });`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = Number(await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()))));
  const queued: net.Socket[] = [];
  // Connections the kernel completes for the stopped process, until one is left waiting.
  for (let full = false; !full && queued.length < 16; ) {
    const socket = net.connect(port, '127.0.0.1').on('error', () => undefined);
    queued.push(socket);
    full = !(await Promise.race([new Promise<boolean>((resolve) => socket.once('connect', () => resolve(true))), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 500))]));
  }
  return {
    port,
    close: () => {
      for (const socket of queued) socket.destroy();
      child.kill('SIGKILL');
    },
  };
}

const load = (client: TrustClient, server: string, gun: string) =>
  client.loadRepository({ server, gun, pins: NO_PINS, roles: { all: false, roles: [] }, caBundle, credentials: undefined, timeoutMs: 5000 });

test('a cold update, and warm-up, of a host that refuses connections make one connection attempt each', async () => {
  const port = await freePort(); // taken and released: nothing listens there
  const server = `https://127.0.0.1:${port}`;
  const client = new TrustClient({ requestTimeoutMs: 2000 });
  try {
    await expect(load(client, server, '127.0.0.1:5000/dead/app')).rejects.toMatchObject({ code: 'UNREACHABLE' });
    expect(attempts.get(port)).toBe(1);
    // The next review (another repository, nothing shared with the first) costs one more.
    await expect(load(client, server, '127.0.0.1:5000/dead/other')).rejects.toMatchObject({ code: 'UNREACHABLE' });
    expect(attempts.get(port)).toBe(2);
    await expect(client.warm([{ server, caBundle }], 2000)).resolves.toBe(0);
    expect(attempts.get(port)).toBe(3);
  } finally {
    client.close();
  }
});

test('a host that drops connection attempts costs one attempt per review, each ending by the request timeout', async () => {
  const host = await silentHost();
  const server = `https://127.0.0.1:${host.port}`;
  const client = new TrustClient({ requestTimeoutMs: 300 });
  try {
    const before = attempts.get(host.port) ?? 0;
    await expect(load(client, server, '127.0.0.1:5000/silent/app')).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect((attempts.get(host.port) ?? 0) - before).toBe(1);
    await expect(load(client, server, '127.0.0.1:5000/silent/other')).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect((attempts.get(host.port) ?? 0) - before).toBe(2);
  } finally {
    client.close();
    host.close();
  }
});

test('a host that was up opens the wave\'s connections at once; once it is down, each review costs one attempt', async () => {
  const notary = new URL(stack.notaryUrl);
  const proxy = await DelayProxy.start({ target: { host: notary.hostname, port: Number(notary.port) }, oneWayMs: 0, lifetimeMs: 60_000 });
  const server = `https://127.0.0.1:${proxy.port}`;
  const client = new TrustClient({ requestTimeoutMs: 2000 });
  try {
    const repo = await load(client, server, '127.0.0.1:5000/live/app');
    expect(repo.roles.get('targets')?.doc.body.targets.has('1.0')).toBe(true);
    // The first connection, then the rest of the wave together: root, timestamp, snapshot,
    // targets, targets/releases, one connection each.
    expect(proxy.connections).toBe(5);
    await proxy.stop();
    // The first review after the host went down may try the connections it knew were good.
    await expect(load(client, server, '127.0.0.1:5000/live/app')).rejects.toMatchObject({ code: 'UNREACHABLE' });
    const before = attempts.get(proxy.port) ?? 0;
    await expect(load(client, server, '127.0.0.1:5000/live/other')).rejects.toMatchObject({ code: 'UNREACHABLE' });
    expect((attempts.get(proxy.port) ?? 0) - before).toBe(1);
  } finally {
    client.close();
    await proxy.stop();
  }
});
