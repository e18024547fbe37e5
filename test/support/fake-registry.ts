// A registry of our own, for faults Debian's docker-registry cannot produce: bytes that are not
// what their digest names, endless or looping referrers pages, redirects to other hosts,
// oversized, stalled or wrongly typed answers, hostile challenges. HTTPS with the test CA, or
// plain HTTP. It records every request with its Authorization header: what a credential-leak
// test must see. Each test sets `route`; nothing is served by default (404).
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TlsFiles } from './tls.js';

export interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
}

export type Route = (req: IncomingMessage, res: ServerResponse) => void;

export class FakeRegistry {
  readonly received: Recorded[] = [];
  route: Route = (_req, res) => void res.writeHead(404).end();
  private readonly sockets = new Set<Duplex>();
  private readonly server: http.Server | https.Server;
  private port = 0;

  private constructor(
    private readonly tls: TlsFiles | undefined,
    private readonly hostname: string,
  ) {
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.received.push({ method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization });
      req.resume();
      this.route(req, res);
    };
    this.server = tls ? https.createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, handler) : http.createServer(handler);
    this.server.on('connection', (socket: Duplex) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** HTTPS when given TLS files, else plain HTTP; `hostname` is how clients name it (127.0.0.1 or localhost). */
  static async start(tls: TlsFiles | undefined, hostname = '127.0.0.1'): Promise<FakeRegistry> {
    const registry = new FakeRegistry(tls, hostname);
    await new Promise<void>((resolve) => registry.server.listen(0, '127.0.0.1', resolve));
    registry.port = (registry.server.address() as AddressInfo).port;
    return registry;
  }

  /** `127.0.0.1:<port>`: the registry name a connection gives. */
  get host(): string {
    return `${this.hostname}:${this.port}`;
  }

  get origin(): string {
    return `${this.tls ? 'https' : 'http'}://${this.host}`;
  }

  /** Every credential it was sent, decoded: `Basic user:password` or `Bearer token`. */
  credentials(): string[] {
    return this.received.flatMap(({ authorization: a }) => {
      if (a === undefined) return [];
      const basic = /^Basic (.+)$/i.exec(a)?.[1];
      return [basic === undefined ? a : `Basic ${Buffer.from(basic, 'base64').toString('utf8')}`];
    });
  }

  paths(): string[] {
    return this.received.map((r) => r.path);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Answers with `body` and its Content-Length. */
export function send(res: ServerResponse, status: number, body: Buffer | string, headers: Record<string, string> = {}): void {
  const bytes = Buffer.from(body);
  res.writeHead(status, { 'content-length': String(bytes.length), ...headers }).end(bytes);
}

/** Streams `prefix` then spaces without end and without a Content-Length, until the client hangs up. */
export function sendEndless(res: ServerResponse, headers: Record<string, string>, prefix = ''): void {
  res.writeHead(200, headers);
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const pump = (): void => {
    while (res.write(chunk)) {
      /* fill the socket until it pushes back */
    }
  };
  res.on('drain', pump);
  res.on('close', () => res.off('drain', pump));
  res.write(prefix);
  pump();
}
