// A policy's cosign authority (docs/policy.md "cosign"), checked and compiled once: keys parsed,
// identity patterns compiled, the trusted root read. The verifier then only reads it.
import { createHash } from 'node:crypto';
import { Guard } from '../../shared/guard.js';
import { TrustKind, type AuthorityCost } from '../kind.js';
import { MAX_SIGNATURES } from './limits.js';
import { compileIdentityPattern, type IdentityPattern } from './regexp.js';
import { MAX_KEY_PEM_LENGTH, parseCosignKey, type CosignKey } from './keys.js';
import { MAX_TRUSTED_ROOT_LENGTH, parseTrustedRoot, publicGoodTrustedRoot, type CosignTrustedRoot } from './trusted-root.js';

export const COSIGN_SPEC_LIMITS = {
  keys: 16,
  identities: 16,
  /** Characters of an exact issuer or subject. */
  identityLength: 1024,
  caBundleLength: 65_536,
  /**
   * Program states of one identity pattern, as estimated from its text before it is compiled
   * ({@link patternStates}: an upper bound of what it compiles to). Real identity patterns (a
   * workflow path with a few classes and `+`) take under 200; each state is held as long as its
   * policy, so the namespace budget counts them too (NAMESPACE_BUDGET.patternStates).
   */
  patternStates: 1024,
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
    return rawCosignCost(value).keys;
  },
  /** What the authority costs once compiled, from the raw object (nothing is parsed). */
  rawCost: (value: unknown): AuthorityCost => rawCosignCost(value),
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
  const parsed = sharedTrustedRoot(text);
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
    const parsed = sharedTrustedRoot(rootText);
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
  // Checked before compiling: compiling is what costs.
  if (patternStates(regexp!) > COSIGN_SPEC_LIMITS.patternStates) {
    return g.fail(`${path}.${field}RegExp`, `too complex: more than ${COSIGN_SPEC_LIMITS.patternStates} states once its repetitions are expanded`);
  }
  const pattern = compileIdentityPattern(regexp!);
  if (typeof pattern === 'string') return g.fail(`${path}.${field}RegExp`, pattern);
  return { pattern };
}

/** `registry`: plain HTTP or a CA bundle for the image's registry (Notation's authority reads it too). */
export function readRegistry(g: Guard, value: unknown, path: string): CosignSpec['registry'] | undefined {
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

/** What a raw authority costs once compiled (src/trust/kind.ts AuthorityCost). */
function rawCosignCost(value: unknown): AuthorityCost {
  if (typeof value !== 'object' || value === null) return NO_COST;
  const { keys, keyless, tlog } = value as { keys?: unknown; keyless?: unknown; tlog?: unknown };
  const k = typeof keyless === 'object' && keyless !== null ? (keyless as { identities?: unknown; trustedRoot?: unknown }) : {};
  const t = typeof tlog === 'object' && tlog !== null ? (tlog as { trustedRoot?: unknown }) : {};
  let n = (Array.isArray(keys) ? keys.length : 0) + (k.trustedRoot === undefined ? 0 : 1) + (t.trustedRoot === undefined ? 0 : 1);
  let states = 0;
  if (Array.isArray(k.identities)) {
    n += k.identities.length;
    // Only as many as an authority may have are looked at: one with more is refused unparsed.
    for (const id of k.identities.slice(0, COSIGN_SPEC_LIMITS.identities + 1)) {
      if (typeof id !== 'object' || id === null) continue;
      const { issuerRegExp, subjectRegExp } = id as { issuerRegExp?: unknown; subjectRegExp?: unknown };
      for (const re of [issuerRegExp, subjectRegExp]) if (typeof re === 'string') states += Math.min(patternStates(re), COSIGN_SPEC_LIMITS.patternStates + 1);
    }
  }
  const roots: { id: string; bytes: number }[] = [];
  for (const text of [k.trustedRoot, t.trustedRoot]) {
    if (typeof text === 'string') roots.push({ id: rootId(text), bytes: Math.min(text.length, MAX_TRUSTED_ROOT_LENGTH + 1) });
  }
  return { keys: n, patternStates: states, trustedRoots: roots };
}

const NO_COST: AuthorityCost = Object.freeze({ keys: 0, patternStates: 0, trustedRoots: Object.freeze([]) });

/**
 * An upper bound of the program states an identity pattern compiles to (regexp.ts expands
 * counted repetitions), read from its text without parsing it: every character is one state, a
 * group is its contents, `*` `?` and `|` add two, `+` doubles what it repeats (and adds two),
 * and `{n,m}` multiplies it (plus two) by max(n, m) + 1, as regexp.ts's compile expands them. Over-counts (escapes, classes, `(?:`): never under. Capped so it stays finite.
 */
export function patternStates(source: string): number {
  const CAP = 1e9;
  const frames: { total: number; last: number }[] = [{ total: 0, last: 0 }];
  const top = () => frames[frames.length - 1]!;
  const atom = (size: number) => {
    const f = top();
    f.total = Math.min(CAP, f.total + f.last);
    f.last = size;
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      i++;
      atom(1);
    } else if (c === '[') {
      // A class is one state: skip to its end (a `]` first in it, or escaped, is a member).
      let j = i + 1;
      if (source[j] === '^') j++;
      if (source[j] === ']') j++;
      while (j < source.length && source[j] !== ']') j += source[j] === '\\' ? 2 : 1;
      i = j;
      atom(1);
    } else if (c === '(') {
      frames.push({ total: 0, last: 0 });
    } else if (c === ')' && frames.length > 1) {
      const f = frames.pop()!;
      atom(Math.min(CAP, f.total + f.last + 1));
    } else if (c === '|') {
      const f = top();
      f.total = Math.min(CAP, f.total + f.last + 2);
      f.last = 0;
    } else if (c === '+') {
      // regexp.ts emits `x+` as x, then `x*`: twice what it repeats.
      const f = top();
      f.last = Math.min(CAP, 2 * f.last + 2);
    } else if (c === '*' || c === '?') {
      top().last += 2;
    } else if (c === '{') {
      const m = /^\{(\d{1,4})(?:,(\d{0,4}))?\}/.exec(source.slice(i, i + 12));
      if (m) {
        const most = Math.max(Number(m[1]), m[2] ? Number(m[2]) : 0) + 1;
        const f = top();
        f.last = Math.min(CAP, most * (f.last + 2));
        i += m[0].length - 1;
      } else {
        atom(1);
      }
    } else {
      atom(1);
    }
  }
  let states = 1; // MATCH
  for (const f of frames) states = Math.min(CAP, states + f.total + f.last);
  return states;
}

const rootId = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/**
 * Parsed trusted roots by the SHA-256 of their text, held weakly: every policy naming the same
 * root shares one parse (a root of many certificates compiles to ~25 times its text), and a
 * root no policy uses any more is collected. At most SHARED_ROOTS entries are looked up.
 */
const SHARED_ROOTS = 256;
const sharedRoots = new Map<string, WeakRef<CosignTrustedRoot>>();
const forget = new FinalizationRegistry<string>((id) => {
  if (sharedRoots.get(id)?.deref() === undefined) sharedRoots.delete(id);
});

function sharedTrustedRoot(text: string): CosignTrustedRoot | string {
  if (text.length > MAX_TRUSTED_ROOT_LENGTH) return parseTrustedRoot(text);
  const id = rootId(text);
  const known = sharedRoots.get(id)?.deref();
  if (known) return known;
  const parsed = parseTrustedRoot(text);
  if (typeof parsed === 'string') return parsed;
  if (sharedRoots.size >= SHARED_ROOTS) sharedRoots.delete(sharedRoots.keys().next().value!);
  sharedRoots.set(id, new WeakRef(parsed));
  forget.register(parsed, id);
  return parsed;
}
