// The authorities of a verify policy: `spec.authorities`, a list of up to POLICY_LIMITS.authorities
// entries, each naming one kind of trust, read by that kind's parser; or v1alpha1's `spec.trust`,
// which is one Notary authority. Every kind a policy may name is registered here.
import type { Guard } from '../shared/guard.js';
import { TRUST_KINDS, type AuthorityCost, type AuthorityParser, type AuthoritySpec, type TrustKind } from '../trust/index.js';
import { POLICY_LIMITS } from './limits.js';
import { NOTARY_AUTHORITY } from './notary-authority.js';
import { COSIGN_AUTHORITY } from '../trust/cosign/index.js';
import { NOTATION_AUTHORITY } from '../trust/notation/spec.js';
import type { Authority } from './types.js';

/**
 * The parser of each kind a policy may name. A kind plugs in here and as a KindVerifier given
 * to the CachingVerifier (cmd/cli/serve.ts); a kind of TrustKind missing here is refused with
 * "not supported by this trustgate".
 */
const PARSERS: ReadonlyMap<TrustKind, AuthorityParser<AuthoritySpec>> = new Map<TrustKind, AuthorityParser<AuthoritySpec>>([
  [NOTARY_AUTHORITY.kind, NOTARY_AUTHORITY],
  [COSIGN_AUTHORITY.kind, COSIGN_AUTHORITY],
  [NOTATION_AUTHORITY.kind, NOTATION_AUTHORITY],
]);

/** The kinds a policy may name, in registry order. */
export function supportedKinds(): TrustKind[] {
  return [...PARSERS.keys()];
}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** v1alpha1's `spec.trust`: one Notary authority, with the paths and messages it always had. */
export function trustAuthority(g: Guard, value: unknown): Authority | undefined {
  const spec = NOTARY_AUTHORITY.parse(g, value, 'spec.trust');
  return spec && { name: undefined, label: 'notary', spec, ownConnection: NOTARY_AUTHORITY.choosesConnection(spec) };
}

/** `spec.authorities`: every problem reported with its path; undefined when there is any. */
export function readAuthorities(g: Guard, value: unknown): Authority[] | undefined {
  const items = g.array(value, 'spec.authorities');
  if (!items) return undefined;
  if (items.length === 0) return g.fail('spec.authorities', 'must list at least one authority');
  // Checked before any entry is read: reading keys is what costs.
  if (items.length > POLICY_LIMITS.authorities) return g.fail('spec.authorities', `more than ${POLICY_LIMITS.authorities} authorities`);
  const authorities: Authority[] = [];
  const names = new Set<string>();
  items.forEach((item, i) => {
    const path = `spec.authorities[${i}]`;
    const a = g.object(item, path);
    if (!a) return;
    const name = g.optional(a.name, (v) => g.string(v, `${path}.name`));
    if (name !== undefined && (name.length > POLICY_LIMITS.authorityNameLength || !NAME.test(name))) g.fail(`${path}.name`, `must be a DNS-1123 label of at most ${POLICY_LIMITS.authorityNameLength} characters`);
    else if (name !== undefined && names.has(name)) g.fail(`${path}.name`, `"${name}" names another authority of this policy too`);
    if (name !== undefined) names.add(name);
    const kinds = Object.keys(a).filter((key) => key !== 'name');
    for (const key of kinds) {
      if (!(TRUST_KINDS as readonly string[]).includes(key)) g.fail(`${path}.${key}`, `unknown authority kind: expected one of ${supportedKinds().join(', ')}`);
      else if (!PARSERS.has(key as TrustKind)) g.fail(`${path}.${key}`, `trust kind "${key}" is not supported by this trustgate (supported: ${supportedKinds().join(', ')})`);
    }
    if (kinds.length === 0) return g.fail(path, `names no kind of trust: give one of ${supportedKinds().join(', ')}`);
    if (kinds.length > 1) return g.fail(path, `names ${kinds.length} kinds (${kinds.slice(0, 4).join(', ')}): an authority is of one kind; list one authority per kind`);
    const kind = kinds[0] as TrustKind;
    const parser = PARSERS.get(kind);
    if (!parser) return;
    const spec = parser.parse(g, a[kind], `${path}.${kind}`);
    if (spec) authorities.push({ name, label: name === undefined ? `authorities[${i}] (${kind})` : `authority "${name}" (${kind})`, spec, ownConnection: parser.choosesConnection(spec) });
  });
  return authorities;
}

/**
 * Pinned keys of a raw, unparsed spec (`trust` and every authority's), as NAMESPACE_BUDGET.keys
 * counts them: nothing is parsed, and only as many authorities are looked at as a policy may have
 * (one with more is refused unparsed anyway).
 */
export function rawKeyCount(spec: unknown): number {
  return rawCost(spec).keys;
}

/**
 * What a raw, unparsed spec costs once compiled (`trust` and every authority's), as
 * src/policy/budget.ts counts it: keys, identity-pattern states and trusted roots by content.
 * Nothing is parsed, and only as many authorities are looked at as a policy may have.
 */
export function rawCost(spec: unknown): PolicyCost {
  if (typeof spec !== 'object' || spec === null) return { keys: 0, patternStates: 0, trustedRoots: [] };
  const { trust, authorities } = spec as { trust?: unknown; authorities?: unknown };
  let keys = NOTARY_AUTHORITY.rawKeyCount(trust);
  let patternStates = 0;
  const trustedRoots: AuthorityCost['trustedRoots'][number][] = [];
  if (Array.isArray(authorities)) {
    for (const item of authorities.slice(0, POLICY_LIMITS.authorities + 1)) {
      if (typeof item !== 'object' || item === null) continue;
      for (const [key, value] of Object.entries(item as Record<string, unknown>)) {
        const parser = PARSERS.get(key as TrustKind);
        if (!parser) continue;
        const cost = parser.rawCost?.(value) ?? { keys: parser.rawKeyCount(value), patternStates: 0, trustedRoots: [] };
        keys += cost.keys;
        patternStates += cost.patternStates;
        trustedRoots.push(...cost.trustedRoots);
      }
    }
  }
  return { keys, patternStates, trustedRoots };
}

export type PolicyCost = AuthorityCost;
