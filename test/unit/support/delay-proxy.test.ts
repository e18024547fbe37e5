// The benchmark's delaying proxy (test/support/delay-proxy.ts): bytes pass unchanged and in
// order, each round trip costs the added delay, a new connection one round trip more, and the
// proxy stops by itself at the end of its lifetime.
import net from 'node:net';
import { DelayProxy } from '../../support/delay-proxy.js';

let echo: net.Server;
let echoPort: number;

beforeAll(async () => {
  echo = net.createServer((s) => s.pipe(s));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => echo.close(() => resolve())));

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

function roundTrip(socket: net.Socket, text: string): Promise<{ text: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    let got = '';
    const onData = (chunk: Buffer) => {
      got += chunk.toString();
      if (got.length >= text.length) {
        socket.off('data', onData);
        resolve({ text: got, ms: Date.now() - started });
      }
    };
    socket.on('data', onData);
    socket.write(text);
  });
}

test('bytes arrive unchanged; the first exchange costs two round trips (handshake), later ones one', async () => {
  const proxy = await DelayProxy.start({ target: { host: '127.0.0.1', port: echoPort }, oneWayMs: 40 });
  try {
    const socket = await connect(proxy.port);
    const first = await roundTrip(socket, 'hello');
    const second = await roundTrip(socket, 'a'.repeat(100_000));
    socket.destroy();
    expect(first.text).toBe('hello');
    expect(second.text).toBe('a'.repeat(100_000));
    expect(first.ms).toBeGreaterThanOrEqual(2 * 80 - 2);
    expect(second.ms).toBeGreaterThanOrEqual(80 - 2);
    expect(proxy.connections).toBe(1);
  } finally {
    await proxy.stop();
  }
});

test('stops by itself after its lifetime, closing open connections', async () => {
  const proxy = await DelayProxy.start({ target: { host: '127.0.0.1', port: echoPort }, oneWayMs: 0, lifetimeMs: 200 });
  const socket = await connect(proxy.port);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  await closed;
  await expect(connect(proxy.port)).rejects.toThrow(/ECONNREFUSED/);
});
