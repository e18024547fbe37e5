// A policy's Notation authority (docs/policy.md "notation"), and the CLI's trustpolicy.json and
// trust store directory: checked and compiled once into the NotationSpec the verifier reads.
import { createHash } from 'node:crypto';
import { printable } from '../../reference/index.js';
import { Guard } from '../../shared/guard.js';
import { readRegistry } from '../cosign/spec.js';
import { TrustKind, type AuthorityCost } from '../kind.js';
import { parseTrustStoreRef, readTrustPolicy, TRUST_POLICY_LIMITS } from './trust-policy.js';
import { certificateDigest, countPemBlocks, readTrustStore, TRUST_STORE_LIMITS } from './trust-store.js';
import { trustStoreKey, VerificationLevel, type NotationSpec, type TrustPolicyDocument, type TrustStore, type TrustStoreRef } from './types.js';

export const NOTATION_SPEC_LIMITS = {
  /** Trust stores of one authority. */
  trustStores: 16,
  /** Certificates of all its trust stores together. */
  certificates: 256,
} as const;

/** The label a ConfigMap or Secret needs before trustgate reads it as a trust store. */
export const TRUST_STORE_LABEL = 'trustgate.dev/trust-store';

export type NotationAuthorityResult = { readonly spec: NotationSpec } | { readonly problems: string[] };

/**
 * Checks and compiles a Notation authority as written in a policy (`value` is the object under
 * `notation:`); `path` prefixes every problem (`spec.authorities[1].notation`).
 */
export function parseNotationAuthority(value: unknown, path: string): NotationAuthorityResult {
  const g = new Guard(1000);
  const spec = readNotationAuthority(g, value, path);
  return spec && g.ok ? { spec } : { problems: g.problems.length ? g.problems : [`${path}: unreadable`] };
}

/**
 * The same, reporting on the policy's Guard: the seam's AuthorityParser ({@link NOTATION_AUTHORITY}).
 * Every trust store a statement names must be given, and every one given must be named. An
 * authority whose every statement is `skip` trusts no one and is refused (use `action: allow`).
 */
export function readNotationAuthority(g: Guard, value: unknown, path: string): NotationSpec | undefined {
  const before = g.problems.length;
  const o = g.object(value, path);
  g.onlyKeys(o, ['trustPolicy', 'trustStores', 'registry'], path);
  if (o && o.trustPolicy === undefined) g.fail(`${path}.trustPolicy`, 'missing: a trustpolicy.json document (object, or its JSON text)');
  const doc = o?.trustPolicy === undefined ? undefined : readTrustPolicy(g, o.trustPolicy, `${path}.trustPolicy`);
  const given = readStoreEntries(g, o?.trustStores, `${path}.trustStores`);
  const registry = readRegistry(g, o?.registry, `${path}.registry`);
  if (!doc || !given) return undefined;
  if (doc.statements.every((s) => s.signatureVerification.level === VerificationLevel.SKIP)) {
    g.fail(`${path}.trustPolicy`, 'every statement is level skip, so this authority trusts no one: a verify policy must name whose signatures count (for images that need no signature, use a policy with action: allow)');
  }
  const named = namedStores(doc);
  for (const [key, statement] of named) {
    if (!given.has(key)) g.fail(`${path}.trustStores`, `statement "${printable(statement)}" names trust store ${key}, which is not given: add {name: ${key}, certificates: …}`);
  }
  for (const [key, { index }] of given) {
    if (!named.has(key)) g.fail(`${path}.trustStores[${index}].name`, `${key} is named by no statement of the trust policy: remove it, or name it in trustStores of a statement`);
  }
  const stores = new Map<string, TrustStore>();
  for (const [key, entry] of given) {
    if (!named.has(key)) continue;
    const store = readTrustStore(g, entry.ref, entry.certificates, `${path}.trustStores[${entry.index}].certificates`);
    if (store) stores.set(key, store);
  }
  if (g.problems.length > before || !registry) return undefined;
  return compile(doc, stores, registry);
}

/**
 * The CLI's files: a trustpolicy.json (its text, or the parsed document) and the trust stores it
 * read (`x509/<type>/<name>/*`, one entry per file: PEM text, or the file's bytes, PEM or DER as
 * notation reads `.pem`, `.crt` and `.cer` files). Stores no statement names are ignored, as
 * notation only reads the ones named; a named one that is missing is refused.
 */
export function notationSpecOf(
  trustPolicy: unknown,
  stores: readonly { ref: TrustStoreRef; pem: string | Uint8Array }[],
  registry: { insecure: boolean; caBundle: string | undefined },
): { spec: NotationSpec } | { problems: string[] } {
  const g = new Guard(1000);
  const doc = readTrustPolicy(g, trustPolicy, 'trustpolicy.json');
  if (!doc) return { problems: g.problems };
  const compiled = new Map<string, TrustStore>();
  for (const [key, statement] of namedStores(doc)) {
    const ref = parseTrustStoreRef(key) as TrustStoreRef;
    const where = `x509/${ref.type}/${ref.name}`;
    const found = stores.filter((s) => trustStoreKey(s.ref) === key);
    if (found.length === 0) {
      g.fail(where, `trust store ${key}, named by statement "${printable(statement)}", is not in the trust store directory`);
      continue;
    }
    const store = readTrustStore(g, ref, found.map((s) => s.pem), where);
    if (store) compiled.set(key, store);
  }
  if (registry.insecure && registry.caBundle !== undefined) g.fail('registry', 'insecure (plain HTTP) and a registry CA (TLS) contradict each other');
  if (!g.ok) return { problems: g.problems };
  return { spec: compile(doc, compiled, { insecure: registry.insecure, caBundle: registry.caBundle }) };
}

/**
 * The Notation kind's AuthorityParser, registered in src/policy/authorities.ts.
 */
export const NOTATION_AUTHORITY = {
  kind: TrustKind.NOTATION,
  parse: readNotationAuthority,
  /** As cosign's: a CA bundle or plain HTTP of the policy's choosing (docs/adr/0005). */
  choosesConnection: (spec: NotationSpec): boolean => spec.registry.insecure || spec.registry.caBundle !== undefined,
  /** Certificates, registry scopes and trusted identities, counted unparsed against NAMESPACE_BUDGET.keys. */
  rawKeyCount(value: unknown): number {
    return rawNotationCost(value).keys;
  },
  rawCost: (value: unknown): AuthorityCost => rawNotationCost(value),
} as const;

interface StoreEntry {
  readonly ref: TrustStoreRef;
  readonly certificates: string;
  readonly index: number;
}

/** `trustStores`: `{name: 'type:name', certificates: PEM}`, refs resolved by the cluster side. */
function readStoreEntries(g: Guard, value: unknown, path: string): Map<string, StoreEntry> | undefined {
  const items = g.optional(value, (v) => g.array(v, path)) ?? [];
  if (items.length > NOTATION_SPEC_LIMITS.trustStores) return g.fail(path, `more than ${NOTATION_SPEC_LIMITS.trustStores} trust stores`);
  // Counted before any certificate is parsed: parsing is what costs.
  let blocks = 0;
  for (const item of items) {
    const certificates = (item as { certificates?: unknown } | null)?.certificates;
    if (typeof certificates === 'string') blocks += countPemBlocks(certificates.slice(0, TRUST_STORE_LIMITS.length), TRUST_STORE_LIMITS.certificates);
  }
  if (blocks > NOTATION_SPEC_LIMITS.certificates) return g.fail(path, `more than ${NOTATION_SPEC_LIMITS.certificates} certificates in all`);
  const entries = new Map<string, StoreEntry>();
  let bad = false;
  items.forEach((item, index) => {
    const at = `${path}[${index}]`;
    const o = g.object(item, at);
    if (!o) return (bad = true);
    g.onlyKeys(o, ['name', 'certificates', 'configMapRef', 'secretRef'], at);
    const text = g.string(o.name, `${at}.name`);
    const ref = text === undefined ? undefined : parseTrustStoreRef(text);
    if (typeof ref === 'string') return (bad = g.fail(`${at}.name`, ref) ?? true);
    const sources = ['certificates', 'configMapRef', 'secretRef'].filter((k) => o[k] !== undefined);
    if (sources.length !== 1) return (bad = g.fail(at, 'give exactly one of certificates (PEM), configMapRef or secretRef') ?? true);
    if (o.certificates === undefined) {
      const field = sources[0]!;
      return (bad = g.fail(`${at}.${field}`, `${field} was not resolved: trustgate reads it only in a cluster, from its own namespace, and only when labelled ${TRUST_STORE_LABEL}: "true"; where no cluster is read (policies.files, the CLI) give the PEM in certificates`) ?? true);
    }
    const certificates = g.string(o.certificates, `${at}.certificates`);
    if (!ref || certificates === undefined) return (bad = true);
    const key = trustStoreKey(ref);
    const other = entries.get(key);
    if (other) return (bad = g.fail(`${at}.name`, `${key} is given twice (also trustStores[${other.index}])`) ?? true);
    entries.set(key, { ref, certificates, index });
    return undefined;
  });
  return bad ? undefined : entries;
}

/** Each store key a statement names, with the first statement naming it. */
function namedStores(doc: TrustPolicyDocument): Map<string, string> {
  const named = new Map<string, string>();
  for (const s of doc.statements) for (const ref of s.trustStores) if (!named.has(trustStoreKey(ref))) named.set(trustStoreKey(ref), s.name);
  return named;
}

function compile(trustPolicy: TrustPolicyDocument, trustStores: ReadonlyMap<string, TrustStore>, registry: NotationSpec['registry']): NotationSpec {
  const base = { kind: TrustKind.NOTATION, trustPolicy, trustStores, registry };
  return Object.freeze({ ...base, key: specKey(base) });
}

/**
 * Everything that decides an answer: the compiled statements, each store's certificates by
 * digest, the registry connection. Hashed: a document may hold a thousand scopes, and the key is
 * part of every verification cache entry.
 */
function specKey(spec: Omit<NotationSpec, 'key'>): string {
  const sha = (text: string) => createHash('sha256').update(text).digest('hex');
  const statements = spec.trustPolicy.statements.map((s) => [
    s.name,
    s.registryScopes,
    s.signatureVerification.level,
    s.signatureVerification.actions,
    s.signatureVerification.verifyTimestamp,
    s.trustStores.map(trustStoreKey),
    s.trustedIdentities === '*' ? '*' : s.trustedIdentities.map((i) => i.attributes.map((a) => [a.type, a.value])),
  ]);
  const stores = [...spec.trustStores].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, store]) => [key, store.certificates.map(certificateDigest).sort()]);
  const text = JSON.stringify({ statements, stores, insecure: spec.registry.insecure, ca: spec.registry.caBundle === undefined ? null : sha(spec.registry.caBundle) });
  return `notation:${sha(text)}`;
}

/**
 * What a raw authority costs once compiled, nothing parsed: each PEM block of its stores' inline
 * certificates (a ConfigMap or Secret reference counts one until it is resolved), and each
 * registry scope and trusted identity of its trust policy.
 */
function rawNotationCost(value: unknown): AuthorityCost {
  if (typeof value !== 'object' || value === null) return NO_COST;
  const { trustStores, trustPolicy } = value as { trustStores?: unknown; trustPolicy?: unknown };
  let keys = 0;
  if (Array.isArray(trustStores)) {
    // Only as many as an authority may have are looked at: one with more is refused unparsed.
    for (const store of trustStores.slice(0, NOTATION_SPEC_LIMITS.trustStores + 1)) {
      if (typeof store !== 'object' || store === null) continue;
      const { certificates } = store as { certificates?: unknown };
      keys += typeof certificates === 'string' ? countPemBlocks(certificates.slice(0, TRUST_STORE_LIMITS.length), TRUST_STORE_LIMITS.certificates) : 1;
    }
  }
  return { keys: keys + rawTrustPolicyCount(trustPolicy), patternStates: 0, trustedRoots: [] };
}

/**
 * A trust policy's registry scopes and trusted identities, each a pinned string of up to 512 and
 * 1,024 characters held as long as the policy. As JSON text it is not parsed here: it counts its
 * `x509.subject` identities, and at least one key per 512 characters.
 */
function rawTrustPolicyCount(trustPolicy: unknown): number {
  const cap = TRUST_POLICY_LIMITS.scopes + TRUST_POLICY_LIMITS.identities + 1;
  if (typeof trustPolicy === 'string') {
    const text = trustPolicy.slice(0, TRUST_POLICY_LIMITS.length + 1);
    let ids = 0;
    for (let at = text.indexOf('x509.subject'); at >= 0 && ids < cap; at = text.indexOf('x509.subject', at + 1)) ids++;
    return Math.min(cap, Math.max(ids, Math.ceil(text.length / TEXT_PER_KEY)));
  }
  if (typeof trustPolicy !== 'object' || trustPolicy === null) return 0;
  const { trustPolicies } = trustPolicy as { trustPolicies?: unknown };
  if (!Array.isArray(trustPolicies)) return 0;
  let n = 0;
  for (const s of trustPolicies.slice(0, TRUST_POLICY_LIMITS.statements + 1)) {
    if (typeof s !== 'object' || s === null) continue;
    const { trustedIdentities, registryScopes } = s as { trustedIdentities?: unknown; registryScopes?: unknown };
    if (Array.isArray(trustedIdentities)) n += Math.min(trustedIdentities.length, TRUST_POLICY_LIMITS.identitiesPerStatement + 1);
    if (Array.isArray(registryScopes)) n += Math.min(registryScopes.length, TRUST_POLICY_LIMITS.scopesPerStatement + 1);
  }
  return Math.min(n, cap);
}

/** Characters of a trust policy's JSON text that count one key (a scope is at most 512). */
const TEXT_PER_KEY = 512;

const NO_COST: AuthorityCost = Object.freeze({ keys: 0, patternStates: 0, trustedRoots: Object.freeze([]) });

