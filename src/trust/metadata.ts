// Guards for Notary v1 metadata (notary tuf/data/*.go, the TUF spec as notary serialises it): `_type` capitalised, no
// spec_version, base64 hashes, RFC 3339 expiry with nanoseconds. Parsing checks shape only;
// signatures and meaning are checked in verify-role.ts.
import { canonicalBytes, decodeBase64, parseJsonBounded } from './encoding.js';
import { TrustError } from './errors.js';
import { Guard } from '../shared/guard.js';
import type { RawKey } from './keys.js';
import type { TrustLimits } from './limits.js';
import { parseRfc3339 } from './time.js';

export interface Signature {
  readonly keyid: string;
  readonly method: string;
  readonly sig: Buffer;
}

export interface FileMeta {
  readonly length: number;
  readonly sha256: Buffer;
  readonly sha512: Buffer | undefined;
}

export interface RoleKeys {
  readonly keyids: readonly string[];
  readonly threshold: number;
}

export interface DelegationSpec extends RoleKeys {
  readonly name: string;
  readonly paths: readonly string[];
}

interface Common {
  readonly version: number;
  /** Milliseconds since the epoch. */
  readonly expires: number;
}

export interface RootMetadata extends Common {
  readonly keys: ReadonlyMap<string, RawKey>;
  readonly roles: Readonly<Record<'root' | 'targets' | 'snapshot' | 'timestamp', RoleKeys>>;
}
export interface TimestampMetadata extends Common {
  readonly snapshot: FileMeta;
}
export interface SnapshotMetadata extends Common {
  readonly meta: ReadonlyMap<string, FileMeta>;
}
export interface TargetsMetadata extends Common {
  readonly targets: ReadonlyMap<string, FileMeta>;
  readonly delegationKeys: ReadonlyMap<string, RawKey>;
  readonly delegations: readonly DelegationSpec[];
}

/** A parsed document: its typed body, its signatures, and the exact bytes they cover. */
export interface Signed<T> {
  readonly role: string;
  readonly body: T;
  readonly signatures: readonly Signature[];
  readonly canonical: Buffer;
  readonly bytes: Buffer;
}

type Reader<T> = (g: Guard, signed: Record<string, unknown>, common: Common) => T | undefined;

function parseSigned<T>(bytes: Buffer, role: string, type: string, limits: TrustLimits, read: Reader<T>): Signed<T> {
  const g = new Guard(limits.maxEntries);
  const doc = g.object(parseJsonBounded(bytes, { maxDepth: limits.maxJsonDepth, maxValues: limits.maxJsonValues }, role), role);
  if (Array.isArray(doc?.signatures) && doc.signatures.length > limits.maxSignatures) {
    // Checked before any is decoded or verified: each could cost a public-key operation.
    throw new TrustError('TOO_LARGE', `${role} metadata has ${doc.signatures.length} signatures, more than the ${limits.maxSignatures} allowed`, { role });
  }
  const signed = g.object(doc?.signed, `${role}.signed`);
  const signatures = readSignatures(g, doc?.signatures, `${role}.signatures`);
  let body: T | undefined;
  if (signed) {
    if (signed._type !== type) g.fail(`${role}.signed._type`, `expected "${type}"`);
    const version = g.integer(signed.version, `${role}.signed.version`, 1);
    const expiresText = g.string(signed.expires, `${role}.signed.expires`);
    const expires = expiresText === undefined ? undefined : parseRfc3339(expiresText);
    if (expiresText !== undefined && expires === undefined) g.fail(`${role}.signed.expires`, 'not an RFC 3339 time');
    if (version !== undefined && expires !== undefined) body = read(g, signed, { version, expires });
  }
  if (g.problems.length > 0 || body === undefined || signatures === undefined || signed === undefined) {
    throw new TrustError('INVALID_METADATA', `${role} metadata is malformed: ${g.problems.join('; ') || 'unreadable'}`, { role });
  }
  return { role, body, signatures, canonical: canonicalBytes(signed, role), bytes };
}

function readSignatures(g: Guard, value: unknown, path: string): Signature[] | undefined {
  const items = g.array(value, path);
  if (!items) return undefined;
  const out: Signature[] = [];
  items.forEach((item, i) => {
    const o = g.object(item, `${path}[${i}]`);
    const keyid = g.string(o?.keyid, `${path}[${i}].keyid`);
    const method = g.string(o?.method, `${path}[${i}].method`);
    const sigText = g.string(o?.sig, `${path}[${i}].sig`);
    const sig = sigText === undefined ? undefined : decodeBase64(sigText);
    if (sigText !== undefined && sig === undefined) g.fail(`${path}[${i}].sig`, 'not base64');
    if (keyid !== undefined && method !== undefined && sig !== undefined) out.push({ keyid, method, sig });
  });
  return out;
}

function readKey(g: Guard, value: unknown, path: string): RawKey | undefined {
  const o = g.object(value, path);
  const keytype = g.string(o?.keytype, `${path}.keytype`);
  const keyval = g.object(o?.keyval, `${path}.keyval`);
  if (keyval && keyval.private !== null && keyval.private !== undefined) g.fail(`${path}.keyval.private`, 'must be null');
  const text = g.string(keyval?.public, `${path}.keyval.public`);
  const publicBytes = text === undefined ? undefined : decodeBase64(text);
  if (text !== undefined && publicBytes === undefined) g.fail(`${path}.keyval.public`, 'not base64');
  return keytype !== undefined && publicBytes !== undefined ? { keytype, publicBytes } : undefined;
}

function readFileMeta(g: Guard, value: unknown, path: string): FileMeta | undefined {
  const o = g.object(value, path);
  const length = g.integer(o?.length, `${path}.length`);
  const hashes = g.object(o?.hashes, `${path}.hashes`);
  const digest = (name: string, size: number, required: boolean): Buffer | undefined => {
    if (hashes?.[name] === undefined && !required) return undefined;
    const text = g.string(hashes?.[name], `${path}.hashes.${name}`);
    const bytes = text === undefined ? undefined : decodeBase64(text);
    if (text !== undefined && bytes?.length !== size) return g.fail(`${path}.hashes.${name}`, `not base64 of ${size} bytes`);
    return bytes;
  };
  const sha256 = digest('sha256', 32, true);
  const sha512 = digest('sha512', 64, false);
  return length !== undefined && sha256 !== undefined ? { length, sha256, sha512 } : undefined;
}

function readRoleKeys(g: Guard, value: unknown, path: string): RoleKeys | undefined {
  const o = g.object(value, path);
  const keyids = g.stringArray(o?.keyids, `${path}.keyids`);
  const threshold = g.integer(o?.threshold, `${path}.threshold`, 1);
  return keyids !== undefined && threshold !== undefined ? { keyids, threshold } : undefined;
}

export function parseRoot(bytes: Buffer, limits: TrustLimits, role = 'root'): Signed<RootMetadata> {
  return parseSigned(bytes, role, 'Root', limits, (g, s, common) => {
    const keys = g.map(s.keys, `${role}.signed.keys`, (v, p) => readKey(g, v, p));
    const roles = g.object(s.roles, `${role}.signed.roles`);
    const read = (name: 'root' | 'targets' | 'snapshot' | 'timestamp') =>
      readRoleKeys(g, roles?.[name], `${role}.signed.roles.${name}`);
    const [root, targets, snapshot, timestamp] = [read('root'), read('targets'), read('snapshot'), read('timestamp')];
    if (!keys || !root || !targets || !snapshot || !timestamp) return undefined;
    return { ...common, keys, roles: { root, targets, snapshot, timestamp } };
  });
}

export function parseTimestamp(bytes: Buffer, limits: TrustLimits): Signed<TimestampMetadata> {
  return parseSigned(bytes, 'timestamp', 'Timestamp', limits, (g, s, common) => {
    const meta = g.object(s.meta, 'timestamp.signed.meta');
    const snapshot = readFileMeta(g, meta?.snapshot, 'timestamp.signed.meta.snapshot');
    return snapshot && { ...common, snapshot };
  });
}

export function parseSnapshot(bytes: Buffer, limits: TrustLimits): Signed<SnapshotMetadata> {
  return parseSigned(bytes, 'snapshot', 'Snapshot', limits, (g, s, common) => {
    const meta = g.map(s.meta, 'snapshot.signed.meta', (v, p) => readFileMeta(g, v, p));
    return meta && { ...common, meta };
  });
}

/** Delegated role names as notary accepts them (tuf/data/roles.go IsDelegation). */
const DELEGATION_NAME_RE = /^targets(?:\/[-a-z0-9_]+)+$/;
export function isDelegationName(name: string): boolean {
  return name.length < 256 && DELEGATION_NAME_RE.test(name);
}

export function parseTargets(bytes: Buffer, role: string, limits: TrustLimits): Signed<TargetsMetadata> {
  return parseSigned(bytes, role, 'Targets', limits, (g, s, common) => {
    const targets = g.map(s.targets, `${role}.signed.targets`, (v, p) => readFileMeta(g, v, p));
    // Notary omits nothing here, but older servers may leave delegations out entirely.
    const d = s.delegations === undefined ? { keys: {}, roles: [] } : g.object(s.delegations, `${role}.signed.delegations`);
    const delegationKeys = g.map(d?.keys, `${role}.signed.delegations.keys`, (v, p) => readKey(g, v, p));
    const roleItems = g.array(d?.roles, `${role}.signed.delegations.roles`) ?? [];
    const delegations: DelegationSpec[] = [];
    roleItems.forEach((item, i) => {
      const path = `${role}.signed.delegations.roles[${i}]`;
      const o = g.object(item, path);
      const name = g.string(o?.name, `${path}.name`);
      if (name !== undefined && !isDelegationName(name)) g.fail(`${path}.name`, 'not a valid delegation role name');
      const keys = readRoleKeys(g, o, path);
      // path_hash_prefixes (unused by docker) is not supported: such a role matches no tag.
      const paths = o?.paths === undefined ? [] : g.stringArray(o.paths, `${path}.paths`);
      if (name !== undefined && keys && paths) delegations.push({ name, ...keys, paths });
    });
    return targets && delegationKeys ? { ...common, targets, delegationKeys, delegations } : undefined;
  });
}
