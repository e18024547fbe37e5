// Checks ClusterImagePolicy / ImagePolicy objects (from YAML files now, CRDs later) and compiles
// them: patterns normalised, pins and signer keys parsed. docs/policy.md documents every field.
import { Guard } from '../shared/guard.js';
import { hasPins, isDelegationName, parsePins, NO_PINS, TrustError, type RootPins, type SignerRequirement } from '../trust/index.js';
import { compilePattern, type Pattern } from './pattern.js';
import { POLICY_LIMITS } from './limits.js';
import { Action, Mode, POLICY_API_VERSION, PolicyKind, type Policy, type TrustSpec } from './types.js';

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
  g.onlyKeys(spec, ['images', 'action', 'mode', 'trust', 'mutate'], 'spec');
  const images = readImages(g, spec?.images);
  const action = g.optional(spec?.action, (v) => g.oneOf(v, Object.values(Action), 'spec.action')) ?? Action.VERIFY;
  const mode = g.optional(spec?.mode, (v) => g.oneOf(v, Object.values(Mode), 'spec.mode')) ?? Mode.ENFORCE;
  const mutate = g.optional(spec?.mutate, (v) => g.boolean(v, 'spec.mutate')) ?? true;
  if (spec?.trust !== undefined && action !== Action.VERIFY) g.fail('spec.trust', `only meaningful with action: verify`);
  const trust = readTrust(g, spec?.trust);
  if (trust && action === Action.VERIFY) checkAnchored(g, trust);

  if (!g.ok || !kind || !name || !images || !trust) throw new PolicyError(source, g.problems.length ? g.problems : ['unreadable']);
  return { kind, name, namespace: kind === PolicyKind.NAMESPACED ? namespace : undefined, images, action, mode, trust, mutate, source };
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

function readTrust(g: Guard, value: unknown): TrustSpec | undefined {
  const empty: TrustSpec = { server: undefined, caBundle: undefined, pins: NO_PINS, signers: [], allowUnsignedDigests: false, trustOnFirstUse: false };
  if (value === undefined || value === null) return empty;
  const t = g.object(value, 'spec.trust');
  if (!t) return undefined;
  g.onlyKeys(t, ['server', 'caBundle', 'rootKeys', 'signers', 'allowUnsignedDigests', 'trustOnFirstUse'], 'spec.trust');
  const server = g.optional(t.server, (v) => g.string(v, 'spec.trust.server'));
  if (server !== undefined && !/^https:\/\/[^\s/]+/.test(server)) g.fail('spec.trust.server', 'must be an https:// URL');
  const caBundle = g.optional(t.caBundle, (v) => g.string(v, 'spec.trust.caBundle'));
  if (caBundle !== undefined && caBundle.length > POLICY_LIMITS.caBundleLength) g.fail('spec.trust.caBundle', `longer than ${POLICY_LIMITS.caBundleLength} characters`);
  else if (caBundle !== undefined && !caBundle.includes('-----BEGIN CERTIFICATE-----')) g.fail('spec.trust.caBundle', 'must be PEM certificates');
  const pins = readPins(g, t.rootKeys, 'spec.trust.rootKeys', POLICY_LIMITS.rootKeys);
  const signers: SignerRequirement[] = [];
  const signerItems = g.optional(t.signers, (v) => g.array(v, 'spec.trust.signers')) ?? [];
  if (signerItems.length > POLICY_LIMITS.signers) g.fail('spec.trust.signers', `more than ${POLICY_LIMITS.signers} signers`);
  signerItems.slice(0, POLICY_LIMITS.signers).forEach((item, i) => {
    const path = `spec.trust.signers[${i}]`;
    const s = g.object(item, path);
    g.onlyKeys(s, ['role', 'keys'], path);
    const role = g.string(s?.role, `${path}.role`);
    if (role !== undefined && !isDelegationName(role)) g.fail(`${path}.role`, 'must be a delegation role: targets/releases or targets/<name>');
    const keys = s?.keys === undefined ? undefined : readPins(g, s.keys, `${path}.keys`, POLICY_LIMITS.keysPerSigner);
    if (role !== undefined) signers.push({ role, keys: keys && keys.keyIds.size + keys.cas.length > 0 ? keys : undefined });
  });
  const allowUnsignedDigests = g.optional(t.allowUnsignedDigests, (v) => g.boolean(v, 'spec.trust.allowUnsignedDigests')) ?? false;
  const trustOnFirstUse = g.optional(t.trustOnFirstUse, (v) => g.boolean(v, 'spec.trust.trustOnFirstUse')) ?? false;
  if (trustOnFirstUse && pins && hasPins(pins)) g.fail('spec.trust.trustOnFirstUse', 'trustOnFirstUse: true contradicts rootKeys: pin the root or trust it on first use, not both');
  return pins ? { server: server?.replace(/\/+$/, ''), caBundle, pins, signers, allowUnsignedDigests, trustOnFirstUse } : undefined;
}

/**
 * A `verify` policy must name whose keys it trusts (docs/adr/0007-explicit-trust-on-first-use.md):
 * root pins, or a required signer with pinned keys — every listed signer must have signed the
 * digest, and a pinned signer's threshold counts only pinned keys (trust/resolve.ts), so no root
 * an attacker makes can produce that signature. Otherwise only an explicit trustOnFirstUse.
 */
function checkAnchored(g: Guard, trust: TrustSpec): void {
  if (trust.trustOnFirstUse || hasPins(trust.pins) || trust.signers.some((s) => s.keys !== undefined)) return;
  g.fail('spec.trust', 'pins nothing: set rootKeys or signers[].keys, or trustOnFirstUse: true to trust the first root seen on the trust server (anyone who controls that server or the registry host then chooses the keys)');
}

function readPins(g: Guard, value: unknown, path: string, max: number): RootPins | undefined {
  const items = value === undefined ? [] : g.stringArray(value, path);
  if (!items) return undefined;
  // Checked before any key is parsed: parsing is what costs.
  if (items.length > max) return g.fail(path, `more than ${max} entries`);
  const long = items.findIndex((item) => item.length > POLICY_LIMITS.keyLength);
  if (long >= 0) return g.fail(`${path}[${long}]`, `longer than ${POLICY_LIMITS.keyLength} characters`);
  try {
    return parsePins(items);
  } catch (error) {
    return g.fail(path, error instanceof TrustError ? error.message.replace(/^root key pin/, 'entry') : String(error));
  }
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
  const empty: TrustSpec = { server: undefined, caBundle: undefined, pins: NO_PINS, signers: [], allowUnsignedDigests: false, trustOnFirstUse: false };
  return { kind: object.kind, name: object.name, namespace: object.namespace, images, action: Action.DENY, mode, trust: empty, mutate: false, source, refused: reason };
}
