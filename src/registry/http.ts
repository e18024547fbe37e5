// One bounded HTTP(S) request, shared by the Notary fetcher (src/trust/fetcher.ts), the token flow
// (src/registry/auth.ts) and the OCI registry client (src/registry/oci/). It follows no redirect:
// the OCI transport decides where a redirect may go and what it may carry.
import type { Agent, ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { TrustError } from '../shared/trust-error.js';

// Not `import http from 'node:http'`: on Node 24 that builds an ES module namespace by reading
// every export of http, whose lazy WebSocket getters load undici — ~60 ms of CPU at every
// `trustgate verify` start (docs/adr/0006-node-24.md). The CommonJS object skips that. Taken at
// the first request, not when this module loads: a V8 start-up snapshot of the CLI cannot hold
// node:http (bench/snapshot-prototype), and every command that loads this module makes a request.
const http = () => process.getBuiltinModule('node:http');
// node:https (and node:tls under it) only when a request is made over TLS: loading them costs
// ~15-20 ms of CPU, which `trustgate verify` against a plain-HTTP registry need not pay
// (bench/cosign-cli-vs-cosign.ts). getBuiltinModule returns the loaded module after the first call.
const https = () => process.getBuiltinModule('node:https');

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * Told whether a request's connection came up: `connected` at its TCP handshake (at once on a
 * kept-alive connection), `failed` when it never did (refused, unreachable, the request's own
 * timeout while connecting). Neither when the caller aborts first: that says nothing of the host.
 */
export interface ConnectionObserver {
  connected(): void;
  failed(): void;
}

export interface HttpRequest {
  readonly url: URL;
  readonly agent: Agent;
  readonly maxBytes: number;
  /** Whole request, connection to last byte: a stalled server cannot hold us longer. */
  readonly timeoutMs: number;
  /** The caller's overall deadline. */
  readonly signal: AbortSignal | undefined;
  /** HEAD reads headers only: a manifest's Content-Length there is not a body to refuse. */
  readonly method?: 'GET' | 'POST' | 'HEAD';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** What the bytes are, for error messages: "timestamp from https://notary:4443". */
  readonly what: string;
  readonly connection?: ConnectionObserver;
}

/** One bounded HTTP(S) request. Every failure is a TrustError: TIMEOUT, TOO_LARGE or UNREACHABLE. */
export function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    const transport = req.url.protocol === 'https:' ? https() : http();
    let settled = false;
    // A failure while connecting (not an abort, nor a wait for one of the agent's sockets) is the host's.
    let connecting = false;
    const unconnected = (): void => {
      if (connecting && !settled) req.connection?.failed();
    };
    const finish = (error: TrustError | undefined, response?: HttpResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
      if (error) {
        request?.destroy();
        reject(error);
      } else if (response) resolve(response);
    };
    const timeout = () => new TrustError('TIMEOUT', `${req.what} did not arrive within ${req.timeoutMs} ms`);
    const timer = setTimeout(() => {
      unconnected();
      finish(timeout());
    }, req.timeoutMs);
    const onAbort = (): void =>
      finish(req.signal?.reason instanceof TrustError ? req.signal.reason : new TrustError('TIMEOUT', `${req.what}: deadline passed`));

    let request: ClientRequest | undefined;
    try {
      request = transport.request(req.url, { method: req.method ?? 'GET', agent: req.agent, headers: { 'user-agent': 'trustgate', ...req.headers } }, onResponse);
    } catch (cause) {
      // Refused before any connection (an agent of the other protocol, a header Node will not
      // send): an answer now, and no timer left to fire on a request that never was.
      finish(unreachable(req, cause as NodeJS.ErrnoException));
      return;
    }
    request.on('error', (cause: NodeJS.ErrnoException) => {
      unconnected();
      finish(unreachable(req, cause));
    });
    if (req.connection) {
      const observer = req.connection;
      request.once('socket', (socket) => {
        const up = (): void => {
          connecting = false;
          if (!settled) observer.connected();
        };
        if (socket.connecting) {
          connecting = true;
          socket.once('connect', up);
        } else up();
      });
    }
    if (req.signal?.aborted) onAbort();
    else req.signal?.addEventListener('abort', onAbort, { once: true });
    request.end(req.body);

    function onResponse(res: IncomingMessage): void {
      const declared = Number(res.headers['content-length'] ?? '0');
      if (declared > req.maxBytes && req.method !== 'HEAD') {
        finish(tooLarge(req));
        return;
      }
      const chunks: Buffer[] = [];
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > req.maxBytes) finish(tooLarge(req));
        else chunks.push(chunk);
      });
      res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', (cause) => finish(new TrustError('UNREACHABLE', `${req.what}: connection broke: ${cause.message}`, { cause })));
    }
  });
}

function tooLarge(req: HttpRequest): TrustError {
  return new TrustError('TOO_LARGE', `${req.what} is larger than the ${req.maxBytes} bytes allowed`);
}

function unreachable(req: HttpRequest, cause: NodeJS.ErrnoException): TrustError {
  const tls = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/.test(cause.code ?? '');
  const hint = tls ? ' (TLS verification failed: pass the server CA with --ca-file / caBundle)' : '';
  return new TrustError('UNREACHABLE', `cannot reach ${req.url.origin} for ${req.what}: ${cause.code ?? cause.message}${hint}`, { cause });
}

/**
 * An agent pushed out of an LRU: its idle connections close now, and those still carrying a
 * request close when it ends (destroying them outright would fail another team's lookup).
 */
export function retireAgent(agent: Agent): void {
  agent.keepSocketAlive = () => false;
  for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
}
