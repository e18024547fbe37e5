import { parsePolicy, type Policy } from '../../src/policy/index.js';

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
