// Checks ClusterImagePolicy / ImagePolicy objects (from YAML files now, CRDs later) and compiles
// them: patterns normalised, pins and signer keys parsed. docs/policy.md documents every field.
import { hasTrustStoreRefs, resolveTrustStoreRefs } from './trust-store-refs.js';
import { Guard } from '../shared/guard.js';
import { TrustKind } from '../trust/index.js';
import { readAuthorities, trustAuthority } from './authorities.js';
import { compilePattern, type Pattern } from './pattern.js';
import { POLICY_LIMITS } from './limits.js';
import { EMPTY_NOTARY } from './notary-authority.js';
import { Action, Mode, POLICY_API_VERSION, PolicyKind, Require, type Authority, type Policy, type TrustSpec } from './types.js';

export class PolicyError extends Error {
  readonly code = 'INVALID_POLICY' as const;
  constructor(readonly source: string, readonly problems: readonly string[]) {
    super(`${source}: invalid policy: ${problems.join('; ')}`);
    this.name = 'PolicyError';
  }
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** @throws PolicyError listing every problem with its field path. */
export function parsePolicy(doc: unknown, source: string): Policy {
  const g = new Guard(10_000);
  const o = g.object(doc, '');
  g.onlyKeys(o, ['apiVersion', 'kind', 'metadata', 'spec', 'status'], '');
  if (o && o.apiVersion !== POLICY_API_VERSION) g.fail('apiVersion', `expected ${POLICY_API_VERSION}`);
  const kind = g.oneOf(o?.kind, [PolicyKind.CLUSTER, PolicyKind.NAMESPACED], 'kind');
  const metadata = g.object(o?.metadata, 'metadata');
  const name = g.string(metadata?.name, 'metadata.name');
  if (name !== undefined && (name.length > 253 || !DNS1123_SUBDOMAIN.test(name))) g.fail('metadata.name', 'must be a DNS-1123 subdomain');
  const namespace = g.optional(metadata?.namespace, (v) => g.string(v, 'metadata.namespace'));
  if (kind === PolicyKind.NAMESPACED && namespace === undefined) g.fail('metadata.namespace', 'required for ImagePolicy');
  if (kind === PolicyKind.CLUSTER && namespace !== undefined) g.fail('metadata.namespace', 'a ClusterImagePolicy is not namespaced');
  if (namespace !== undefined && (namespace.length > 63 || !DNS1123_LABEL.test(namespace))) g.fail('metadata.namespace', 'must be a DNS-1123 label');

  const spec = g.object(o?.spec, 'spec');
  g.onlyKeys(spec, ['images', 'action', 'mode', 'trust', 'authorities', 'require', 'mutate'], 'spec');
  const images = readImages(g, spec?.images);
  const action = g.optional(spec?.action, (v) => g.oneOf(v, Object.values(Action), 'spec.action')) ?? Action.VERIFY;
  const mode = g.optional(spec?.mode, (v) => g.oneOf(v, Object.values(Mode), 'spec.mode')) ?? Mode.ENFORCE;
  const mutate = g.optional(spec?.mutate, (v) => g.boolean(v, 'spec.mutate')) ?? true;
  const required = g.optional(spec?.require, (v) => g.oneOf(v, Object.values(Require), 'spec.require')) ?? Require.ANY;
  const verify = readVerify(g, action, spec);
  // Refs still here were not resolved by the API server's side (src/kube/trust-stores.ts): refused.
  for (const problem of hasTrustStoreRefs(spec) ? resolveTrustStoreRefs(spec, undefined).problems : []) {
    const at = problem.indexOf(': ');
    g.fail(problem.slice(0, at), problem.slice(at + 2));
  }

  if (!g.ok || !kind || !name || !images || !verify) throw new PolicyError(source, g.problems.length ? g.problems : ['unreadable']);
  const { authorities, trust } = verify;
  return { kind, name, namespace: kind === PolicyKind.NAMESPACED ? namespace : undefined, images, action, mode, authorities, require: required, trust, mutate, source };
}

/**
 * What a verify policy accepts: `authorities`, or v1alpha1's `trust` (one Notary authority; also
 * what a verify policy that says neither gets, and is refused for: it pins nothing).
 */
function readVerify(g: Guard, action: Action, spec: Record<string, unknown> | undefined): { authorities: Authority[]; trust: TrustSpec } | undefined {
  const { trust, authorities } = spec ?? {};
  if (action !== Action.VERIFY) {
    for (const [field, value] of [['trust', trust], ['authorities', authorities], ['require', spec?.require]] as const) {
      if (value !== undefined) g.fail(`spec.${field}`, 'only meaningful with action: verify');
    }
    return { authorities: [], trust: EMPTY_NOTARY };
  }
  if (authorities !== undefined && trust !== undefined) {
    return g.fail('spec.authorities', 'give either trust (one Notary authority, v1alpha1) or authorities, not both');
  }
  if (authorities === undefined) {
    const one = trustAuthority(g, trust);
    return one && { authorities: [one], trust: one.spec as TrustSpec };
  }
  const list = readAuthorities(g, authorities);
  const notary = list?.find((a) => a.spec.kind === TrustKind.NOTARY)?.spec as TrustSpec | undefined;
  return list && { authorities: list, trust: notary ?? EMPTY_NOTARY };
}

function readImages(g: Guard, value: unknown): Pattern[] | undefined {
  const items = g.stringArray(value, 'spec.images');
  if (!items) return undefined;
  if (items.length === 0) return g.fail('spec.images', 'must list at least one pattern');
  if (items.length > POLICY_LIMITS.images) return g.fail('spec.images', `more than ${POLICY_LIMITS.images} patterns`);
  const patterns: Pattern[] = [];
  items.forEach((text, i) => {
    const compiled = compilePattern(text);
    if (typeof compiled === 'string') g.fail(`spec.images[${i}]`, `"${text.slice(0, 80)}" ${compiled}`);
    else patterns.push(compiled);
  });
  return patterns;
}

/**
 * The stand-in for a policy object that was refused: it denies (POLICY_REFUSED) the images the
 * object names, in its mode when that is readable; when any pattern is unreadable, it covers
 * everything (`**`) — a requirement nobody can read must not be dropped in silence.
 */
export function refusedStandIn(
  object: { kind: PolicyKind; name: string; namespace: string | undefined; spec: unknown },
  reason: string,
  source: string,
): Policy {
  const spec = typeof object.spec === 'object' && object.spec !== null ? (object.spec as Record<string, unknown>) : {};
  const texts = Array.isArray(spec.images) ? spec.images.slice(0, POLICY_LIMITS.images + 1) : [];
  const compiled = texts.map((t) => (typeof t === 'string' && t.length <= POLICY_LIMITS.imageLength ? compilePattern(t) : 'unreadable'));
  const readable = compiled.length > 0 && compiled.length <= POLICY_LIMITS.images && compiled.every((c) => typeof c !== 'string');
  const images = readable ? (compiled) : [compilePattern('**') as Pattern];
  const mode = (Object.values(Mode) as unknown[]).includes(spec.mode) ? (spec.mode as Mode) : Mode.ENFORCE;
  return { kind: object.kind, name: object.name, namespace: object.namespace, images, action: Action.DENY, mode, authorities: [], require: Require.ANY, trust: EMPTY_NOTARY, mutate: false, source, refused: reason };
}
