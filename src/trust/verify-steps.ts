// The non-root steps of an update, in the reference client's order:
// timestamp → snapshot → (root matches snapshot) → targets → delegations.
import { TrustError } from './errors.js';
import { Keyring } from './keyring.js';
import type { PublicKey } from './keys.js';
import type { TrustLimits } from './limits.js';
import {
  parseSnapshot,
  parseTargets,
  parseTimestamp,
  type DelegationSpec,
  type FileMeta,
  type SnapshotMetadata,
  type Signed,
  type TargetsMetadata,
  type TimestampMetadata,
} from './metadata.js';
import type { TrustedRoot } from './verify-root.js';
import { checkExpiry, checkFileMeta, checkThreshold, checkVersion } from './verify-role.js';

export interface StepContext {
  readonly now: number;
  readonly limits: TrustLimits;
  /** Highest version of a role this process already trusted for this repository. */
  readonly knownVersion: (role: string) => number | undefined;
}

/** A targets file (top-level or delegated) whose signatures, hashes and expiry were checked. */
export interface VerifiedTargets {
  readonly name: string;
  readonly doc: Signed<TargetsMetadata>;
  /** Prefixes a tag must start with to count here: the role's own, narrowed by its parents. */
  readonly paths: readonly string[];
  readonly threshold: number;
  /** Keys whose signatures verified, one per public key. */
  readonly signers: readonly PublicKey[];
  readonly depth: number;
}

export function verifyTimestamp(bytes: Buffer, root: TrustedRoot, ctx: StepContext): Signed<TimestampMetadata> {
  const doc = parseTimestamp(bytes, ctx.limits);
  return checkRole(doc, root, 'timestamp', ctx);
}

export function verifySnapshot(bytes: Buffer, root: TrustedRoot, timestamp: Signed<TimestampMetadata>, ctx: StepContext): Signed<SnapshotMetadata> {
  checkFileMeta('snapshot', bytes, timestamp.body.snapshot, 'timestamp');
  return checkRole(parseSnapshot(bytes, ctx.limits), root, 'snapshot', ctx);
}

/** The root in use must be the one the snapshot lists; otherwise the root changed meanwhile. */
export function checkRootInSnapshot(root: TrustedRoot, snapshot: Signed<SnapshotMetadata>): void {
  const meta = snapshot.body.meta.get('root');
  if (!meta) throw new TrustError('INVALID_METADATA', 'snapshot does not list the root', { role: 'snapshot' });
  if (!meta.sha256.equals(root.sha256) || meta.length !== root.doc.bytes.length) {
    throw new TrustError('HASH_MISMATCH', 'the root in use is not the root the snapshot lists (the root was probably rotated)', { role: 'root' });
  }
}

/** Where the snapshot says a role's file is, or undefined when the role was never published. */
export function snapshotMeta(snapshot: Signed<SnapshotMetadata>, role: string): FileMeta | undefined {
  return snapshot.body.meta.get(role);
}

export function verifyTargets(bytes: Buffer, root: TrustedRoot, meta: FileMeta, ctx: StepContext): VerifiedTargets {
  checkFileMeta('targets', bytes, meta, 'snapshot');
  const doc = checkRole(parseTargets(bytes, 'targets', ctx.limits), root, 'targets', ctx);
  const signers = checkThreshold(doc, root.doc.body.roles.targets, root.keyring);
  return { name: 'targets', doc, paths: [''], threshold: root.doc.body.roles.targets.threshold, signers, depth: 0 };
}

/** A delegation declared by `parent`, with the paths it may really sign for. */
export interface Delegation {
  readonly spec: DelegationSpec;
  readonly parent: VerifiedTargets;
  readonly paths: readonly string[];
}

/**
 * The delegations a parent declares for its direct children (notary GetValidDelegations):
 * keys and threshold come from the parent; paths are narrowed to the parent's.
 */
export function childDelegations(parent: VerifiedTargets): Delegation[] {
  return parent.doc.body.delegations
    .filter((spec) => spec.name.slice(0, spec.name.lastIndexOf('/')) === parent.name)
    .map((spec) => ({ spec, parent, paths: spec.paths.filter((p) => parent.paths.some((allowed) => p.startsWith(allowed))) }));
}

export function verifyDelegation(bytes: Buffer, delegation: Delegation, meta: FileMeta, ctx: StepContext): VerifiedTargets {
  const { spec, parent } = delegation;
  if (parent.depth + 1 > ctx.limits.maxDelegationDepth) {
    throw new TrustError('DELEGATION_LIMIT', `${spec.name} is nested deeper than ${ctx.limits.maxDelegationDepth} levels`, { role: spec.name });
  }
  checkFileMeta(spec.name, bytes, meta, 'snapshot');
  const doc = parseTargets(bytes, spec.name, ctx.limits);
  const keyring = new Keyring(parent.doc.body.delegationKeys, `${parent.name} delegation`);
  const signers = checkThreshold(doc, spec, keyring, spec.name);
  checkExpiry(spec.name, doc.body.expires, ctx.now);
  checkVersion(spec.name, doc.body.version, ctx.knownVersion(spec.name));
  return { name: spec.name, doc, paths: delegation.paths, threshold: spec.threshold, signers, depth: parent.depth + 1 };
}

function checkRole<T extends { version: number; expires: number }>(
  doc: Signed<T>,
  root: TrustedRoot,
  role: 'timestamp' | 'snapshot' | 'targets',
  ctx: StepContext,
): Signed<T> {
  if (role !== 'targets') checkThreshold(doc, root.doc.body.roles[role], root.keyring);
  checkExpiry(role, doc.body.expires, ctx.now);
  checkVersion(role, doc.body.version, ctx.knownVersion(role));
  return doc;
}
