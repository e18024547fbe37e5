import type http from 'node:http';
import { parseChallenge, type TokenSource } from '../registry/auth.js';
import { httpRequest, type ConnectionObserver, type HttpResponse } from '../registry/http.js';
import type { Credentials } from '../registry/index.js';
import type { ConnectGate } from './connect-gate.js';
import { TrustError } from './errors.js';

/**
 * Where metadata comes from. `file` is the name without `.json`: `root`, `timestamp`,
 * `snapshot.<sha256 hex>`, `targets/releases.<hex>`, `3.root`. Undefined means not found.
 * Swappable so verification can run on recorded bytes (tests, benchmarks).
 */
export interface MetadataFetcher {
  fetch(file: string, maxBytes: number): Promise<Buffer | undefined>;
}

export interface NotaryFetcherOptions {
  readonly server: URL;
  readonly gun: string;
  readonly agent: http.Agent;
  readonly credentials: Credentials | undefined;
  readonly tokens: TokenSource;
  readonly requestTimeoutMs: number;
  readonly signal: AbortSignal | undefined;
  /** The server's: a host not yet reached gets one connection attempt before the rest of a wave. */
  readonly gate?: ConnectGate;
  /** Called once per metadata request, for metrics. */
  readonly onFetch?: (file: string, ms: number, ok: boolean) => void;
}

/** Notary v1's read API: GET /v2/<gun>/_trust/tuf/<file>.json, with the token flow on 401. */
export class NotaryFetcher implements MetadataFetcher {
  private authorization: string | undefined;
  private authenticating: Promise<void> | undefined;

  constructor(private readonly options: NotaryFetcherOptions) {}

  async fetch(file: string, maxBytes: number): Promise<Buffer | undefined> {
    const { server, gun } = this.options;
    const url = new URL(`${server.pathname.replace(/\/$/, '')}/v2/${gun}/_trust/tuf/${file}.json`, server);
    const started = Date.now();
    let ok = false;
    try {
      let response = await this.get(url, file, maxBytes);
      if (response.status === 401) {
        await this.authenticate(response);
        response = await this.get(url, file, maxBytes);
        if (response.status === 401 || response.status === 403) {
          throw new TrustError('AUTH_FAILED', `${server.origin} refused access to the trust data of ${gun} (HTTP ${response.status})`);
        }
      }
      const body = this.interpret(response, file);
      ok = true;
      return body;
    } finally {
      this.options.onFetch?.(file, Date.now() - started, ok);
    }
  }

  private get(url: URL, file: string, maxBytes: number): Promise<HttpResponse> {
    const headers: Record<string, string> = this.authorization ? { authorization: this.authorization } : {};
    const what = `${file}.json of ${this.options.gun}`;
    const request = (connection?: ConnectionObserver) =>
      httpRequest({ url, agent: this.options.agent, maxBytes, timeoutMs: this.options.requestTimeoutMs, signal: this.options.signal, headers, what, ...(connection && { connection }) });
    const gate = this.options.gate;
    if (!gate) return request();
    return gate.run(this.options.signal, request, () => new TrustError('UNREACHABLE', `cannot reach ${url.origin} for ${what}: the first connection to it failed`));
  }

  /**
   * The wave of requests a cold update sends at once (src/trust/update.ts) meets one challenge
   * per request: they share one token request, not one each.
   */
  private authenticate(response: HttpResponse): Promise<void> {
    this.authenticating ??= this.requestToken(response);
    return this.authenticating;
  }

  private async requestToken(response: HttpResponse): Promise<void> {
    const header = response.headers['www-authenticate'];
    const challenge = parseChallenge(typeof header === 'string' ? header : '');
    if (!challenge) throw new TrustError('AUTH_FAILED', `${this.options.server.origin} answered 401 without a usable challenge`);
    this.authorization = await this.options.tokens.authorization(challenge, `repository:${this.options.gun}:pull`, this.options.credentials, {
      agent: this.options.agent,
      timeoutMs: this.options.requestTimeoutMs,
      signal: this.options.signal,
      server: this.options.server,
    });
  }

  private interpret(response: HttpResponse, file: string): Buffer | undefined {
    if (response.status === 200) return response.body;
    if (response.status === 404) return undefined;
    if (response.status === 403) throw new TrustError('AUTH_FAILED', `${this.options.server.origin} forbids reading ${file}.json of ${this.options.gun}`);
    throw new TrustError('SERVER_ERROR', `${this.options.server.origin} answered HTTP ${response.status} for ${file}.json of ${this.options.gun}`);
  }
}
