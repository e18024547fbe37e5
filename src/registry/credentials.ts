import { createHash } from 'node:crypto';
import { canonicalRegistry } from '../reference/index.js';

// Registry credentials in docker's config.json form (docker/cli cli/config/configfile):
// {"auths": {"<host or URL>": {"auth": base64("user:pass"), "username", "password", "identitytoken"}}}.

/** Credentials for one host. */
export interface Credentials {
  readonly username?: string;
  readonly password?: string;
  /** An OAuth2 refresh token (docker login with an identity provider). */
  readonly identityToken?: string;
}

/**
 * A stable, non-reversible name for a credential, for cache keys: two callers share an entry
 * only when username, password and identity token all agree. Empty for no credentials.
 */
export function credentialsFingerprint(credentials: Credentials | undefined): string {
  if (!credentials) return '';
  return createHash('sha256').update(JSON.stringify([credentials.username, credentials.password, credentials.identityToken])).digest('hex');
}

export class CredentialsError extends Error {
  readonly code = 'INVALID_CREDENTIALS' as const;
}

/** Reads a docker config document's auths; refuses malformed entries with their path. */
export function parseDockerConfig(text: string, source: string): ReadonlyMap<string, Credentials> {
  return readAuths(parseDockerConfigDocument(text, source), source);
}

/** A docker config document as a JSON object, or a CredentialsError naming the file. */
export function parseDockerConfigDocument(text: string, source: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new CredentialsError(`${source}: not valid JSON`);
  }
  if (typeof doc !== 'object' || doc === null) throw new CredentialsError(`${source}: expected an object`);
  return doc as Record<string, unknown>;
}

/** The `auths` of a parsed docker config document, by normalised host. */
export function readAuths(doc: Record<string, unknown>, source: string): ReadonlyMap<string, Credentials> {
  const auths: unknown = doc.auths ?? {};
  if (typeof auths !== 'object' || auths === null || Array.isArray(auths)) throw new CredentialsError(`${source}: auths must be an object`);
  const out = new Map<string, Credentials>();
  for (const [key, entry] of Object.entries(auths)) {
    out.set(normaliseHost(key), readEntry(entry, `${source}: auths[${JSON.stringify(key)}]`));
  }
  return out;
}

function readEntry(entry: unknown, path: string): Credentials {
  if (typeof entry !== 'object' || entry === null) throw new CredentialsError(`${path}: expected an object`);
  const e = entry as Record<string, unknown>;
  const str = (name: string): string | undefined => {
    const v = e[name];
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'string') throw new CredentialsError(`${path}.${name}: expected a string`);
    return v;
  };
  const auth = str('auth');
  let username = str('username');
  let password = str('password');
  if (auth !== undefined) {
    const decoded = Buffer.from(auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new CredentialsError(`${path}.auth: expected base64 of "user:password"`);
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  const identityToken = str('identitytoken');
  return { ...(username && { username }), ...(password && { password }), ...(identityToken && { identityToken }) };
}

/**
 * The registry a config key or registry name refers to, the way people write them
 * (`https://index.docker.io/v1/`, `docker.io`, `Host:5000`, `http://host:5000/v2/`), as the
 * canonical registry name images carry (reference/host.ts). A key that is no registry host is
 * kept, lowercased: it can match no image.
 */
export function normaliseHost(key: string): string {
  const host = key.trim().replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  const canonical = canonicalRegistry(host);
  return 'host' in canonical ? canonical.host : host.toLowerCase();
}

/** Credentials for the first host that has some, in the order given. */
export function findCredentials(auths: ReadonlyMap<string, Credentials>, hosts: readonly string[]): Credentials | undefined {
  for (const host of hosts) {
    const found = auths.get(normaliseHost(host));
    if (found) return found;
  }
  return undefined;
}
