// A policy's cosign authority (docs/policy.md "cosign"), checked and compiled once: keys parsed,
// identity patterns compiled, the trusted root read. The verifier then only reads it.
import { createHash } from 'node:crypto';
import { Guard } from '../../shared/guard.js';
import { TrustKind } from '../kind.js';
import { MAX_SIGNATURES } from './limits.js';
import { compileIdentityPattern, type IdentityPattern } from './regexp.js';
import { MAX_KEY_PEM_LENGTH, parseCosignKey, type CosignKey } from './keys.js';
import { parseTrustedRoot, publicGoodTrustedRoot, type CosignTrustedRoot } from './trusted-root.js';

export const COSIGN_SPEC_LIMITS = {
  keys: 16,
  identities: 16,
  /** Characters of an exact issuer or subject. */
  identityLength: 1024,
  caBundleLength: 65_536,
} as const;

/** One matcher of a text: equal to `exact`, or matched whole by `pattern`. */
export type TextMatcher = { readonly exact: string } | { readonly pattern: IdentityPattern };

/** A keyless identity: the certificate's OIDC issuer and its subject (SAN) must both match. */
export interface IdentityMatcher {
  readonly issuer: TextMatcher;
  readonly subject: TextMatcher;
}

/** The compiled cosign authority, the `S` of KindVerifier<CosignSpec>. */
export interface CosignSpec {
  readonly kind: typeof TrustKind.COSIGN;
  /** Keyed: a signature by any of these counts. Empty for keyless. */
  readonly keys: readonly CosignKey[];
  /** Keyless: certificates of the trusted root's Fulcio with one of these identities count. */
  readonly keyless: { readonly identities: readonly IdentityMatcher[] } | undefined;
  /** Fulcio CAs, Rekor and CT log keys: keyless.trustedRoot, tlog.trustedRoot (keys), else public good. */
  readonly trustedRoot: CosignTrustedRoot;
  /** A signature counts only with a verified transparency-log entry. False only when written so. */
  readonly tlogRequired: boolean;
  readonly registry: { readonly insecure: boolean; readonly caBundle: string | undefined };
  /** Distinct signers (keys, or keyless identities) whose signatures must verify. */
  readonly minSignatures: number;
  /** Everything above that decides an answer, as one string (KindVerifier.specKey). */
  readonly key: string;
}

export type CosignAuthorityResult = { readonly spec: CosignSpec } | { readonly problems: string[] };

/**
 * Checks and compiles a cosign authority as written in a policy (`value` is the object under
 * `cosign:`); `path` prefixes every problem (`spec.authorities[1].cosign`).
 */
export function parseCosignAuthority(value: unknown, path: string): CosignAuthorityResult {
  const g = new Guard(1000);
  const spec = readCosignAuthority(g, value, path);
  return spec && g.ok ? { spec } : { problems: g.problems.length ? g.problems : [`${path}: unreadable`] };
}

/**
 * The same, reporting on the policy's Guard: the seam's AuthorityParser (src/policy/authorities.ts
 * registers {@link COSIGN_AUTHORITY}). Undefined when there is any problem.
 */
export function readCosignAuthority(g: Guard, value: unknown, path: string): CosignSpec | undefined {
  const before = g.problems.length;
  const o = g.object(value, path);
  g.onlyKeys(o, ['keys', 'keyless', 'tlog', 'registry', 'minSignatures'], path);
  if (o && (o.keys === undefined) === (o.keyless === undefined)) g.fail(path, 'set exactly one of keys (public keys) or keyless (identities)');
  const keys = o?.keys === undefined ? [] : readKeys(g, o.keys, `${path}.keys`);
  const keyless = o?.keyless === undefined ? undefined : readKeyless(g, o.keyless, `${path}.keyless`);
  const tlog = g.optional(o?.tlog, (v) => g.object(v, `${path}.tlog`));
  g.onlyKeys(tlog, ['required', 'trustedRoot'], `${path}.tlog`);
  const tlogRequired = g.optional(tlog?.required, (v) => g.boolean(v, `${path}.tlog.required`)) ?? true;
  if (!tlogRequired && keyless) {
    g.fail(`${path}.tlog.required`, 'keyless signatures need the log: the log entry is what proves the short-lived certificate was valid when it signed');
  }
  const logRoot = readLogRoot(g, tlog?.trustedRoot, `${path}.tlog.trustedRoot`, { keyless: o?.keyless !== undefined, tlogRequired });
  const registry = readRegistry(g, o?.registry, `${path}.registry`);
  const minSignatures = g.optional(o?.minSignatures, (v) => g.integer(v, `${path}.minSignatures`, 1)) ?? 1;
  if (minSignatures > MAX_SIGNATURES) g.fail(`${path}.minSignatures`, `at most ${MAX_SIGNATURES} (the signatures examined per image)`);
  if (g.problems.length > before || !o || !keys || !registry || (o.keyless !== undefined && !keyless) || logRoot === null) return undefined;
  const trustedRoot = keyless?.trustedRoot ?? logRoot ?? publicGoodTrustedRoot();
  const base = { kind: TrustKind.COSIGN, keys, keyless: keyless && { identities: keyless.identities }, trustedRoot, tlogRequired, registry, minSignatures };
  return Object.freeze({ ...base, key: specKey(base, keyless?.sources ?? []) });
}

/**
 * The cosign kind's AuthorityParser (src/trust/kind.ts on the seam's branch), for
 * src/policy/authorities.ts to register.
 */
export const COSIGN_AUTHORITY = {
  kind: TrustKind.COSIGN,
  parse: readCosignAuthority,
  /**
   * A CA bundle or plain HTTP of the policy's choosing changes who can answer for the registry:
   * in an ImagePolicy such an authority gets only the namespace's own credentials (docs/adr/0005).
   */
  choosesConnection: (spec: CosignSpec): boolean => spec.registry.insecure || spec.registry.caBundle !== undefined,
  /** Keys, identities and a trusted root, counted unparsed against NAMESPACE_BUDGET.keys. */
  rawKeyCount(value: unknown): number {
    if (typeof value !== 'object' || value === null) return 0;
    const { keys, keyless, tlog } = value as { keys?: unknown; keyless?: unknown; tlog?: unknown };
    const k = typeof keyless === 'object' && keyless !== null ? (keyless as { identities?: unknown; trustedRoot?: unknown }) : {};
    const t = typeof tlog === 'object' && tlog !== null ? (tlog as { trustedRoot?: unknown }) : {};
    return (Array.isArray(keys) ? keys.length : 0) + (Array.isArray(k.identities) ? k.identities.length : 0) + (k.trustedRoot === undefined ? 0 : 1) + (t.trustedRoot === undefined ? 0 : 1);
  },
} as const;

/**
 * `tlog.trustedRoot`: for keys, the trusted_root.json whose Rekor keys a log entry is checked
 * against (a private Rekor); keyless authorities give one root for everything in
 * `keyless.trustedRoot`. Undefined: none given; null: refused.
 */
function readLogRoot(g: Guard, value: unknown, path: string, context: { keyless: boolean; tlogRequired: boolean }): CosignTrustedRoot | undefined | null {
  const text = g.optional(value, (v) => g.string(v, path));
  if (text === undefined) return value === undefined || value === null ? undefined : null;
  if (context.keyless) return g.fail(path, 'keyless authorities name their root once, in keyless.trustedRoot (its Rekor keys included)') ?? null;
  if (!context.tlogRequired) return g.fail(path, 'names log keys for a log that is not required') ?? null;
  const parsed = parseTrustedRoot(text);
  if (typeof parsed === 'string') return g.fail(path, parsed) ?? null;
  return parsed;
}

function readKeys(g: Guard, value: unknown, path: string): CosignKey[] | undefined {
  const items = g.stringArray(value, path);
  if (!items) return undefined;
  if (items.length === 0) return g.fail(path, 'must list at least one PEM public key');
  // Checked before any key is parsed: parsing is what costs.
  if (items.length > COSIGN_SPEC_LIMITS.keys) return g.fail(path, `more than ${COSIGN_SPEC_LIMITS.keys} keys`);
  const keys: CosignKey[] = [];
  items.forEach((pem, i) => {
    if (pem.length > MAX_KEY_PEM_LENGTH) return g.fail(`${path}[${i}]`, `longer than ${MAX_KEY_PEM_LENGTH} characters`);
    const key = parseCosignKey(pem);
    if (typeof key === 'string') return g.fail(`${path}[${i}]`, key);
    keys.push(key);
    return undefined;
  });
  return keys.length === items.length ? keys : undefined;
}

interface ReadKeyless {
  readonly identities: IdentityMatcher[];
  readonly trustedRoot: CosignTrustedRoot | undefined;
  /** The identities as written, for the spec key. */
  readonly sources: string[];
}

function readKeyless(g: Guard, value: unknown, path: string): ReadKeyless | undefined {
  const o = g.object(value, path);
  g.onlyKeys(o, ['identities', 'trustedRoot'], path);
  const items = g.array(o?.identities, `${path}.identities`);
  if (items?.length === 0) g.fail(`${path}.identities`, 'must list at least one identity');
  if (items && items.length > COSIGN_SPEC_LIMITS.identities) return g.fail(`${path}.identities`, `more than ${COSIGN_SPEC_LIMITS.identities} identities`);
  const identities: IdentityMatcher[] = [];
  const sources: string[] = [];
  (items ?? []).forEach((item, i) => {
    const at = `${path}.identities[${i}]`;
    const id = g.object(item, at);
    g.onlyKeys(id, ['issuer', 'issuerRegExp', 'subject', 'subjectRegExp'], at);
    const issuer = readMatcher(g, id, 'issuer', at);
    const subject = readMatcher(g, id, 'subject', at);
    if (issuer && subject) {
      identities.push({ issuer, subject });
      sources.push(JSON.stringify([id?.issuer, id?.issuerRegExp, id?.subject, id?.subjectRegExp]));
    }
  });
  const rootText = g.optional(o?.trustedRoot, (v) => g.string(v, `${path}.trustedRoot`));
  let trustedRoot: CosignTrustedRoot | undefined;
  if (rootText !== undefined) {
    const parsed = parseTrustedRoot(rootText);
    if (typeof parsed === 'string') g.fail(`${path}.trustedRoot`, parsed);
    else trustedRoot = parsed;
  }
  if (!o || !items || identities.length !== items.length || (rootText !== undefined && !trustedRoot)) return undefined;
  return { identities, trustedRoot, sources };
}

/** `issuer` or `issuerRegExp` (exactly one), likewise `subject` / `subjectRegExp`. */
function readMatcher(g: Guard, id: Record<string, unknown> | undefined, field: 'issuer' | 'subject', path: string): TextMatcher | undefined {
  if (!id) return undefined;
  const exact = g.optional(id[field], (v) => g.string(v, `${path}.${field}`));
  const regexp = g.optional(id[`${field}RegExp`], (v) => g.string(v, `${path}.${field}RegExp`));
  if ((exact === undefined) === (regexp === undefined)) {
    return g.fail(path, `set exactly one of ${field} or ${field}RegExp (cosign's --certificate-${field === 'issuer' ? 'oidc-issuer' : 'identity'}[-regexp])`);
  }
  if (exact !== undefined) {
    if (exact.length === 0 || exact.length > COSIGN_SPEC_LIMITS.identityLength) return g.fail(`${path}.${field}`, `must be 1-${COSIGN_SPEC_LIMITS.identityLength} characters`);
    return { exact };
  }
  const pattern = compileIdentityPattern(regexp!);
  if (typeof pattern === 'string') return g.fail(`${path}.${field}RegExp`, pattern);
  return { pattern };
}

function readRegistry(g: Guard, value: unknown, path: string): CosignSpec['registry'] | undefined {
  if (value === undefined || value === null) return { insecure: false, caBundle: undefined };
  const o = g.object(value, path);
  g.onlyKeys(o, ['insecure', 'caBundle'], path);
  const insecure = g.optional(o?.insecure, (v) => g.boolean(v, `${path}.insecure`)) ?? false;
  const caBundle = g.optional(o?.caBundle, (v) => g.string(v, `${path}.caBundle`));
  if (caBundle !== undefined && caBundle.length > COSIGN_SPEC_LIMITS.caBundleLength) return g.fail(`${path}.caBundle`, `longer than ${COSIGN_SPEC_LIMITS.caBundleLength} characters`);
  if (caBundle !== undefined && !caBundle.includes('-----BEGIN CERTIFICATE-----')) return g.fail(`${path}.caBundle`, 'must be PEM certificates');
  if (insecure && caBundle !== undefined) return g.fail(path, 'insecure (plain HTTP) and caBundle (TLS) contradict each other');
  return o ? { insecure, caBundle } : undefined;
}

function specKey(spec: Omit<CosignSpec, 'key'>, identitySources: readonly string[]): string {
  const hash = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 32);
  return JSON.stringify({
    keys: spec.keys.map((k) => k.id),
    identities: identitySources,
    root: spec.trustedRoot.id,
    tlog: spec.tlogRequired,
    insecure: spec.registry.insecure,
    ca: spec.registry.caBundle === undefined ? null : hash(spec.registry.caBundle),
    min: spec.minSignatures,
  });
}
