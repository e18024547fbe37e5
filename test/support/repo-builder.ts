// Builds complete Notary v1 repositories in memory, shaped like notary-server's own output
// (see test/fixtures/notary), with hooks to break exactly one thing. Checked against the real
// notary client in test/integration/attacks.test.ts: what it accepts unbroken, notary accepts.
import { createHash } from 'node:crypto';
import { canonicalize } from '@tufjs/canonical-json';
import { TestKey } from './keys.js';

const DAY = 86_400_000;

export interface RoleOptions {
  keys: TestKey[];
  threshold?: number;
  /** Keys that sign; default: all of `keys`. */
  signers?: TestKey[];
  version?: number;
  expires?: number;
  /** Change the `signed` object before it is signed. */
  edit?: (signed: Record<string, unknown>) => void;
  /** Change the envelope after signing (a tamper the signatures do not cover). */
  tamper?: (envelope: { signed: Record<string, unknown>; signatures: unknown[] }) => void;
  /** Replace the final bytes entirely. */
  bytes?: (bytes: Buffer) => Buffer;
}

export interface DelegationOptions extends RoleOptions {
  name: string;
  paths?: string[];
  targets?: Record<string, string>;
}

export interface RepoSpec {
  gun: string;
  now?: number;
  root: RoleOptions;
  targets: RoleOptions & { targets?: Record<string, string> };
  snapshot: RoleOptions;
  timestamp: RoleOptions;
  delegations?: DelegationOptions[];
  /** Extra `<n>.root.json` files (rotation history), by version. */
  rootHistory?: Map<number, Buffer>;
  /** Change the snapshot's meta for a role (e.g. a wrong hash). */
  editSnapshotMeta?: (meta: Record<string, unknown>) => void;
}

export interface BuiltRepo {
  readonly files: Map<string, Buffer>;
  readonly spec: RepoSpec;
}

export function digestOf(content: string): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

function isoExpiry(ms: number): string {
  // Nanosecond fractions, as Go writes them.
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1456789Z');
}

function fileMeta(bytes: Buffer, withSha512 = true): Record<string, unknown> {
  const hashes: Record<string, string> = { sha256: createHash('sha256').update(bytes).digest('base64') };
  if (withSha512) hashes.sha512 = createHash('sha512').update(bytes).digest('base64');
  return { hashes, length: bytes.length };
}

function targetMeta(digest: string): Record<string, unknown> {
  const hex = digest.replace(/^sha256:/, '');
  return { hashes: { sha256: Buffer.from(hex, 'hex').toString('base64') }, length: 1234 };
}

export function signEnvelope(signed: Record<string, unknown>, options: RoleOptions): Buffer {
  options.edit?.(signed);
  const message = Buffer.from(canonicalize(signed), 'utf8');
  const signatures: unknown[] = (options.signers ?? options.keys).map((key) => ({ keyid: key.id, method: key.method, sig: key.sign(message).toString('base64') }));
  const envelope = { signed, signatures };
  options.tamper?.(envelope);
  const bytes = Buffer.from(JSON.stringify(envelope));
  return options.bytes ? options.bytes(bytes) : bytes;
}

function keysOf(...keys: TestKey[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k.id, k.json]));
}

function roleKeys(options: RoleOptions): Record<string, unknown> {
  return { keyids: options.keys.map((k) => k.id), threshold: options.threshold ?? 1 };
}

export function rootSigned(spec: RepoSpec): Record<string, unknown> {
  const now = spec.now ?? Date.now();
  return {
    _type: 'Root',
    consistent_snapshot: false,
    expires: isoExpiry(spec.root.expires ?? now + 3650 * DAY),
    keys: keysOf(...spec.root.keys, ...spec.targets.keys, ...spec.snapshot.keys, ...spec.timestamp.keys),
    roles: { root: roleKeys(spec.root), snapshot: roleKeys(spec.snapshot), targets: roleKeys(spec.targets), timestamp: roleKeys(spec.timestamp) },
    version: spec.root.version ?? 1,
  };
}

function targetsSigned(spec: RepoSpec, targets: Record<string, string>, expires: number | undefined, version: number | undefined, children: DelegationOptions[]): Record<string, unknown> {
  const now = spec.now ?? Date.now();
  const keys = children.flatMap((c) => c.keys);
  return {
    _type: 'Targets',
    delegations: {
      keys: keysOf(...keys),
      roles: children.map((c) => ({ keyids: c.keys.map((k) => k.id), name: c.name, paths: c.paths ?? [''], threshold: c.threshold ?? 1 })),
    },
    expires: isoExpiry(expires ?? now + 3 * 365 * DAY),
    targets: Object.fromEntries(Object.entries(targets).map(([tag, digest]) => [tag, targetMeta(digest)])),
    version: version ?? 1,
  };
}

export function buildRepository(spec: RepoSpec): BuiltRepo {
  const now = spec.now ?? Date.now();
  const files = new Map<string, Buffer>();
  const delegations = spec.delegations ?? [];
  const childrenOf = (parent: string) => delegations.filter((d) => d.name.slice(0, d.name.lastIndexOf('/')) === parent);

  const root = signEnvelope(rootSigned(spec), spec.root);
  const targets = signEnvelope(targetsSigned(spec, spec.targets.targets ?? {}, spec.targets.expires, spec.targets.version, childrenOf('targets')), spec.targets);
  const snapshotMeta: Record<string, unknown> = { root: fileMeta(root), targets: fileMeta(targets) };
  const put = (name: string, bytes: Buffer) => {
    files.set(name, bytes);
    files.set(`${name}.${createHash('sha256').update(bytes).digest('hex')}`, bytes);
  };
  put('root', root);
  files.set(`${spec.root.version ?? 1}.root`, root);
  for (const [v, bytes] of spec.rootHistory ?? []) files.set(`${v}.root`, bytes);
  put('targets', targets);
  for (const d of delegations) {
    const bytes = signEnvelope(targetsSigned(spec, d.targets ?? {}, d.expires, d.version, childrenOf(d.name)), d);
    put(d.name, bytes);
    snapshotMeta[d.name] = fileMeta(bytes, false);
  }
  spec.editSnapshotMeta?.(snapshotMeta);
  const snapshot = signEnvelope(
    { _type: 'Snapshot', expires: isoExpiry(spec.snapshot.expires ?? now + 3 * 365 * DAY), meta: snapshotMeta, version: spec.snapshot.version ?? 1 },
    spec.snapshot,
  );
  put('snapshot', snapshot);
  const timestamp = signEnvelope(
    { _type: 'Timestamp', expires: isoExpiry(spec.timestamp.expires ?? now + 14 * DAY), meta: { snapshot: fileMeta(snapshot) }, version: spec.timestamp.version ?? 1 },
    spec.timestamp,
  );
  put('timestamp', timestamp);
  return { files, spec };
}

/** A fresh set of keys for a repository, root as an x509 certificate for the GUN. */
export function standardKeys(gun: string): { root: TestKey; targets: TestKey; snapshot: TestKey; timestamp: TestKey } {
  return {
    root: TestKey.generate('ecdsa-x509', { cn: gun }),
    targets: TestKey.generate('ecdsa'),
    snapshot: TestKey.generate('ecdsa'),
    timestamp: TestKey.generate('ed25519'),
  };
}

/** A valid repository: tag → digest signed by targets (and any delegations given). */
export function standardSpec(gun: string, keys: ReturnType<typeof standardKeys>, tags: Record<string, string>, now = Date.now()): RepoSpec {
  return {
    gun,
    now,
    root: { keys: [keys.root] },
    targets: { keys: [keys.targets], targets: tags },
    snapshot: { keys: [keys.snapshot] },
    timestamp: { keys: [keys.timestamp] },
  };
}
