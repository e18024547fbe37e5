// A TCP proxy on loopback that adds latency between a client and a server, for benchmarks of
// round trips (bench/cold-latency.ts). Bytes pass through unchanged (TLS included: the client
// still talks to the server's certificate); each chunk is held `oneWayMs` in each direction, so
// every round trip costs 2 × oneWayMs more. Bounded: at most `maxConnections` at once, and it
// closes by itself after `lifetimeMs` even if nobody stops it.
import net from 'node:net';

export interface DelayProxyOptions {
  /** host:port of the server behind the proxy. */
  readonly target: { host: string; port: number };
  /** Delay of each chunk in each direction. */
  readonly oneWayMs: number;
  readonly maxConnections?: number;
  readonly lifetimeMs?: number;
}

export class DelayProxy {
  /** TCP connections accepted since start (each is a handshake on the critical path when cold). */
  connections = 0;
  private readonly sockets = new Set<net.Socket>();
  private oneWayMs: number;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    private readonly target: { host: string; port: number },
    oneWayMs: number,
    private readonly lifetime: NodeJS.Timeout,
  ) {
    this.oneWayMs = oneWayMs;
  }

  static async start(options: DelayProxyOptions): Promise<DelayProxy> {
    const started: { proxy?: DelayProxy } = {};
    const server = net.createServer((client) => started.proxy?.accept(client));
    server.maxConnections = options.maxConnections ?? 64;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const port = (server.address() as net.AddressInfo).port;
    const lifetime = setTimeout(() => void started.proxy?.stop(), options.lifetimeMs ?? 10 * 60_000);
    lifetime.unref();
    started.proxy = new DelayProxy(server, port, options.target, options.oneWayMs, lifetime);
    return started.proxy;
  }

  /** Connections open now (a client and its upstream count once). */
  get open(): number {
    return this.sockets.size / 2;
  }

  /** Changes the delay for chunks that arrive from now on. */
  setDelay(oneWayMs: number): void {
    this.oneWayMs = oneWayMs;
  }

  private accept(client: net.Socket): void {
    this.connections++;
    const upstream = net.connect(this.target.port, this.target.host);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.setNoDelay(true);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    // The kernel completes the client's TCP handshake with the proxy at once: its first bytes
    // are held one more round trip, as they would leave only after a SYN/SYN-ACK over the link.
    this.pipe(client, upstream, Date.now() + 3 * this.oneWayMs);
    this.pipe(upstream, client, 0);
  }

  /** Forwards chunks in order, each `oneWayMs` after it arrived (none before `notBefore`); ends after the last. */
  private pipe(from: net.Socket, to: net.Socket, notBefore: number): void {
    let last = notBefore;
    const later = (fn: () => void): void => {
      const at = Math.max(Date.now() + this.oneWayMs, last);
      last = at;
      setTimeout(fn, Math.max(0, at - Date.now()));
    };
    from.on('data', (chunk: Buffer) => later(() => !to.destroyed && to.write(chunk)));
    from.on('end', () => later(() => to.end()));
  }

  async stop(): Promise<void> {
    clearTimeout(this.lifetime);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
