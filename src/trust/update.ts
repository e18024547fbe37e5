// The update workflow in one place (cf. notary client/tufclient.go, tuf-js updater.ts):
// root → timestamp → snapshot → targets → delegations, with one retry after a root refresh.
// Verified in that order; fetched at once where it can be (see Prefetch below).
import { createHash } from 'node:crypto';
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
  /**
   * When set, the roles after root and timestamp are also asked for by name at the start, no
   * further than this many bytes each (the budget's small document), and used only when they
   * match the hash and length their parent declares once it verified; else fetched by hash.
   */
  readonly prefetchBytes?: number;
}

/**
 * Documents asked for before the one that vouches for them verified, so a cold update costs one
 * wave of requests instead of one per role: root and timestamp together (both fetched by name
 * anyway), and snapshot, targets and the delegations a tag needs by name beside them. Waiting for
 * root first would cost a round trip, and the wave's new connections their TCP and TLS
 * handshakes after it (bench/cold-latency.ts measured 6 round trips that way, as many as one
 * request after another). Nothing here is trusted: TUF's order of verification (TUF spec
 * 5.3-5.6, notary client/tufclient.go) is unchanged, and a role asked for by name is used only
 * once its parent verified and declared its exact sha256 and length (fetchDeclared). Each
 * document is taken at most once.
 */
class Prefetch {
  private readonly pending = new Map<string, Promise<Buffer | undefined>>();

  constructor(private readonly fetcher: MetadataFetcher) {}

  start(file: string, maxBytes: number): void {
    const request = this.fetcher.fetch(file, maxBytes);
    // Taken later, or never (a role the snapshot does not list): never an unhandled rejection.
    request.catch(() => undefined);
    this.pending.set(file, request);
  }

  /** The document asked for earlier, or a request made now. */
  fetch(file: string, maxBytes: number): Promise<Buffer | undefined> {
    return this.take(file) ?? this.fetcher.fetch(file, maxBytes);
  }

  take(file: string): Promise<Buffer | undefined> | undefined {
    const request = this.pending.get(file);
    this.pending.delete(file);
    return request;
  }
}

const NO_PREFETCH = new Prefetch({ fetch: () => Promise.resolve(undefined) });

/** Delegations asked for by name ahead of the snapshot (targets/releases and named signers). */
export const PREFETCH_DELEGATIONS = 4;

function startPrefetch(input: UpdateInput, withRoot: boolean): Prefetch {
  const prefetch = new Prefetch(input.fetcher);
  if (withRoot) prefetch.start('root', input.limits.rootBytes);
  prefetch.start('timestamp', input.limits.timestampBytes);
  const bytes = Math.min(input.prefetchBytes ?? 0, input.limits.roleBytes);
  if (bytes > 0) {
    const named = input.roles.all ? [] : input.roles.roles;
    // A policy may name many signers (a tenant's ImagePolicy too): only the first few are asked
    // for ahead, so one load holds at most 2 + PREFETCH_DELEGATIONS small documents speculatively.
    const roles = [...new Set(['snapshot', 'targets', RELEASES_ROLE, ...named])].slice(0, 2 + PREFETCH_DELEGATIONS);
    for (const role of roles) prefetch.start(role, bytes);
  }
  return prefetch;
}

/** Fetches and verifies a repository's trust data. Nothing is remembered here; the caller records. */
export async function updateRepository(input: UpdateInput): Promise<TrustedRepository> {
  const rootCtx: RootContext = { gun: input.gun, now: input.now, limits: input.limits };
  const prefetch = startPrefetch(input, !input.trustedRoot);
  const root = input.trustedRoot ? await rememberedRoot(input.trustedRoot, input, rootCtx) : await bootstrapRoot(input, rootCtx, prefetch);
  try {
    return await loadFrom(root, input, prefetch);
  } catch (error) {
    if (!(error instanceof TrustError && error.curableByNewRoot)) throw error;
    const newer = await refreshRoot(root, input, rootCtx);
    if (!newer) throw error;
    return loadFrom(newer, input, NO_PREFETCH);
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

async function bootstrapRoot(input: UpdateInput, ctx: RootContext, prefetch: Prefetch): Promise<TrustedRoot> {
  const bytes = await prefetch.fetch('root', input.limits.rootBytes);
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

async function loadFrom(root: TrustedRoot, input: UpdateInput, prefetch: Prefetch): Promise<TrustedRepository> {
  const ctx: StepContext = { now: input.now, limits: input.limits, knownVersion: input.knownVersion };
  // A root remembered from an earlier update may have expired since.
  checkExpiry('root', root.doc.body.expires, input.now);
  const tsBytes = await (prefetch.take('timestamp') ?? input.fetcher.fetch('timestamp', input.limits.timestampBytes));
  if (!tsBytes) throw noTrustData(input.gun);
  const timestamp = verifyTimestamp(tsBytes, root, ctx);
  const snapshot = verifySnapshot(await fetchDeclared(input, prefetch, 'snapshot', timestamp.body.snapshot), root, timestamp, ctx);
  checkRootInSnapshot(root, snapshot);
  const targetsMeta = snapshotMeta(snapshot, 'targets');
  if (!targetsMeta) throw new TrustError('INVALID_METADATA', 'snapshot does not list targets', { role: 'snapshot' });
  const targets = verifyTargets(await fetchDeclared(input, prefetch, 'targets', targetsMeta), root, targetsMeta, ctx);

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
    const role = verifyDelegation(await fetchDeclared(input, prefetch, name, meta), next, meta, ctx);
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

/**
 * Fetches a role by the checksum its parent declares, no further than the declared length. The
 * copy asked for by name at the start serves instead when its length and sha256 are the ones
 * declared (the role's own verification checks every hash again); any other (a newer version
 * published meanwhile, an error, too large for the speculative cap) is dropped unread.
 */
async function fetchDeclared(input: UpdateInput, prefetch: Prefetch, role: string, meta: { length: number; sha256: Buffer }): Promise<Buffer> {
  if (meta.length > input.limits.roleBytes) {
    throw new TrustError('TOO_LARGE', `${role} is declared as ${meta.length} bytes, more than the ${input.limits.roleBytes} allowed`, { role });
  }
  const early = await prefetch.take(role)?.catch(() => undefined);
  if (early && early.length === meta.length && createHash('sha256').update(early).digest().equals(meta.sha256)) return early;
  const bytes = await input.fetcher.fetch(`${role}.${meta.sha256.toString('hex')}`, meta.length);
  if (!bytes) throw new TrustError('SERVER_ERROR', `${role} metadata declared by its parent is missing from the server`, { role });
  return bytes;
}

function noTrustData(gun: string): TrustError {
  return new TrustError('NO_TRUST_DATA', `no trust data available for ${gun}: the repository has never been signed`);
}
