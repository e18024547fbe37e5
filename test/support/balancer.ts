// A round-robin TCP balancer on loopback in front of `trustgate serve` replicas, standing in for
// the chart's Service (kube-proxy) when the API server calls trustgate by URL on loopback, as
// the e2e tests register it. Written as simply as it can be: each new connection goes to the next
// backend; a backend that refuses the connection (a killed replica) is skipped for the next one,
// as a Service stops sending to an endpoint once it is NotReady. No health checks, no draining:
// connections already open to a replica that dies are reset, and the API server's call on them
// fails (failurePolicy: Fail denies it). TLS passes through untouched. Bounded: at most
// `maxConnections` at once, and it closes by itself after `lifetimeMs`.
import net from 'node:net';

export interface BalancerOptions {
  /** Ports of the backends on 127.0.0.1. */
  readonly backends: readonly number[];
  readonly maxConnections?: number;
  readonly lifetimeMs?: number;
}

export class Balancer {
  /** Connections handed to each backend, by port. */
  readonly connections = new Map<number, number>();
  /** Connections no backend accepted (every one refused). */
  refused = 0;
  private next = 0;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    private readonly backends: readonly number[],
    private readonly lifetime: NodeJS.Timeout,
  ) {}

  static async start(options: BalancerOptions): Promise<Balancer> {
    if (options.backends.length === 0) throw new Error('a balancer needs at least one backend');
    const started: { balancer?: Balancer } = {};
    const server = net.createServer((client) => started.balancer?.accept(client));
    server.maxConnections = options.maxConnections ?? 256;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const lifetime = setTimeout(() => void started.balancer?.stop(), options.lifetimeMs ?? 3_600_000);
    lifetime.unref();
    const address = server.address() as net.AddressInfo;
    started.balancer = new Balancer(server, address.port, [...options.backends], lifetime);
    return started.balancer;
  }

  private accept(client: net.Socket): void {
    this.sockets.add(client);
    client.once('close', () => this.sockets.delete(client));
    client.on('error', () => client.destroy());
    client.pause();
    const first = this.next;
    this.next = (this.next + 1) % this.backends.length;
    this.connect(client, first, 0);
  }

  /** Tries backend `index`, then the following ones, each at most once. */
  private connect(client: net.Socket, index: number, tried: number): void {
    if (tried >= this.backends.length || client.destroyed) {
      this.refused++;
      client.destroy();
      return;
    }
    const port = this.backends[index % this.backends.length]!;
    const upstream = net.connect(port, '127.0.0.1');
    this.sockets.add(upstream);
    upstream.once('close', () => this.sockets.delete(upstream));
    const onConnectError = () => {
      upstream.destroy();
      this.connect(client, index + 1, tried + 1);
    };
    upstream.once('error', onConnectError);
    upstream.once('connect', () => {
      upstream.off('error', onConnectError);
      this.connections.set(port, (this.connections.get(port) ?? 0) + 1);
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }

  async stop(): Promise<void> {
    clearTimeout(this.lifetime);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
