// The soak's round-robin balancer (test/support/balancer.ts): connections alternate between the
// backends, a backend that refuses (a killed replica) is skipped for the next, and with none
// left the client's connection is closed, not left hanging.
import net from 'node:net';
import { Balancer } from '../../support/balancer.js';

/** A backend answering every connection with its name. */
async function named(name: string): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer((s) => s.end(name));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as net.AddressInfo).port };
}

/** What a connection through the balancer receives before it closes. */
function receive(port: number): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = net.connect(port, '127.0.0.1');
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', () => {});
    s.on('close', () => resolve(Buffer.concat(chunks).toString()));
  });
}

it('alternates, skips a backend that refuses, and closes the client when none accepts', async () => {
  const a = await named('a');
  const b = await named('b');
  const balancer = await Balancer.start({ backends: [a.port, b.port] });
  try {
    expect([await receive(balancer.port), await receive(balancer.port), await receive(balancer.port)]).toEqual(['a', 'b', 'a']);
    await new Promise<void>((resolve) => b.server.close(() => resolve()));
    expect([await receive(balancer.port), await receive(balancer.port)]).toEqual(['a', 'a']);
    await new Promise<void>((resolve) => a.server.close(() => resolve()));
    expect(await receive(balancer.port)).toBe('');
    expect(balancer.refused).toBe(1);
    expect(balancer.connections.get(a.port)).toBe(4);
  } finally {
    await balancer.stop();
  }
});

it('refuses to start without backends', async () => {
  await expect(Balancer.start({ backends: [] })).rejects.toThrow(/at least one backend/);
});
