// How every request of the OCI client reaches a registry: over HTTPS (HTTP only for a registry a
// user marked insecure), authenticated by the registry's own challenge, following redirects
// without carrying credentials off the registry's origin, and all within one deadline per call.
// distribution-spec "API": clients "MUST NOT forward Authorization headers across host
// boundaries"; docs/adr/0005: the credentials are the caller's choice, never this client's.
import { createHash } from 'node:crypto';
import type { Agent } from 'node:http';
import { LRUCache } from 'lru-cache';
import { MetadataBudget } from '../../shared/metadata-budget.js';
import { TrustError } from '../../shared/trust-error.js';
import { DEFAULT_REGISTRY } from '../../reference/index.js';
import { parseChallenge, TokenSource, type Challenge } from '../auth.js';
import type { Credentials } from '../credentials.js';
import { httpRequest, retireAgent, type HttpResponse } from '../http.js';
import type { RegistryClientBounds, RegistryClientSizes, RegistryLimits } from './limits.js';
import type { RegistryConnection } from './types.js';

// The CommonJS object, at the first request, as in src/registry/http.ts (docs/adr/0006-node-24.md).
const http = () => process.getBuiltinModule('node:http');

/** Docker Hub's API host (docker registry/config.go, DefaultV2Registry). */
const DOCKER_HUB_API = 'registry-1.docker.io';

const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** One call of the client (resolveTag, manifest, blob, referrers): every request it makes. */
export interface Call {
  readonly conn: RegistryConnection;
  readonly repository: string;
  /** The registry's origin: the only place its credentials and tokens go. */
  readonly origin: URL;
  /** Aborted when the call's time is up or the caller's signal fires. */
  readonly signal: AbortSignal;
  readonly deadline: number;
}

export interface RegistryRequest {
  readonly method: 'GET' | 'HEAD';
  /** Path and query on the registry's origin: `/v2/<name>/manifests/<reference>`. */
  readonly path: string;
  readonly accept?: string;
  readonly maxBytes: number;
  /** What is fetched, for messages: "manifest 1.0 of team/app". */
  readonly what: string;
}

export interface RegistryResponse extends HttpResponse {
  /** Where the answer came from, after redirects. */
  readonly url: URL;
}

export class RegistryTransport {
  private readonly agents: LRUCache<string, Agent>;
  private readonly challenges: LRUCache<string, Challenge>;
  private readonly budget: MetadataBudget;
  readonly tokens: TokenSource;

  constructor(
    private readonly limits: RegistryLimits,
    bounds: RegistryClientBounds,
    now: () => number,
    budget: MetadataBudget | undefined,
  ) {
    this.agents = new LRUCache<string, Agent>({ max: bounds.agents, dispose: (agent) => retireAgent(agent) });
    this.challenges = new LRUCache<string, Challenge>({ max: bounds.challenges });
    this.tokens = new TokenSource(now, bounds.tokens);
    this.budget = budget ?? new MetadataBudget(bounds.budget);
  }

  /** Entries each bounded structure holds now, and the bytes of the budget held and waited for (metrics, tests). */
  sizes(): RegistryClientSizes {
    const budget = this.budget.sizes();
    return { agents: this.agents.size, challenges: this.challenges.size, tokens: this.tokens.size, bytesHeld: budget.held, bytesWaiting: budget.waiting };
  }

  /**
   * A GET whose answer `use` reads (checks, parses) while the answer's bytes are held from the
   * client's byte budget, as ADR 0008 holds Notary documents: each document alone is bounded,
   * but calls in flight together must be too (a pod can name 64 attacker-run registries, each
   * serving pages of 200,000 JSON values). Nothing declares a registry document's length before
   * it is asked for, so it is read within a small document's share first and, only when larger,
   * again holding its whole limit: real manifests and referrers pages are a few KB.
   */
  async fetch<T>(call: Call, req: RegistryRequest, use: (res: RegistryResponse) => T | Promise<T>): Promise<T> {
    const { smallDocumentBytes, bytes, reservedForSmall } = this.budget.bounds;
    if (req.maxBytes > bytes - reservedForSmall) {
      throw new TrustError('INVALID_OPTION', `${req.what}: a limit of ${req.maxBytes} bytes is more than the registry client's budget for one document (${bytes - reservedForSmall})`);
    }
    if (req.maxBytes > smallDocumentBytes) {
      const small = await this.held(call, smallDocumentBytes, () => this.send(call, { ...req, maxBytes: smallDocumentBytes }), use);
      if (small.read) return small.value;
    }
    const whole = await this.held(call, req.maxBytes, () => this.send(call, req), use);
    if (!whole.read) throw whole.error;
    return whole.value;
  }

  /** `use` of one answer, `bytes` held meanwhile; `read: false` when the answer was larger than `bytes`. */
  private async held<T>(
    call: Call,
    bytes: number,
    send: () => Promise<RegistryResponse>,
    use: (res: RegistryResponse) => T | Promise<T>,
  ): Promise<{ read: true; value: T } | { read: false; error: TrustError }> {
    await this.budget.acquire(bytes, call.signal);
    try {
      let res: RegistryResponse;
      try {
        res = await send();
      } catch (error) {
        if (error instanceof TrustError && error.code === 'TOO_LARGE') return { read: false, error };
        throw error;
      }
      return { read: true, value: await use(res) };
    } finally {
      this.budget.release(bytes);
    }
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  /** Runs `work` with a Call whose deadline is `conn.timeoutMs` from now, or the caller's signal. */
  async call<T>(conn: RegistryConnection, repository: string, what: string, work: (call: Call) => Promise<T>): Promise<T> {
    const origin = registryOrigin(conn);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new TrustError('TIMEOUT', `${what} from ${origin.host} did not arrive within ${conn.timeoutMs} ms`)), conn.timeoutMs);
    const onAbort = (): void =>
      controller.abort(conn.signal?.reason instanceof TrustError ? conn.signal.reason : new TrustError('TIMEOUT', `${what} from ${origin.host}: deadline passed`));
    if (conn.signal?.aborted) onAbort();
    else conn.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await work({ conn, repository, origin, signal: controller.signal, deadline: Date.now() + conn.timeoutMs });
    } finally {
      clearTimeout(timer);
      conn.signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * One request of a call, authenticated: with a token at once when the registry challenged
   * before, else after its 401. 401 or 403 after authenticating is AUTH_FAILED.
   */
  async send(call: Call, req: RegistryRequest): Promise<RegistryResponse> {
    let authorization = await this.knownAuthorization(call);
    let response = await this.follow(call, req, authorization);
    // Only the registry's own challenge counts: a storage host it redirects to names no realm.
    if (response.status === 401 && response.url.origin === call.origin.origin && authorization === undefined) {
      const header = response.headers['www-authenticate'];
      const challenge = parseChallenge(typeof header === 'string' ? header : '');
      if (!challenge) throw new TrustError('AUTH_FAILED', `${call.origin.host} answered 401 without a usable challenge for ${req.what}`);
      this.challenges.set(call.origin.origin, challenge);
      try {
        authorization = await this.authorize(call, challenge);
      } catch (error) {
        throw error instanceof TrustError && error.code === 'AUTH_FAILED' ? new TrustError('AUTH_FAILED', `${error.message}${plainHttpNote(call)}`) : error;
      }
      response = await this.follow(call, req, authorization);
    }
    if (response.status === 401 || response.status === 403) {
      const anonymous = credentialsFor(call) === undefined;
      throw new TrustError('AUTH_FAILED', `${response.url.host} refused ${anonymous ? 'anonymous' : 'authenticated'} access to ${req.what} (HTTP ${response.status})${plainHttpNote(call)}`);
    }
    return response;
  }

  private async knownAuthorization(call: Call): Promise<string | undefined> {
    const challenge = this.challenges.get(call.origin.origin);
    if (!challenge) return undefined;
    // A Basic challenge is answered at once only when there is something to answer with.
    if (challenge.scheme === 'basic' && credentialsFor(call) === undefined) return undefined;
    return this.authorize(call, challenge);
  }

  private authorize(call: Call, challenge: Challenge): Promise<string> {
    // The realm's own agent: it may be another host, and HTTPS where the registry is HTTP.
    const realm = URL.parse(challenge.params.realm ?? '');
    return this.tokens.authorization(challenge, `repository:${call.repository}:pull`, credentialsFor(call), {
      agent: this.agent(realm?.protocol === 'http:' || realm?.protocol === 'https:' ? realm : call.origin, call),
      timeoutMs: remaining(call),
      signal: call.signal,
      server: call.origin,
    });
  }

  /** The request and the redirects it is sent, at most limits.redirects; Authorization stays on the registry's origin. */
  private async follow(call: Call, req: RegistryRequest, authorization: string | undefined): Promise<RegistryResponse> {
    let url = new URL(req.path, call.origin);
    for (let hop = 0; ; hop++) {
      const own = url.origin === call.origin.origin;
      const headers: Record<string, string> = {
        ...(req.accept !== undefined && { accept: req.accept }),
        ...(own && authorization !== undefined && { authorization }),
      };
      const response = await httpRequest({
        url,
        agent: this.agent(url, call),
        maxBytes: req.maxBytes,
        timeoutMs: remaining(call),
        signal: call.signal,
        method: req.method,
        headers,
        what: `${req.what} from ${url.host}`,
      });
      if (!REDIRECTS.has(response.status)) return { ...response, url };
      if (hop >= this.limits.redirects) throw new TrustError('REGISTRY_ERROR', `${req.what}: more than ${this.limits.redirects} redirects`);
      url = redirectTarget(response, url, call.conn.insecure, req.what);
    }
  }

  /**
   * A keep-alive agent per origin and CA. The registry's own origin trusts the connection's CA
   * bundle (else the system's); another origin it sends us to (blob storage, a token realm)
   * trusts the system's CAs too: a private registry's storage is often a public cloud's.
   */
  private agent(url: URL, call: Call): Agent {
    const own = url.origin === call.origin.origin;
    const ca = call.conn.caBundle;
    const key = `${url.origin} ${own ? 'own' : 'storage'} ${ca === undefined ? '' : createHash('sha256').update(ca).digest('hex')}`;
    let agent = this.agents.get(key);
    if (!agent) {
      if (url.protocol === 'http:') agent = new (http().Agent)({ keepAlive: true, maxSockets: 16 });
      else {
        // node:https and node:tls load here, at the first TLS origin (as in src/registry/http.ts).
        const trusted = ca === undefined ? undefined : own ? ca : [...process.getBuiltinModule('node:tls').rootCertificates, ca];
        agent = new (process.getBuiltinModule('node:https').Agent)({ keepAlive: true, maxSockets: 16, minVersion: 'TLSv1.2', ...(trusted !== undefined && { ca: trusted }) });
      }
      this.agents.set(key, agent);
    }
    return agent;
  }
}

/** `https://<registry>`, or `http://` for a registry marked insecure; Docker Hub at its API host. */
export function registryOrigin(conn: RegistryConnection): URL {
  const host = conn.registry === DEFAULT_REGISTRY ? DOCKER_HUB_API : conn.registry;
  let url: URL | undefined;
  try {
    url = new URL(`${conn.insecure ? 'http' : 'https'}://${host}`);
  } catch {
    url = undefined;
  }
  if (url?.host !== host.toLowerCase() || url.pathname !== '/') {
    throw new TrustError('INVALID_OPTION', `registry ${JSON.stringify(conn.registry.slice(0, 100))} is not a host name`);
  }
  return url;
}

/**
 * Credentials for this call: the connection's, except over plain HTTP, where none are used —
 * a password or a token read on the wire is a stolen one. A registry that needs them must be
 * reached over HTTPS.
 */
function credentialsFor(call: Call): Credentials | undefined {
  return call.conn.insecure ? undefined : call.conn.credentials;
}

function plainHttpNote(call: Call): string {
  return call.conn.insecure && call.conn.credentials ? ' (credentials are never sent to a registry reached over plain HTTP)' : '';
}

function redirectTarget(response: HttpResponse, from: URL, insecure: boolean, what: string): URL {
  const location = response.headers.location;
  let target: URL;
  try {
    target = new URL(location ?? '', from);
  } catch {
    throw new TrustError('REGISTRY_ERROR', `${what}: redirect without a usable Location`);
  }
  if (location === undefined) throw new TrustError('REGISTRY_ERROR', `${what}: redirect without a Location`);
  // HTTPS may not step down to HTTP, except for a registry the user accepted over HTTP anyway.
  if (target.protocol !== 'https:' && !(insecure && target.protocol === 'http:')) {
    throw new TrustError('REGISTRY_ERROR', `${what}: redirect to ${target.protocol}//${target.host}, which is not HTTPS`);
  }
  return target;
}

function remaining(call: Call): number {
  return Math.max(1, call.deadline - Date.now());
}
