// Notary v1's authority in a policy: `spec.trust` (v1alpha1), or `spec.authorities[i].notary`,
// with the same fields. docs/policy.md documents each one.
import type { Guard } from '../shared/guard.js';
import { hasPins, isDelegationName, NO_PINS, parsePins, TrustError, TrustKind, type AuthorityParser, type NotarySpec, type RootPins, type SignerRequirement } from '../trust/index.js';
import { POLICY_LIMITS } from './limits.js';

const FIELDS = ['server', 'caBundle', 'rootKeys', 'signers', 'allowUnsignedDigests', 'trustOnFirstUse'] as const;

/** A Notary spec that pins nothing: what allow and deny policies carry as their (unused) `trust`. */
export const EMPTY_NOTARY: NotarySpec = Object.freeze({ kind: TrustKind.NOTARY, server: undefined, caBundle: undefined, pins: NO_PINS, signers: [], allowUnsignedDigests: false, trustOnFirstUse: false });

export const NOTARY_AUTHORITY: AuthorityParser<NotarySpec> = {
  kind: TrustKind.NOTARY,
  parse(g, value, path) {
    const spec = readNotary(g, value, path);
    if (spec) checkAnchored(g, spec, path);
    return spec;
  },
  choosesConnection: (spec) => spec.server !== undefined || spec.caBundle !== undefined,
  rawKeyCount,
};

/** The fields without the anchoring rule: what an allow or deny policy's `trust` is read with. */
function readNotary(g: Guard, value: unknown, path: string): NotarySpec | undefined {
  if (value === undefined || value === null) return EMPTY_NOTARY;
  const t = g.object(value, path);
  if (!t) return undefined;
  g.onlyKeys(t, FIELDS, path);
  const server = g.optional(t.server, (v) => g.string(v, `${path}.server`));
  if (server !== undefined && !/^https:\/\/[^\s/]+/.test(server)) g.fail(`${path}.server`, 'must be an https:// URL');
  const caBundle = g.optional(t.caBundle, (v) => g.string(v, `${path}.caBundle`));
  if (caBundle !== undefined && caBundle.length > POLICY_LIMITS.caBundleLength) g.fail(`${path}.caBundle`, `longer than ${POLICY_LIMITS.caBundleLength} characters`);
  else if (caBundle !== undefined && !caBundle.includes('-----BEGIN CERTIFICATE-----')) g.fail(`${path}.caBundle`, 'must be PEM certificates');
  const pins = readPins(g, t.rootKeys, `${path}.rootKeys`, POLICY_LIMITS.rootKeys);
  const signers: SignerRequirement[] = [];
  const signerItems = g.optional(t.signers, (v) => g.array(v, `${path}.signers`)) ?? [];
  if (signerItems.length > POLICY_LIMITS.signers) g.fail(`${path}.signers`, `more than ${POLICY_LIMITS.signers} signers`);
  signerItems.slice(0, POLICY_LIMITS.signers).forEach((item, i) => {
    const at = `${path}.signers[${i}]`;
    const s = g.object(item, at);
    g.onlyKeys(s, ['role', 'keys'], at);
    const role = g.string(s?.role, `${at}.role`);
    if (role !== undefined && !isDelegationName(role)) g.fail(`${at}.role`, 'must be a delegation role: targets/releases or targets/<name>');
    const keys = s?.keys === undefined ? undefined : readPins(g, s.keys, `${at}.keys`, POLICY_LIMITS.keysPerSigner);
    if (role !== undefined) signers.push({ role, keys: keys && keys.keyIds.size + keys.cas.length > 0 ? keys : undefined });
  });
  const allowUnsignedDigests = g.optional(t.allowUnsignedDigests, (v) => g.boolean(v, `${path}.allowUnsignedDigests`)) ?? false;
  const trustOnFirstUse = g.optional(t.trustOnFirstUse, (v) => g.boolean(v, `${path}.trustOnFirstUse`)) ?? false;
  if (trustOnFirstUse && pins && hasPins(pins)) g.fail(`${path}.trustOnFirstUse`, 'trustOnFirstUse: true contradicts rootKeys: pin the root or trust it on first use, not both');
  return pins ? { kind: TrustKind.NOTARY, server: server?.replace(/\/+$/, ''), caBundle, pins, signers, allowUnsignedDigests, trustOnFirstUse } : undefined;
}

/**
 * A `verify` policy must name whose keys it trusts (docs/adr/0007-explicit-trust-on-first-use.md):
 * root pins, or a required signer with pinned keys — every listed signer must have signed the
 * digest, and a pinned signer's threshold counts only pinned keys (trust/resolve.ts), so no root
 * an attacker makes can produce that signature. Otherwise only an explicit trustOnFirstUse.
 */
function checkAnchored(g: Guard, trust: NotarySpec, path: string): void {
  if (trust.trustOnFirstUse || hasPins(trust.pins) || trust.signers.some((s) => s.keys !== undefined)) return;
  g.fail(path, 'pins nothing: set rootKeys or signers[].keys, or trustOnFirstUse: true to trust the first root seen on the trust server (anyone who controls that server or the registry host then chooses the keys)');
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

/** rootKeys and signers[].keys entries of a raw Notary object, counted without parsing any key. */
function rawKeyCount(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  const { rootKeys, signers } = value as { rootKeys?: unknown; signers?: unknown };
  let n = Array.isArray(rootKeys) ? rootKeys.length : 0;
  if (Array.isArray(signers)) {
    for (const s of signers) {
      const keys = typeof s === 'object' && s !== null ? (s as { keys?: unknown }).keys : undefined;
      if (Array.isArray(keys)) n += keys.length;
    }
  }
  return n;
}
