// A Notation trustpolicy.json (version 1.0), checked as notation-go checks it
// (verifier/trustpolicy/oci.go OCIDocument.Validate and trustpolicy.go validatePolicyCore; the
// rules of notaryproject/specifications specs/trust-store-trust-policy.md "Trust Policy") and
// compiled into the TrustPolicyDocument the verifier reads. Where trustgate is stricter
// (unknown fields, bounds, identities of other prefixes) docs/policy.md "notation" says why.
import { parseReference, printable } from '../../reference/index.js';
import type { Guard } from '../../shared/guard.js';
import { isSubsetDn, parseDistinguishedName } from './dn.js';
import {
  Validation,
  VerificationLevel,
  type SignatureVerification,
  type TrustedIdentity,
  type TrustPolicyDocument,
  type TrustPolicyStatement,
  type TrustStoreRef,
  type TrustStoreType,
  type ValidationAction,
} from './types.js';

export const TRUST_POLICY_LIMITS = {
  /** Characters of the document given as JSON text (real ones are a few KiB). */
  length: 131_072,
  statements: 64,
  nameLength: 256,
  /** Scopes of one statement, and of the whole document. */
  scopesPerStatement: 256,
  scopes: 1024,
  /** A scope is an image name without tag: as long as a policy's image pattern may be. */
  scopeLength: 512,
  trustStoresPerStatement: 16,
  trustStoreNameLength: 128,
  identitiesPerStatement: 64,
  identities: 256,
} as const;

const LEVELS: readonly VerificationLevel[] = Object.values(VerificationLevel);
const VALIDATIONS: readonly Validation[] = Object.values(Validation);
const ACTIONS: readonly ValidationAction[] = ['enforce', 'log', 'skip'];
const STORE_TYPES: readonly TrustStoreType[] = ['ca', 'signingAuthority', 'tsa'];

/** Each level's actions (notation-go trustpolicy.go LevelStrict … LevelSkip). */
const LEVEL_ACTIONS: Readonly<Record<VerificationLevel, Readonly<Record<Validation, ValidationAction>>>> = {
  strict: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'enforce', expiry: 'enforce', revocation: 'enforce' },
  permissive: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' },
  audit: { integrity: 'enforce', authenticity: 'log', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' },
  skip: { integrity: 'skip', authenticity: 'skip', authenticTimestamp: 'skip', expiry: 'skip', revocation: 'skip' },
};

const X509_SUBJECT = 'x509.subject';

/**
 * Reads a trustpolicy.json: `value` is the document (an object, as a policy's YAML gives it) or
 * its JSON text (as the file is). Every problem is reported on `g` under `path`; undefined when
 * there is any.
 */
export function readTrustPolicy(g: Guard, value: unknown, path: string): TrustPolicyDocument | undefined {
  const before = g.problems.length;
  const doc = typeof value === 'string' ? parseJson(g, value, path) : value;
  if (doc === undefined) return undefined;
  const o = g.object(doc, path);
  if (!o) return undefined;
  g.onlyKeys(o, ['version', 'trustPolicies'], path);
  if (o.version !== '1.0') {
    const hint = typeof o.version === 'number' ? ' (quote it in YAML: version: "1.0")' : '';
    g.fail(`${path}.version`, o.version === undefined ? 'missing: must be "1.0"' : `must be the string "1.0", the version notation supports${hint}`);
  }
  const items = g.array(o.trustPolicies, `${path}.trustPolicies`);
  if (items?.length === 0) return g.fail(`${path}.trustPolicies`, 'must list at least one statement');
  // Checked before any statement is read: reading them is what costs.
  if (items && items.length > TRUST_POLICY_LIMITS.statements) return g.fail(`${path}.trustPolicies`, `more than ${TRUST_POLICY_LIMITS.statements} statements`);
  const statements: TrustPolicyStatement[] = [];
  const names = new Map<string, number>();
  const scopes = new Map<string, number>();
  let scopeCount = 0;
  let identityCount = 0;
  (items ?? []).forEach((item, i) => {
    const at = `${path}.trustPolicies[${i}]`;
    const statement = readStatement(g, item, at);
    if (!statement) return;
    const other = names.get(statement.name);
    if (other !== undefined) return g.fail(`${at}.name`, `"${printable(statement.name)}" names statement ${other} too: statement names must be unique`);
    names.set(statement.name, i);
    scopeCount += statement.registryScopes.length;
    identityCount += statement.trustedIdentities === '*' ? 0 : statement.trustedIdentities.length;
    if (scopeCount > TRUST_POLICY_LIMITS.scopes) return g.fail(`${at}.registryScopes`, `more than ${TRUST_POLICY_LIMITS.scopes} registry scopes in the document`);
    if (identityCount > TRUST_POLICY_LIMITS.identities) return g.fail(`${at}.trustedIdentities`, `more than ${TRUST_POLICY_LIMITS.identities} trusted identities in the document`);
    statement.registryScopes.forEach((scope, j) => {
      const owner = scopes.get(scope);
      // notation-go oci.go validateRegistryScopes: one statement per scope, and one mention.
      if (owner === i) g.fail(`${at}.registryScopes[${j}]`, `"${printable(scope)}" is listed twice`);
      else if (owner !== undefined) g.fail(`${at}.registryScopes[${j}]`, `"${printable(scope)}" is a scope of statement ${owner} too: a scope belongs to one statement`);
      scopes.set(scope, i);
    });
    statements.push(statement);
    return undefined;
  });
  if (g.problems.length > before || !items) return undefined;
  return Object.freeze({ version: '1.0', statements: Object.freeze(statements) });
}

function parseJson(g: Guard, text: string, path: string): unknown {
  if (text.length > TRUST_POLICY_LIMITS.length) return g.fail(path, `longer than ${TRUST_POLICY_LIMITS.length} characters`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return g.fail(path, 'is not JSON (a trustpolicy.json document)');
  }
}

function readStatement(g: Guard, value: unknown, path: string): TrustPolicyStatement | undefined {
  const before = g.problems.length;
  const o = g.object(value, path);
  if (!o) return undefined;
  g.onlyKeys(o, ['name', 'registryScopes', 'signatureVerification', 'trustStores', 'trustedIdentities'], path);
  const name = g.string(o.name, `${path}.name`);
  if (name === '') g.fail(`${path}.name`, 'must not be empty: every statement needs a name');
  else if (name !== undefined && name.length > TRUST_POLICY_LIMITS.nameLength) g.fail(`${path}.name`, `longer than ${TRUST_POLICY_LIMITS.nameLength} characters`);
  const verification = readSignatureVerification(g, o.signatureVerification, `${path}.signatureVerification`);
  const registryScopes = readScopes(g, o.registryScopes, `${path}.registryScopes`);
  // Bounded before any entry is read.
  const stores = g.optional(o.trustStores, (v) => boundedStrings(g, v, TRUST_POLICY_LIMITS.trustStoresPerStatement, 'trust stores', `${path}.trustStores`));
  const identities = g.optional(o.trustedIdentities, (v) => boundedStrings(g, v, TRUST_POLICY_LIMITS.identitiesPerStatement, 'trusted identities', `${path}.trustedIdentities`));
  if (!verification) return undefined;
  let trustStores: TrustStoreRef[] | undefined = [];
  let trustedIdentities: TrustPolicyStatement['trustedIdentities'] | undefined = [];
  if (verification.level === VerificationLevel.SKIP) {
    // notation-go validatePolicyCore: skip verifies nothing, so it may name nothing to verify with.
    if ((stores?.length ?? 0) > 0 || (identities?.length ?? 0) > 0) {
      g.fail(path, 'level skip verifies no signature: remove trustStores and trustedIdentities');
    }
  } else {
    // An unreadable list has been reported already (stores or identities undefined).
    const absent = (v: unknown) => v === undefined || v === null;
    if (stores?.length === 0 || (absent(o.trustStores) && !stores)) g.fail(`${path}.trustStores`, `level ${verification.level} needs at least one trust store ("ca:<name>", "signingAuthority:<name>")`);
    if (identities?.length === 0 || (absent(o.trustedIdentities) && !identities)) g.fail(`${path}.trustedIdentities`, `level ${verification.level} needs trusted identities ("x509.subject: C=…, ST=…, O=…", or "*")`);
    trustStores = stores && readStoreRefs(g, stores, `${path}.trustStores`);
    trustedIdentities = identities && readIdentities(g, identities, `${path}.trustedIdentities`);
  }
  if (g.problems.length > before || name === undefined || !registryScopes || !trustStores || !trustedIdentities) return undefined;
  return Object.freeze({ name, registryScopes, signatureVerification: verification, trustStores, trustedIdentities });
}

function boundedStrings(g: Guard, value: unknown, max: number, what: string, path: string): string[] | undefined {
  if (Array.isArray(value) && value.length > max) return g.fail(path, `more than ${max} ${what}`);
  return g.stringArray(value, path);
}

/** notation-go trustpolicy.go GetVerificationLevel, and verifyTimestamp. */
function readSignatureVerification(g: Guard, value: unknown, path: string): SignatureVerification | undefined {
  const o = g.object(value, path);
  if (!o) return undefined;
  g.onlyKeys(o, ['level', 'override', 'verifyTimestamp'], path);
  if (o.level === undefined || o.level === '') return g.fail(`${path}.level`, `missing: one of ${LEVELS.join(', ')}`);
  const level = g.oneOf(o.level, LEVELS, `${path}.level`);
  const verifyTimestamp = o.verifyTimestamp === undefined || o.verifyTimestamp === null || o.verifyTimestamp === '' ? 'always' : g.oneOf(o.verifyTimestamp, ['always', 'afterCertExpiry'] as const, `${path}.verifyTimestamp`);
  const override = g.optional(o.override, (v) => g.object(v, `${path}.override`));
  if (!level || !verifyTimestamp) return undefined;
  const actions: Record<Validation, ValidationAction> = { ...LEVEL_ACTIONS[level] };
  const entries = Object.entries(override ?? {});
  if (entries.length > 0 && level === VerificationLevel.SKIP) return g.fail(`${path}.override`, 'level skip checks nothing, so nothing can be overridden');
  let bad = false;
  for (const [validation, action] of entries) {
    const at = `${path}.override.${validation}`;
    if (!(VALIDATIONS as readonly string[]).includes(validation)) {
      bad = g.fail(at, `unknown validation: expected one of ${VALIDATIONS.join(', ')}`) ?? true;
      continue;
    }
    const a = g.oneOf(action, ACTIONS, at);
    if (a === undefined) bad = true;
    else if (validation === Validation.INTEGRITY) bad = g.fail(at, 'integrity cannot be overridden: it is what every level but skip checks') ?? true;
    else if (a === 'skip' && validation !== Validation.REVOCATION) bad = g.fail(at, `${validation} cannot be skipped, only logged (revocation alone may be skip)`) ?? true;
    else actions[validation as Validation] = a;
  }
  if (bad) return undefined;
  return Object.freeze({ level, actions: Object.freeze(actions), verifyTimestamp });
}

function readScopes(g: Guard, value: unknown, path: string): string[] | undefined {
  if (value !== undefined && value !== null && !Array.isArray(value)) return g.fail(path, 'expected an array');
  const items = g.optional(value, (v) => g.array(v, path)) ?? [];
  if (items.length === 0) return g.fail(path, 'must list at least one registry scope ("host[:port]/repository", or "*")');
  if (items.length > TRUST_POLICY_LIMITS.scopesPerStatement) return g.fail(path, `more than ${TRUST_POLICY_LIMITS.scopesPerStatement} registry scopes`);
  const scopes: string[] = [];
  items.forEach((item, i) => {
    const scope = g.string(item, `${path}[${i}]`);
    if (scope === undefined) return;
    if (scope === '*') {
      if (items.length > 1) return g.fail(`${path}[${i}]`, 'the wildcard scope "*" stands alone: it cannot be listed with other scopes');
      scopes.push(scope);
      return;
    }
    const problem = scopeProblem(scope);
    if (problem) return g.fail(`${path}[${i}]`, problem);
    const canonical = canonicalScope(scope);
    if (canonical.problem !== undefined) return g.fail(`${path}[${i}]`, canonical.problem);
    scopes.push(canonical.name);
    return undefined;
  });
  return scopes.length === items.length ? scopes : undefined;
}

const LABEL = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$/;
/** One path component (distribution's reference grammar), written so that it cannot backtrack. */
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/**
 * notation-go oci.go validateRegistryScopeFormat: `host[:port]/repository`, no scheme, tag,
 * digest or wildcard. Its regular expressions (distribution's) are checked piece by piece here:
 * as one JavaScript pattern they backtrack exponentially on a long near-miss.
 */
function scopeProblem(scope: string): string | undefined {
  const hint = 'write a repository without scheme, tag or digest, e.g. registry.example.com/team/app (or "*" alone)';
  if (scope.length > TRUST_POLICY_LIMITS.scopeLength) return `longer than ${TRUST_POLICY_LIMITS.scopeLength} characters`;
  if (scope.includes('*')) return `"${printable(scope)}" has a wildcard: scopes are exact repositories; ${hint}`;
  const slash = scope.indexOf('/');
  if (slash <= 0 || slash === scope.length - 1) return `"${printable(scope)}" is not host/repository: ${hint}`;
  const [host, port, ...more] = scope.slice(0, slash).split(':');
  const hostOk = host!.split('.').every((label) => LABEL.test(label)) && more.length === 0 && (port === undefined || /^[0-9]+$/.test(port));
  const repoOk = scope.slice(slash + 1).split('/').every((c) => COMPONENT.test(c));
  return hostOk && repoOk ? undefined : `"${printable(scope)}" is not a valid registry scope: ${hint}`;
}

/**
 * A scope names a repository as an image does, so it is canonicalised as image names are
 * (docs/policy.md "Matching": `Registry.Example.com:443/app` is `registry.example.com/app`,
 * `docker.io/nginx` is `docker.io/library/nginx`): the verifier compares it with the image's
 * canonical name, and every spelling of one repository meets the same statement.
 */
function canonicalScope(scope: string): { name: string; problem?: undefined } | { problem: string } {
  try {
    return { name: parseReference(scope).name };
  } catch (error) {
    return { problem: `"${printable(scope)}": ${error instanceof Error ? error.message : 'not a repository name'}` };
  }
}

/** notation-go trustpolicy.go validateTrustStore: `<type>:<name>`, name of [a-zA-Z0-9_.-]+. */
function readStoreRefs(g: Guard, stores: readonly string[], path: string): TrustStoreRef[] | undefined {
  if (stores.length > TRUST_POLICY_LIMITS.trustStoresPerStatement) return g.fail(path, `more than ${TRUST_POLICY_LIMITS.trustStoresPerStatement} trust stores`);
  const refs: TrustStoreRef[] = [];
  let bad = false;
  stores.forEach((text, i) => {
    const ref = parseTrustStoreRef(text);
    if (typeof ref === 'string') bad = g.fail(`${path}[${i}]`, ref) ?? true;
    // Named twice is named once (notation reads the same directory twice).
    else if (!refs.some((r) => r.type === ref.type && r.name === ref.name)) refs.push(Object.freeze(ref));
  });
  return bad ? undefined : refs;
}

/** `ca:acme` → { type: 'ca', name: 'acme' }, or what is wrong with it. */
export function parseTrustStoreRef(text: string): TrustStoreRef | string {
  const colon = text.indexOf(':');
  if (colon < 0) return `"${printable(text)}" is not <type>:<name> (e.g. ca:acme)`;
  const type = text.slice(0, colon);
  const name = text.slice(colon + 1);
  if (!(STORE_TYPES as readonly string[]).includes(type)) return `"${printable(text)}": unknown trust store type "${printable(type)}" (expected ${STORE_TYPES.join(', ')})`;
  if (name.length > TRUST_POLICY_LIMITS.trustStoreNameLength) return `"${printable(text)}": name longer than ${TRUST_POLICY_LIMITS.trustStoreNameLength} characters`;
  // notation-go internal/file IsValidFileName; "." and ".." also pass that pattern, but name no
  // store directory of their own (x509/ca/.. is x509): refused.
  if (!/^[a-zA-Z0-9_.-]+$/.test(name) || name === '.' || name === '..') return `"${printable(text)}": a store name is [a-zA-Z0-9_.-]+ (and not "." or "..")`;
  return { type: type as TrustStoreType, name };
}

/** notation-go trustpolicy.go validateTrustedIdentities and validateOverlappingDNs. */
function readIdentities(g: Guard, items: readonly string[], path: string): TrustPolicyStatement['trustedIdentities'] | undefined {
  if (items.length > TRUST_POLICY_LIMITS.identitiesPerStatement) return g.fail(path, `more than ${TRUST_POLICY_LIMITS.identitiesPerStatement} trusted identities`);
  if (items.includes('*')) {
    return items.length === 1 ? '*' : g.fail(path, 'the wildcard identity "*" stands alone: it cannot be listed with other identities');
  }
  const identities: TrustedIdentity[] = [];
  items.forEach((text, i) => {
    const at = `${path}[${i}]`;
    if (text === '') return g.fail(at, 'must not be empty');
    const colon = text.indexOf(':');
    if (colon < 0) return g.fail(at, `"${printable(text)}" has no "x509.subject:" prefix`);
    const prefix = text.slice(0, colon);
    if (prefix !== X509_SUBJECT) {
      // notation-go passes other prefixes to verification plugins, which trustgate has none of.
      return g.fail(at, `"${printable(prefix)}": only x509.subject identities are supported (notation's verification plugins are not)`);
    }
    const dn = text.slice(colon + 1);
    if (dn === '') return g.fail(at, 'x509.subject without a distinguished name');
    const attributes = parseDistinguishedName(dn);
    if (typeof attributes === 'string') return g.fail(at, `"${printable(text)}" ${attributes}`);
    identities.push(Object.freeze({ text, attributes: Object.freeze(attributes) }));
    return undefined;
  });
  if (identities.length !== items.length) return undefined;
  // Two identities of which one admits every subject the other does: notation refuses them.
  for (const [i, a] of identities.entries()) {
    for (const [j, b] of identities.entries()) {
      if (i !== j && isSubsetDn(a.attributes, b.attributes)) {
        return g.fail(`${path}[${i}]`, `"${printable(a.text)}" overlaps "${printable(b.text)}" (every subject the second admits, the first does too): keep one`);
      }
    }
  }
  return identities;
}

