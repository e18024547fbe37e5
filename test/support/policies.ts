import { parsePolicy, type Policy } from '../../src/policy/index.js';
import { TrustKind } from '../../src/trust/index.js';

/** A checked policy from a compact description (the YAML a user would write, as an object). */
export function policy(
  name: string,
  images: string[],
  spec: Record<string, unknown> = {},
  namespace?: string,
): Policy {
  return parsePolicy(
    {
      apiVersion: 'trustgate.dev/v1alpha1',
      kind: namespace === undefined ? 'ClusterImagePolicy' : 'ImagePolicy',
      metadata: { name, ...(namespace !== undefined && { namespace }) },
      spec: { images, ...spec },
    },
    `test:${name}`,
  );
}

/** `spec.trust.trustOnFirstUse: true`: what a verify policy without pins must say (issue 9 item 5). */
export const TOFU = { trust: { trustOnFirstUse: true } } as const;

/**
 * A verify policy with several authorities, among them kinds no parser of this branch reads yet
 * (cosign): the Notary authority parsed as usual, the others stand for what their kind's parser
 * will compile, carrying only their kind (the scripted verifiers answer by kind).
 */
export function withAuthorities(
  name: string,
  images: string[],
  authorities: readonly { name: string; kind: TrustKind }[],
  options: { require?: 'any' | 'all'; mode?: 'enforce' | 'warn' | 'audit'; namespace?: string; mutate?: boolean } = {},
): Policy {
  const base = policy(name, images, { ...TOFU, ...(options.mode && { mode: options.mode }), ...(options.mutate !== undefined && { mutate: options.mutate }) }, options.namespace);
  return {
    ...base,
    require: options.require ?? 'any',
    authorities: authorities.map((a) => ({
      name: a.name,
      label: `authority "${a.name}" (${a.kind})`,
      // Other kinds: the fake kind's spec (test/support/fake-verifier.ts), keyed by the authority's name.
      spec: a.kind === TrustKind.NOTARY ? base.trust : { kind: a.kind, key: a.name },
      ownConnection: false,
    })),
  };
}
