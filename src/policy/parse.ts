// Checks ClusterImagePolicy / ImagePolicy objects (from YAML files now, CRDs later) and compiles
// them: patterns normalised, pins and signer keys parsed. docs/policy.md documents every field.
import { Guard } from '../shared/guard.js';
import { isDelegationName, parsePins, NO_PINS, TrustError, type RootPins, type SignerRequirement } from '../trust/index.js';
import { compilePattern, type Pattern } from './pattern.js';
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

  if (!g.ok || !kind || !name || !images || !trust) throw new PolicyError(source, g.problems.length ? g.problems : ['unreadable']);
  return { kind, name, namespace: kind === PolicyKind.NAMESPACED ? namespace : undefined, images, action, mode, trust, mutate, source };
}

function readImages(g: Guard, value: unknown): Pattern[] | undefined {
  const items = g.stringArray(value, 'spec.images');
  if (!items) return undefined;
  if (items.length === 0) return g.fail('spec.images', 'must list at least one pattern');
  const patterns: Pattern[] = [];
  items.forEach((text, i) => {
    const compiled = compilePattern(text);
    if (typeof compiled === 'string') g.fail(`spec.images[${i}]`, `"${text.slice(0, 80)}" ${compiled}`);
    else patterns.push(compiled);
  });
  return patterns;
}

function readTrust(g: Guard, value: unknown): TrustSpec | undefined {
  const empty: TrustSpec = { server: undefined, caBundle: undefined, pins: NO_PINS, signers: [], allowUnsignedDigests: false };
  if (value === undefined || value === null) return empty;
  const t = g.object(value, 'spec.trust');
  if (!t) return undefined;
  g.onlyKeys(t, ['server', 'caBundle', 'rootKeys', 'signers', 'allowUnsignedDigests'], 'spec.trust');
  const server = g.optional(t.server, (v) => g.string(v, 'spec.trust.server'));
  if (server !== undefined && !/^https:\/\/[^\s/]+/.test(server)) g.fail('spec.trust.server', 'must be an https:// URL');
  const caBundle = g.optional(t.caBundle, (v) => g.string(v, 'spec.trust.caBundle'));
  if (caBundle !== undefined && !caBundle.includes('-----BEGIN CERTIFICATE-----')) g.fail('spec.trust.caBundle', 'must be PEM certificates');
  const pins = readPins(g, t.rootKeys, 'spec.trust.rootKeys');
  const signers: SignerRequirement[] = [];
  (g.optional(t.signers, (v) => g.array(v, 'spec.trust.signers')) ?? []).forEach((item, i) => {
    const path = `spec.trust.signers[${i}]`;
    const s = g.object(item, path);
    g.onlyKeys(s, ['role', 'keys'], path);
    const role = g.string(s?.role, `${path}.role`);
    if (role !== undefined && !isDelegationName(role)) g.fail(`${path}.role`, 'must be a delegation role: targets/releases or targets/<name>');
    const keys = s?.keys === undefined ? undefined : readPins(g, s.keys, `${path}.keys`);
    if (role !== undefined) signers.push({ role, keys: keys && keys.keyIds.size + keys.cas.length > 0 ? keys : undefined });
  });
  const allowUnsignedDigests = g.optional(t.allowUnsignedDigests, (v) => g.boolean(v, 'spec.trust.allowUnsignedDigests')) ?? false;
  return pins ? { server: server?.replace(/\/+$/, ''), caBundle, pins, signers, allowUnsignedDigests } : undefined;
}

function readPins(g: Guard, value: unknown, path: string): RootPins | undefined {
  const items = value === undefined ? [] : g.stringArray(value, path);
  if (!items) return undefined;
  try {
    return parsePins(items);
  } catch (error) {
    return g.fail(path, error instanceof TrustError ? error.message.replace(/^root key pin/, 'entry') : String(error));
  }
}
