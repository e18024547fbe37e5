// The update workflow in one place (cf. notary client/tufclient.go, tuf-js updater.ts):
// root → timestamp → snapshot → targets → delegations, with one retry after a root refresh.
import { TrustError } from './errors.js';
import type { MetadataFetcher } from './fetcher.js';
import type { TrustLimits } from './limits.js';
import { parseRoot } from './metadata.js';
import type { RootPins } from './pins.js';
import { RELEASES_ROLE, type TrustedRepository } from './repository.js';
import { checkExpiry } from './verify-role.js';
import { recheckClockPins, verifyBootstrapRoot, verifyRootUpdate, type RootContext, type TrustedRoot } from './verify-root.js';
import {
  checkRootInSnapshot,
  childDelegations,
  snapshotMeta,
  verifyDelegation,
  verifySnapshot,
  verifyTargets,
  verifyTimestamp,
  type StepContext,
  type VerifiedTargets,
} from './verify-steps.js';

/** Which delegations to fetch: the ones docker reads plus some, or every one (inspect). */
export type RoleSelection = { readonly all: true } | { readonly all: false; readonly roles: readonly string[] };

export interface UpdateInput {
  readonly fetcher: MetadataFetcher;
  readonly gun: string;
  readonly pins: RootPins;
  readonly roles: RoleSelection;
  readonly limits: TrustLimits;
  readonly now: number;
  /** A root this process trusted earlier for the same server, repository and pins. */
  readonly trustedRoot: TrustedRoot | undefined;
  readonly knownVersion: (role: string) => number | undefined;
}

/** Fetches and verifies a repository's trust data. Nothing is remembered here; the caller records. */
export async function updateRepository(input: UpdateInput): Promise<TrustedRepository> {
  const rootCtx: RootContext = { gun: input.gun, now: input.now, limits: input.limits };
  const root = input.trustedRoot ? await rememberedRoot(input.trustedRoot, input, rootCtx) : await bootstrapRoot(input, rootCtx);
  try {
    return await loadFrom(root, input);
  } catch (error) {
    if (!(error instanceof TrustError && error.curableByNewRoot)) throw error;
    const newer = await refreshRoot(root, input, rootCtx);
    if (!newer) throw error;
    return loadFrom(newer, input);
  }
}

/**
 * The remembered root, if the pins still accept it now (a pinned CA may have lapsed since); else
 * the server's newer root, which must meet the pins; else the refusal.
 */
async function rememberedRoot(root: TrustedRoot, input: UpdateInput, ctx: RootContext): Promise<TrustedRoot> {
  try {
    recheckClockPins(root, input.pins, ctx);
    return root;
  } catch (error) {
    const newer = await refreshRoot(root, input, ctx);
    if (!newer) throw error;
    return newer;
  }
}

async function bootstrapRoot(input: UpdateInput, ctx: RootContext): Promise<TrustedRoot> {
  const bytes = await input.fetcher.fetch('root', input.limits.rootBytes);
  if (!bytes) throw noTrustData(input.gun);
  return verifyBootstrapRoot(bytes, input.pins, input.knownVersion('root'), ctx);
}

/**
 * Downloads the current root and, when it is newer, walks every version in between
 * (`<n>.root.json`), each signed by its predecessor's keys. Undefined when nothing changed.
 */
async function refreshRoot(current: TrustedRoot, input: UpdateInput, ctx: RootContext): Promise<TrustedRoot | undefined> {
  const bytes = await input.fetcher.fetch('root', input.limits.rootBytes);
  if (!bytes) throw noTrustData(input.gun);
  if (bytes.equals(current.doc.bytes)) return undefined;
  const newest = parseRoot(bytes, input.limits).body.version;
  if (newest - current.version > input.limits.maxRootRotations) {
    throw new TrustError('TOO_LARGE', `root moved from version ${current.version} to ${newest}: more than ${input.limits.maxRootRotations} rotations`, { role: 'root' });
  }
  let trusted = current;
  for (let v = current.version + 1; v < newest; v++) {
    const intermediate = await input.fetcher.fetch(`${v}.root`, input.limits.rootBytes);
    if (!intermediate) throw new TrustError('SERVER_ERROR', `root version ${v} of ${input.gun} is missing from the server`, { role: 'root' });
    trusted = verifyRootUpdate(trusted, intermediate, { expectVersion: v, final: false, pins: input.pins }, ctx);
  }
  return verifyRootUpdate(trusted, bytes, { expectVersion: newest === current.version ? undefined : newest, final: true, pins: input.pins }, ctx);
}

async function loadFrom(root: TrustedRoot, input: UpdateInput): Promise<TrustedRepository> {
  const ctx: StepContext = { now: input.now, limits: input.limits, knownVersion: input.knownVersion };
  // A root remembered from an earlier update may have expired since.
  checkExpiry('root', root.doc.body.expires, input.now);
  const tsBytes = await input.fetcher.fetch('timestamp', input.limits.timestampBytes);
  if (!tsBytes) throw noTrustData(input.gun);
  const timestamp = verifyTimestamp(tsBytes, root, ctx);
  const snapshot = verifySnapshot(await fetchDeclared(input, 'snapshot', timestamp.body.snapshot), root, timestamp, ctx);
  checkRootInSnapshot(root, snapshot);
  const targetsMeta = snapshotMeta(snapshot, 'targets');
  if (!targetsMeta) throw new TrustError('INVALID_METADATA', 'snapshot does not list targets', { role: 'snapshot' });
  const targets = verifyTargets(await fetchDeclared(input, 'targets', targetsMeta), root, targetsMeta, ctx);

  const roles = new Map<string, VerifiedTargets>([['targets', targets]]);
  const declared: string[] = [];
  const queue = childDelegations(targets);
  let fetched = 0;
  for (let next = queue.shift(); next; next = queue.shift()) {
    const name = next.spec.name;
    if (roles.has(name) || declared.includes(name)) continue;
    declared.push(name);
    const meta = snapshotMeta(snapshot, name);
    if (!meta || !wanted(input.roles, name)) continue; // never published, or not needed
    if (++fetched > input.limits.maxDelegations) {
      throw new TrustError('DELEGATION_LIMIT', `${input.gun} has more than ${input.limits.maxDelegations} delegations to read`, { role: name });
    }
    const role = verifyDelegation(await fetchDeclared(input, name, meta), next, meta, ctx);
    roles.set(name, role);
    queue.push(...childDelegations(role));
  }

  const used = [root.doc, timestamp, snapshot, ...[...roles.values()].map((r) => r.doc)];
  return {
    gun: input.gun,
    root,
    roles,
    declaredDelegations: declared,
    versions: new Map(used.map((doc) => [doc.role, doc.body.version])),
    expires: Math.min(...used.map((doc) => doc.body.expires)),
    verifiedAt: input.now,
  };
}

/** A delegation is fetched when selected, or when a selected one lies below it. */
function wanted(selection: RoleSelection, name: string): boolean {
  if (selection.all) return true;
  return [RELEASES_ROLE, ...selection.roles].some((role) => role === name || role.startsWith(`${name}/`));
}

/** Fetches a role by the checksum its parent declares, no further than the declared length. */
async function fetchDeclared(input: UpdateInput, role: string, meta: { length: number; sha256: Buffer }): Promise<Buffer> {
  if (meta.length > input.limits.roleBytes) {
    throw new TrustError('TOO_LARGE', `${role} is declared as ${meta.length} bytes, more than the ${input.limits.roleBytes} allowed`, { role });
  }
  const bytes = await input.fetcher.fetch(`${role}.${meta.sha256.toString('hex')}`, meta.length);
  if (!bytes) throw new TrustError('SERVER_ERROR', `${role} metadata declared by its parent is missing from the server`, { role });
  return bytes;
}

function noTrustData(gun: string): TrustError {
  return new TrustError('NO_TRUST_DATA', `no trust data available for ${gun}: the repository has never been signed`);
}
