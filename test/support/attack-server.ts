// A Notary read API of our own, for faults the real notary-server cannot produce: tampered or
// replayed metadata, responses that never end, servers that stall. Everything it serves is
// first shown to the real notary client (test/integration/attacks.test.ts).
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TlsFiles } from './tls.js';

/** `error`: answers 503, as a trust server that is down behind its load balancer. */
export type Fault = 'endless' | 'stall' | 'error';

export class AttackServer {
  files = new Map<string, Buffer>();
  /** Faults by file name (`timestamp`, `root`, …). */
  faults = new Map<string, Fault>();
  readonly requests: string[] = [];
  private readonly server: https.Server;
  private readonly sockets = new Set<import('node:stream').Duplex>();

  constructor(tls: TlsFiles, private readonly gun: string) {
    this.server = https.createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (req, res) => this.handle(req.url ?? '', res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(url: string, res: import('node:http').ServerResponse): void {
    if (url === '/v2/' || url === '/v2') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    const prefix = `/v2/${this.gun}/_trust/tuf/`;
    if (!url.startsWith(prefix) || !url.endsWith('.json')) {
      res.writeHead(404).end();
      return;
    }
    const name = url.slice(prefix.length, -'.json'.length);
    this.requests.push(name);
    const fault = this.faults.get(name.replace(/\.[0-9a-f]{64}$/, ''));
    if (fault === 'stall') return; // never answer: the client's own timeout must end it
    if (fault === 'error') {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('service unavailable');
      return;
    }
    if (fault === 'endless') {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (res.write(chunk)) {
          /* fill the socket until it pushes back */
        }
      };
      res.on('drain', pump);
      res.on('close', () => res.off('drain', pump));
      res.write('{"signed":');
      pump();
      return;
    }
    const bytes = this.files.get(name);
    if (!bytes) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"METADATA_NOT_FOUND"}]}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length }).end(bytes);
  }
}

/**
 * An attacker's own registry host acting as its `https://<registry>` trust server: serves the
 * files of any number of repositories, `files` keyed by "<gun> <file>" (`root`, `timestamp`,
 * `snapshot.<hex>`, …), as built by repo-builder.ts. For hostile metadata the real
 * notary-server would refuse to store (huge keys, junk signatures, padded roles).
 */
export async function serveTrustFiles(tls: TlsFiles, files: ReadonlyMap<string, Buffer>): Promise<{ server: https.Server; registry: string }> {
  const server = https.createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (req, res) => {
    const m = /^\/v2\/(.+)\/_trust\/tuf\/(.+)\.json$/.exec(req.url ?? '');
    const bytes = m && files.get(`${m[1]!} ${m[2]!}`);
    if (!bytes) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length }).end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, registry: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}
