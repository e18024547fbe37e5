import type { TrustedRoot } from './verify-root.js';
import type { VerifiedTargets } from './verify-steps.js';

/** Everything verified about one repository's trust data at one moment. */
export interface TrustedRepository {
  readonly gun: string;
  readonly root: TrustedRoot;
  /** Verified targets roles by name: `targets` and the delegations that were fetched. */
  readonly roles: ReadonlyMap<string, VerifiedTargets>;
  /** Delegations declared anywhere in the fetched tree, fetched or not. */
  readonly declaredDelegations: readonly string[];
  /** Versions of every role used, for rollback protection. */
  readonly versions: ReadonlyMap<string, number>;
  /** The earliest expiry of any metadata used: a cached answer must not outlive it. */
  readonly expires: number;
  /** The clock the data was verified at (pinned signer CAs are checked for validity at it). */
  readonly verifiedAt: number;
}

/** Docker trusts a tag only from these roles, in this order (cli/command/image/trust.go). */
export const RELEASES_ROLE = 'targets/releases';
export const TARGETS_ROLE = 'targets';
export const DOCKER_TRUSTED_ROLES = [RELEASES_ROLE, TARGETS_ROLE] as const;
