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

import type { RootPins, SignerRequirement } from '../trust/index.js';

/** How images under a `verify` policy are verified, compiled from `spec.trust`. */
export interface TrustSpec {
  /** Notary server; undefined: docker's choice for the image's registry. */
  readonly server: string | undefined;
  readonly caBundle: string | undefined;
  readonly pins: RootPins;
  readonly signers: readonly SignerRequirement[];
  readonly allowUnsignedDigests: boolean;
  /** Set explicitly: no pins, the first root seen is trusted. A verify policy needs pins or this. */
  readonly trustOnFirstUse: boolean;
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
