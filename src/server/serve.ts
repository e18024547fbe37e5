// The listeners: HTTPS for the webhook, plain HTTP for metrics when configured. Graceful
// shutdown: stop accepting, let in-flight reviews finish, then close what is left.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type express from 'express';
import type { RequestListener } from './app.js';
import { secureContextOf, type TlsMaterial } from './tls.js';

export interface Listener {
  readonly server: http.Server;
  readonly port: number;
  close(graceMs: number): Promise<void>;
}

export async function listenHttps(app: express.Express | RequestListener, tls: TlsMaterial, host: string, port: number): Promise<Listener & { server: https.Server }> {
  // With a client CA, a certificate is asked for but not required by the handshake: the
  // kubelet's probes present none and must still reach /healthz and /readyz; the request
  // listener refuses every other path to an unauthenticated client (client-auth.ts).
  const server = https.createServer({ ...secureContextOf(tls), requestCert: tls.clientCa !== undefined, rejectUnauthorized: false }, app);
  return listen(server, host, port);
}

export async function listenHttp(app: express.Express | RequestListener, host: string, port: number): Promise<Listener> {
  return listen(http.createServer(app), host, port);
}

async function listen<S extends http.Server>(server: S, host: string, port: number): Promise<Listener & { server: S }> {
  // Slow or silent clients cannot hold a socket for long (slowloris).
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        // A keep-alive connection (the API server's) that finishes its review after close()
        // turns idle but stays open: keep closing idle ones until none is left.
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          clearInterval(sweep);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
