// An HTTPS server that plays a trust server or a token realm and records every Authorization
// header it is sent: the one thing a credential-exfiltration test must see. Asked without
// credentials it answers 401 with the challenge it is given (Basic, or Bearer naming any realm);
// as a realm (/token) it hands out a token; asked with credentials it has no trust data (404),
// as a server nobody published to would.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TlsFiles } from './tls.js';

export interface Received {
  readonly path: string;
  readonly authorization: string | undefined;
}

export class CredentialRecorder {
  readonly received: Received[] = [];
  /** The WWW-Authenticate header of the 401 answer. */
  challenge = 'Basic realm="trust"';
  private readonly server: https.Server;

  constructor(tls: TlsFiles) {
    this.server = https.createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (req, res) => {
      const authorization = req.headers.authorization;
      this.received.push({ path: req.url ?? '', authorization });
      req.resume();
      if ((req.url ?? '').startsWith('/token')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'recorded-token', expires_in: 300 }));
      } else if (authorization === undefined) {
        res.writeHead(401, { 'www-authenticate': this.challenge, 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      } else {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"METADATA_NOT_FOUND"}]}');
      }
    });
  }

  async listen(host = '127.0.0.1'): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, host, resolve));
    return (this.server.address() as AddressInfo).port;
  }

  /** Every credential it was sent, decoded: `Basic user:password` or `Bearer token`. */
  credentials(): string[] {
    return this.received.flatMap(({ authorization: a }) => {
      if (a === undefined) return [];
      const basic = /^Basic (.+)$/i.exec(a)?.[1];
      return [basic === undefined ? a : `Basic ${Buffer.from(basic, 'base64').toString('utf8')}`];
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
