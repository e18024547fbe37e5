// The registry token flow that registries and Notary servers use (docker/distribution token
// spec): a 401 with `WWW-Authenticate: Bearer realm=…,service=…,scope=…`, a token from the realm,
// then `Authorization: Bearer`. Realms are read from the challenge, never assumed. Which
// credentials go is the caller's choice (docs/adr/0005); where they may go is decided here.
import type http from 'node:http';
import { LRUCache } from 'lru-cache';
import { TrustError } from '../shared/trust-error.js';
import { credentialsFingerprint, type Credentials } from './credentials.js';
import { httpRequest } from './http.js';

export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/** Parses the first challenge of a WWW-Authenticate header (RFC 7235 auth-params, quoted or not). */
export function parseChallenge(header: string): Challenge | undefined {
  const match = /^\s*([A-Za-z][A-Za-z0-9._~+/-]*)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  const paramRe = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,\s*|$)/gy;
  const rest = match[2] ?? '';
  let m: RegExpExecArray | null;
  while ((m = paramRe.exec(rest)) !== null && m[0] !== '') {
    params[(m[1] ?? '').toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  }
  return { scheme: (match[1] ?? '').toLowerCase(), params };
}

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

const TOKEN_MAX_BYTES = 64 * 1024;

/** Gets and caches tokens per realm, service, scope and credentials; the least recently used go first. */
export class TokenSource {
  private readonly tokens: LRUCache<string, CachedToken>;

  constructor(
    private readonly now: () => number = Date.now,
    maxTokens = 2_000,
  ) {
    this.tokens = new LRUCache<string, CachedToken>({ max: maxTokens });
  }

  get size(): number {
    return this.tokens.size;
  }

  async authorization(
    challenge: Challenge,
    scope: string,
    credentials: Credentials | undefined,
    io: { agent: http.Agent; timeoutMs: number; signal: AbortSignal | undefined; server: URL },
  ): Promise<string> {
    if (challenge.scheme === 'basic') {
      if (!credentials?.username) throw new TrustError('AUTH_FAILED', `${io.server.origin} requires a username and password`);
      // Basic sends the password itself with every request: never in clear text.
      if (io.server.protocol !== 'https:') throw new TrustError('AUTH_FAILED', `${io.server.origin} asks for a password over plain HTTP; credentials are sent over HTTPS only`);
      return basic(credentials);
    }
    if (challenge.scheme !== 'bearer') throw new TrustError('AUTH_FAILED', `${io.server.origin} asks for unsupported authentication "${challenge.scheme}"`);
    const realm = challenge.params.realm;
    let realmUrl: URL;
    try {
      realmUrl = new URL(realm ?? '');
    } catch {
      throw new TrustError('AUTH_FAILED', `${io.server.origin} sent a token challenge without a usable realm`);
    }
    // Credentials never travel in clear text to a realm on another host.
    if (realmUrl.protocol !== 'https:' && (credentials !== undefined || realmUrl.host !== io.server.host)) {
      throw new TrustError('AUTH_FAILED', `token realm ${realmUrl.origin} is not HTTPS`);
    }
    const service = challenge.params.service ?? '';
    // Keyed by the whole credential (hashed): a right username with a wrong password must never
    // reuse a token another caller obtained with the right one.
    const key = JSON.stringify([realmUrl.href, service, scope, credentialsFingerprint(credentials)]);
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > this.now()) return `Bearer ${cached.token}`;
    if (cached) this.tokens.delete(key);
    const { token, lifetimeSeconds } = await fetchToken(realmUrl, service, scope, credentials, io);
    // Refresh a little before the server's expiry.
    this.tokens.set(key, { token, expiresAt: this.now() + Math.max(lifetimeSeconds - 10, 1) * 1000 });
    return `Bearer ${token}`;
  }
}

function basic(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username ?? ''}:${credentials.password ?? ''}`).toString('base64')}`;
}

async function fetchToken(
  realm: URL,
  service: string,
  scope: string,
  credentials: Credentials | undefined,
  io: { agent: http.Agent; timeoutMs: number; signal: AbortSignal | undefined },
): Promise<{ token: string; lifetimeSeconds: number }> {
  const common = { agent: io.agent, timeoutMs: io.timeoutMs, signal: io.signal, maxBytes: TOKEN_MAX_BYTES, what: `token from ${realm.origin}` };
  let response;
  if (credentials?.identityToken) {
    // OAuth2 refresh-token grant, as docker does with an identity token.
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credentials.identityToken, service, scope, client_id: 'trustgate' });
    response = await httpRequest({ ...common, url: realm, method: 'POST', body: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  } else {
    const url = new URL(realm);
    if (service) url.searchParams.set('service', service);
    url.searchParams.set('scope', scope);
    const headers: Record<string, string> = credentials?.username ? { authorization: basic(credentials) } : {};
    response = await httpRequest({ ...common, url, headers });
  }
  if (response.status === 401 || response.status === 403) {
    throw new TrustError('AUTH_FAILED', `${realm.origin} refused the ${credentials ? 'credentials' : 'anonymous request'} for ${scope} (HTTP ${response.status})`);
  }
  if (response.status !== 200) throw new TrustError('AUTH_FAILED', `token server ${realm.origin} answered HTTP ${response.status}`);
  return readToken(response.body, realm);
}

function readToken(body: Buffer, realm: URL): { token: string; lifetimeSeconds: number } {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    throw new TrustError('AUTH_FAILED', `token server ${realm.origin} sent something that is not JSON`);
  }
  const o = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>) : {};
  const token = typeof o.token === 'string' && o.token ? o.token : o.access_token;
  if (typeof token !== 'string' || token === '') throw new TrustError('AUTH_FAILED', `token server ${realm.origin} sent no token`);
  // The token spec's default lifetime is 60 s.
  return { token, lifetimeSeconds: typeof o.expires_in === 'number' && o.expires_in > 0 ? o.expires_in : 60 };
}
