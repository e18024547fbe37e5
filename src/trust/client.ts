import https from 'node:https';
import type { Credentials } from '../registry/index.js';
import { TokenSource } from './auth.js';
import { TrustError } from './errors.js';
import { NotaryFetcher, type MetadataFetcher } from './fetcher.js';
import { DEFAULT_LIMITS, type TrustLimits } from './limits.js';
import type { RootPins } from './pins.js';
import type { TrustedRepository } from './repository.js';
import { updateRepository, type RoleSelection } from './update.js';
import type { TrustedRoot } from './verify-root.js';
import { VersionStore } from './versions.js';

export interface TrustClientOptions {
  readonly limits?: TrustLimits;
  /** Each HTTP request, connection to last byte. */
  readonly requestTimeoutMs?: number;
  readonly now?: () => number;
  /** Observes each metadata request, e.g. for metrics. */
  readonly onFetch?: (server: string, file: string, ms: number, ok: boolean) => void;
  /** Replaces the network for every request, e.g. with recorded metadata in tests. */
  readonly fetcher?: (server: string, gun: string) => MetadataFetcher;
}

export interface RepositoryRequest {
  /** Base URL of the Notary server. */
  readonly server: string;
  readonly gun: string;
  readonly pins: RootPins;
  readonly roles: RoleSelection;
  /** PEM bundle to trust instead of the system CAs. */
  readonly caBundle: string | undefined;
  readonly credentials: Credentials | undefined;
  /** The whole update, every request included. */
  readonly timeoutMs: number;
  /** Replaces the network, e.g. with recorded metadata. */
  readonly fetcher?: MetadataFetcher;
}

/**
 * Fetches and verifies trust data, remembering across calls what TUF needs remembered: the
 * last trusted root (so rotations are walked) and the highest version of every role (so
 * rollbacks are refused). Keeps one keep-alive agent per server and CA bundle.
 */
export class TrustClient {
  private readonly limits: TrustLimits;
  private readonly requestTimeoutMs: number;
  private readonly now: () => number;
  private readonly versions = new VersionStore();
  private readonly roots = new Map<string, TrustedRoot>();
  private readonly agents = new Map<string, https.Agent>();
  private readonly tokens: TokenSource;

  constructor(private readonly options: TrustClientOptions = {}) {
    this.limits = options.limits ?? DEFAULT_LIMITS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.now = options.now ?? Date.now;
    this.tokens = new TokenSource(this.now);
  }

  async loadRepository(req: RepositoryRequest): Promise<TrustedRepository> {
    const server = parseServer(req.server);
    const rootKey = JSON.stringify([server.href, req.gun, [...req.pins.keyIds].sort(), req.pins.cas.map((c) => c.fingerprint256)]);
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new TrustError('TIMEOUT', `trust data for ${req.gun} from ${server.origin} did not arrive within ${req.timeoutMs} ms`)),
      req.timeoutMs,
    );
    try {
      const fetcher = req.fetcher ?? this.options.fetcher?.(server.href, req.gun) ?? this.fetcher(server, req, deadline.signal);
      const repo = await updateRepository({
        fetcher,
        gun: req.gun,
        pins: req.pins,
        roles: req.roles,
        limits: this.limits,
        now: this.now(),
        trustedRoot: this.roots.get(rootKey),
        knownVersion: (role) => this.versions.get(server.href, req.gun, role),
      });
      // Only fully verified data moves what this process remembers.
      this.versions.record(server.href, req.gun, repo.versions);
      this.roots.set(rootKey, repo.root);
      return repo;
    } catch (error) {
      if (deadline.signal.aborted && !(error instanceof TrustError && error.code === 'TIMEOUT')) throw deadline.signal.reason;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  private fetcher(server: URL, req: RepositoryRequest, signal: AbortSignal): NotaryFetcher {
    const agentKey = `${server.origin} ${req.caBundle ?? ''}`;
    let agent = this.agents.get(agentKey);
    if (!agent) {
      agent = new https.Agent({ keepAlive: true, maxSockets: 16, minVersion: 'TLSv1.2', ...(req.caBundle !== undefined && { ca: req.caBundle }) });
      this.agents.set(agentKey, agent);
    }
    const onFetch = this.options.onFetch;
    return new NotaryFetcher({
      server,
      gun: req.gun,
      agent,
      credentials: req.credentials,
      tokens: this.tokens,
      requestTimeoutMs: Math.min(this.requestTimeoutMs, req.timeoutMs),
      signal,
      ...(onFetch && { onFetch: (file: string, ms: number, ok: boolean) => onFetch(server.origin, file, ms, ok) }),
    });
  }
}

function parseServer(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TrustError('INVALID_OPTION', `trust server "${text.slice(0, 200)}" is not a URL`);
  }
  if (url.protocol !== 'https:') throw new TrustError('INVALID_OPTION', `trust server ${url.origin} must be https://`);
  return url;
}
