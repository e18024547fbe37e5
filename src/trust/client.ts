import { createHash } from 'node:crypto';
import https from 'node:https';
import { LRUCache } from 'lru-cache';
import { TokenSource } from '../registry/auth.js';
import { httpRequest, retireAgent } from '../registry/http.js';
import { credentialsFingerprint, type Credentials } from '../registry/index.js';
import { ConnectGate } from './connect-gate.js';
import { BudgetedFetcher, DEFAULT_METADATA_BUDGET, MetadataBudget, type MetadataBudgetBounds } from './budget.js';
import { TrustError } from './errors.js';
import { NotaryFetcher, type MetadataFetcher } from './fetcher.js';
import { SharedWork } from '../shared/shared-work.js';
import { DEFAULT_LIMITS, type TrustLimits } from './limits.js';
import { hasPins, type RootPins } from './pins.js';
import type { TrustedRepository } from './repository.js';
import { updateRepository, type RoleSelection } from './update.js';
import { restoreRoot, type TrustedRoot } from './verify-root.js';
import type { TrustState } from './trust-state.js';
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
  /** Bounds of what this client remembers (docs/architecture.md, "Caches and what bounds them"). */
  readonly bounds?: Partial<TrustClientBounds>;
  /** Metadata bytes that loads in flight may hold, all together (src/trust/budget.ts). */
  readonly metadataBudget?: MetadataBudgetBounds;
  /**
   * A budget shared with other clients (serve hands the same one to the OCI registry client), so
   * what the kinds of trust hold at once is one bound; instead of one made from metadataBudget.
   */
  readonly budget?: MetadataBudget;
  /**
   * Where roots trusted on first use and rollback floors are kept for every replica and restart
   * (src/trust/trust-state.ts); without it they live in this process only (the CLI).
   */
  readonly state?: TrustState;
}

/**
 * How much a TrustClient remembers. Registry hosts are attacker-chosen (any pod can name any
 * host), so every one of these is bounded; the defaults hold far more than a cluster uses.
 */
export interface TrustClientBounds {
  /** Keep-alive HTTPS agents, one per trust server and CA bundle; least recently used retire. */
  readonly agents: number;
  /** Roots trusted earlier, per server, repository and pins. */
  readonly roots: number;
  /** Bytes of those roots' metadata (a root may be up to limits.rootBytes). */
  readonly rootBytes: number;
  /** Repositories whose role versions are remembered (the rollback floor). */
  readonly versions: number;
  /** Registry tokens. */
  readonly tokens: number;
}

export const DEFAULT_CLIENT_BOUNDS: TrustClientBounds = Object.freeze({
  agents: 256,
  roots: 10_000,
  rootBytes: 64 << 20,
  versions: 100_000,
  tokens: 2_000,
});

/** Entries each bounded structure of a TrustClient holds now (metrics, tests). */
export interface TrustClientSizes {
  readonly agents: number;
  readonly roots: number;
  readonly versions: number;
  readonly tokens: number;
  readonly loads: number;
  /** Metadata bytes held by loads in flight. */
  readonly metadataBytes: number;
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
  /**
   * Aborted when the caller stops waiting (the review's deadline). A load joined by several
   * callers stops only when every one of them has (src/shared/shared-work.ts).
   */
  readonly signal?: AbortSignal;
  /** Replaces the network, e.g. with recorded metadata. */
  readonly fetcher?: MetadataFetcher;
}

/**
 * Fetches and verifies trust data, remembering across calls what TUF needs remembered: the
 * last trusted root (so rotations are walked) and the highest version of every role (so
 * rollbacks are refused). Keeps one keep-alive agent per server and CA bundle. Concurrent
 * loads of the same repository with the same trust settings share one round of fetches: a pod
 * naming thousands of tags of one repository costs the trust server one round, not thousands.
 */
export class TrustClient {
  private readonly limits: TrustLimits;
  private readonly requestTimeoutMs: number;
  private readonly now: () => number;
  private readonly versions: VersionStore;
  private readonly roots: LRUCache<string, TrustedRoot>;
  /** Each with the gate that holds a cold wave until the server has been reached (connect-gate.ts). */
  private readonly agents: LRUCache<string, { agent: https.Agent; gate: ConnectGate }>;
  private readonly tokens: TokenSource;
  /** Shared by every load: what they hold at once is bounded, not only each document. */
  private readonly budget: MetadataBudget;
  /** Loads in flight; an entry leaves when its load settles, and every load has a deadline. */
  private readonly loads = new Map<string, SharedWork<TrustedRepository>>();

  constructor(private readonly options: TrustClientOptions = {}) {
    this.limits = options.limits ?? DEFAULT_LIMITS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.now = options.now ?? Date.now;
    const bounds = { ...DEFAULT_CLIENT_BOUNDS, ...options.bounds };
    this.versions = new VersionStore(bounds.versions);
    this.roots = new LRUCache<string, TrustedRoot>({ max: bounds.roots, maxSize: bounds.rootBytes, sizeCalculation: (root) => Math.max(1, root.doc.bytes.length) });
    this.agents = new LRUCache<string, { agent: https.Agent; gate: ConnectGate }>({ max: bounds.agents, dispose: ({ agent }) => retireAgent(agent) });
    this.tokens = new TokenSource(this.now, bounds.tokens);
    this.budget = options.budget ?? new MetadataBudget(options.metadataBudget ?? DEFAULT_METADATA_BUDGET);
  }

  /** Entries each bounded structure holds now. */
  sizes(): TrustClientSizes {
    return { agents: this.agents.size, roots: this.roots.size, versions: this.versions.size, tokens: this.tokens.size, loads: this.loads.size, metadataBytes: this.budget.sizes().held };
  }

  /**
   * The repository's verified trust data. A load already running for the same server,
   * repository, pins, roles, CA bundle and credentials is joined rather than repeated (its
   * deadline applies); a caller-supplied fetcher is never shared.
   */
  loadRepository(req: RepositoryRequest): Promise<TrustedRepository> {
    if (req.fetcher) return this.load(req, req.signal);
    const key = loadKey(req);
    let pending = this.loads.get(key);
    // A load every caller gave up on is stopping: a new caller starts its own.
    if (!pending || pending.aborted) {
      const work = new SharedWork((signal) => this.load(req, signal));
      pending = work;
      this.loads.set(key, work);
      void work.promise
        .finally(() => {
          if (this.loads.get(key) === work) this.loads.delete(key);
        })
        .catch(() => undefined);
    }
    return pending.join(req.signal, () => new TrustError('TIMEOUT', `trust data for ${req.gun}: deadline passed`));
  }

  private async load(req: RepositoryRequest, stop: AbortSignal | undefined): Promise<TrustedRepository> {
    const server = parseServer(req.server);
    const rootKey = JSON.stringify([server.href, req.gun, [...req.pins.keyIds].sort(), req.pins.cas.map((c) => c.fingerprint256)]);
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new TrustError('TIMEOUT', `trust data for ${req.gun} from ${server.origin} did not arrive within ${req.timeoutMs} ms`)),
      req.timeoutMs,
    );
    const onStop = () => deadline.abort(stop?.reason instanceof TrustError ? stop.reason : new TrustError('TIMEOUT', `trust data for ${req.gun} from ${server.origin}: deadline passed`));
    if (stop?.aborted) onStop();
    else stop?.addEventListener('abort', onStop, { once: true });
    const fetcher = new BudgetedFetcher(
      req.fetcher ?? this.options.fetcher?.(server.href, req.gun) ?? this.fetcher(server, req, deadline.signal),
      this.budget,
      deadline.signal,
    );
    try {
      const state = this.options.state;
      const knownVersion = (role: string) => maxOf(state?.version(server.href, req.gun, role), this.versions.get(server.href, req.gun, role));
      const update = (trustedRoot: TrustedRoot | undefined) =>
        updateRepository({
          fetcher,
          gun: req.gun,
          pins: req.pins,
          roles: req.roles,
          limits: this.limits,
          now: this.now(),
          trustedRoot,
          knownVersion,
          // Roles asked for before their hash is known hold no more than a small document each.
          prefetchBytes: this.budget.bounds.smallDocumentBytes,
        });
      let repo: TrustedRepository;
      if (state && !hasPins(req.pins)) {
        repo = await this.loadTrustedOnFirstUse(state, server.href, req.gun, update);
      } else {
        repo = await update(this.roots.get(rootKey));
        this.roots.set(rootKey, repo.root);
      }
      // Only fully verified data moves what is remembered.
      if (!state?.noteVerified(server.href, req.gun, repo.versions)) this.versions.record(server.href, req.gun, repo.versions);
      return repo;
    } catch (error) {
      if (deadline.signal.aborted && !(error instanceof TrustError && error.code === 'TIMEOUT')) throw deadline.signal.reason;
      throw error;
    } finally {
      clearTimeout(timer);
      stop?.removeEventListener('abort', onStop);
      // Requests made ahead (src/trust/update.ts, Prefetch) that the answer did not need end now.
      if (!deadline.signal.aborted) deadline.abort(new TrustError('TIMEOUT', `trust data for ${req.gun}: load already settled`));
      // The documents read are garbage once the load settles (callers keep only its answer).
      fetcher.release();
    }
  }

  /**
   * A repository under trust on first use: verified from the root the trust state recorded (any
   * replica, any restart), else bootstrapped and its root recorded before it is trusted. When
   * another replica recorded a different root first, the update runs again from that one, so a
   * root that is no valid rotation of the recorded root is refused everywhere (ROOT_KEY_MISMATCH).
   */
  private async loadTrustedOnFirstUse(
    state: TrustState,
    server: string,
    gun: string,
    update: (root: TrustedRoot | undefined) => Promise<TrustedRepository>,
  ): Promise<TrustedRepository> {
    await state.lookup(server, gun);
    let anchor = this.recordedRoot(state, server, gun);
    for (let attempt = 0; ; attempt++) {
      const repo = await update(anchor);
      const from = anchor?.sha256.toString('hex');
      const mine = repo.root.sha256.toString('hex');
      if (mine === from) return repo;
      const inForce = await state.recordRoot(server, gun, { bytes: repo.root.doc.bytes, version: repo.root.version, sha256: mine }, from);
      if (inForce.sha256 === mine) return repo;
      if (attempt > 0) throw new TrustError('ROOT_KEY_MISMATCH', `the root recorded for ${gun} changed while it was verified; retry`, { role: 'root' });
      anchor = this.recordedRoot(state, server, gun);
    }
  }

  private recordedRoot(state: TrustState, server: string, gun: string): TrustedRoot | undefined {
    return state.parsedRoot(server, gun, (root) => {
      try {
        return restoreRoot(root.bytes, { gun, now: this.now(), limits: this.limits });
      } catch (cause) {
        throw new TrustError('INVALID_METADATA', `the root recorded for ${gun} on first use cannot be read back; remove its record to trust the repository anew`, { role: 'root', cause });
      }
    });
  }

  /**
   * Opens `connections` keep-alive connections (TCP and TLS, one small request each) to each trust
   * server, so the first update's wave (src/trust/update.ts) finds them ready and the agent holds
   * a TLS session to resume. Never rejects and never blocks anything: what fails is only not warm.
   * Bounded: at most WARM_SERVERS servers, WARM_CONNECTIONS connections each, `timeoutMs` each.
   */
  async warm(servers: readonly { server: string; caBundle: string | undefined }[], timeoutMs: number, connections = WARM_CONNECTIONS): Promise<number> {
    const count = Math.max(0, Math.min(connections, WARM_CONNECTIONS));
    const requests = servers.slice(0, WARM_SERVERS).flatMap(({ server, caBundle }) => {
      let url: URL;
      try {
        url = parseServer(server);
      } catch {
        return [];
      }
      const { agent, gate } = this.agent(url, caBundle);
      const health = new URL(`${url.pathname.replace(/\/$/, '')}/_notary_server/health`, url);
      const what = `warm-up of ${url.origin}`;
      // Through the server's gate: a host that is down costs one attempt, not `count`.
      return Array.from({ length: count }, () =>
        gate
          .run(undefined, (connection) => httpRequest({ url: health, agent, maxBytes: 4096, timeoutMs, signal: undefined, what, connection }), () => new TrustError('UNREACHABLE', `cannot reach ${url.origin} for ${what}`))
          .then(
            () => 1,
            () => 0,
          ),
      );
    });
    const done = await Promise.all(requests);
    return done.reduce<number>((a, b) => a + b, 0);
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    for (const { agent } of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  /**
   * One keep-alive agent per server and CA bundle: its idle connections and its TLS session cache
   * (node's default, 100 sessions) serve every later load, so a new connection resumes a session.
   */
  private agent(server: URL, caBundle: string | undefined): { agent: https.Agent; gate: ConnectGate } {
    const agentKey = `${server.origin} ${hash(caBundle)}`;
    let entry = this.agents.get(agentKey);
    if (!entry) {
      entry = { agent: new https.Agent({ keepAlive: true, maxSockets: 16, minVersion: 'TLSv1.2', ...(caBundle !== undefined && { ca: caBundle }) }), gate: new ConnectGate() };
      this.agents.set(agentKey, entry);
    }
    return entry;
  }

  private fetcher(server: URL, req: RepositoryRequest, signal: AbortSignal): NotaryFetcher {
    const { agent, gate } = this.agent(server, req.caBundle);
    const onFetch = this.options.onFetch;
    return new NotaryFetcher({
      server,
      gun: req.gun,
      agent,
      gate,
      credentials: req.credentials,
      tokens: this.tokens,
      requestTimeoutMs: Math.min(this.requestTimeoutMs, req.timeoutMs),
      signal,
      ...(onFetch && { onFetch: (file: string, ms: number, ok: boolean) => onFetch(server.origin, file, ms, ok) }),
    });
  }
}

/** Trust servers warmed at start, and connections to each (the size of a cold update's wave). */
const WARM_SERVERS = 64;
const WARM_CONNECTIONS = 5;

/** Everything that decides a load's answer; `timeoutMs` only bounds it. */
function loadKey(req: RepositoryRequest): string {
  return JSON.stringify([
    req.server,
    req.gun,
    [...req.pins.keyIds].sort(),
    req.pins.cas.map((c) => c.fingerprint256).sort(),
    req.roles.all ? true : [...req.roles.roles].sort(),
    hash(req.caBundle),
    credentialsFingerprint(req.credentials),
  ]);
}

function maxOf(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

function hash(text: string | undefined): string {
  return text === undefined ? '' : createHash('sha256').update(text).digest('hex');
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
