import type { Pattern } from './pattern.js';
/** API group and version of the policy kinds (also the future CRDs). */
export const POLICY_API_VERSION = 'trustgate.dev/v1alpha1';

export const PolicyKind = { CLUSTER: 'ClusterImagePolicy', NAMESPACED: 'ImagePolicy' } as const;
export type PolicyKind = (typeof PolicyKind)[keyof typeof PolicyKind];

export const Action = { VERIFY: 'verify', ALLOW: 'allow', DENY: 'deny' } as const;
export type Action = (typeof Action)[keyof typeof Action];

/** enforce: deny. warn: admit with a warning kubectl shows. audit: admit, record only. */
export const Mode = { ENFORCE: 'enforce', WARN: 'warn', AUDIT: 'audit' } as const;
export type Mode = (typeof Mode)[keyof typeof Mode];

import type { AuthoritySpec, NotarySpec } from '../trust/index.js';

/** How Notary verifies: v1alpha1's `spec.trust`, or an authority's `notary` (src/trust/notary/verifier.ts). */
export type TrustSpec = NotarySpec;

/** How many of a verify policy's authorities must verify an image. */
export const Require = { ANY: 'any', ALL: 'all' } as const;
export type Require = (typeof Require)[keyof typeof Require];

/** One way a verify policy accepts an image: one kind of trust and its settings. */
export interface Authority {
  /** As written (`spec.authorities[i].name`); undefined when none was given. */
  readonly name: string | undefined;
  /** For messages: `authority "dct" (notary)` or `authorities[1] (cosign)`. */
  readonly label: string;
  /** Compiled, and carrying its kind: what the kind's verifier is given. */
  readonly spec: AuthoritySpec;
  /**
   * The authority chooses its own connection (a server, or a CA for the default one): under an
   * ImagePolicy it carries only the namespace's credentials (docs/adr/0005).
   */
  readonly ownConnection: boolean;
}

/** A policy as written, checked: the spec of the webhook issue. */
export interface Policy {
  readonly kind: PolicyKind;
  readonly name: string;
  /** Set for ImagePolicy only. */
  readonly namespace: string | undefined;
  /** Normalised patterns: `registry/path`, `*` within a segment, `**` across segments. */
  readonly images: readonly Pattern[];
  readonly action: Action;
  readonly mode: Mode;
  /**
   * What a verify policy accepts: every authority is evaluated, and `require` says how many must
   * verify. `spec.trust` compiles to one Notary authority; allow and deny policies have none.
   */
  readonly authorities: readonly Authority[];
  readonly require: Require;
  /**
   * v1alpha1's `spec.trust` as compiled (its one Notary authority's spec), or for a policy that
   * lists `authorities` its first Notary authority's (else an empty one). Kept for readers of the
   * old shape; decisions read `authorities`.
   */
  readonly trust: TrustSpec;
  readonly mutate: boolean;
  /** Where it came from, for messages: `policies/base.yaml#2`. */
  readonly source: string;
  /**
   * Set on the stand-in for a policy object trustgate refused (invalid, or past its namespace's
   * budget): action deny over the patterns it names (all of the namespace's images, `**`, when
   * they cannot be read), so a requirement nobody can enforce denies instead of vanishing.
   */
  readonly refused?: string;
}

/** `ClusterImagePolicy "signed-only"` or `ImagePolicy "team-a/strict"`. */
export function describePolicy(p: Pick<Policy, 'kind' | 'name' | 'namespace'>): string {
  return `${p.kind} "${p.namespace === undefined ? '' : `${p.namespace}/`}${p.name}"`;
}
