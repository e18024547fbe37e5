// trustedIdentities against the signing certificate (trust-store-trust-policy.md "Trusted
// Identities"; notation-go verifier.go verifyX509TrustedIdentities, internal/pkix/pkix.go): the
// leaf's subject, read as notation reads it, must contain every attribute an identity names.
// notation reads the subject through Go's pkix.Name.String() and an RFC 4514 parser; this
// reads the same attributes from the DER directly, with the same outcomes: an attribute type Go
// does not name (e.g. emailAddress) is printed `oid=#hex`, which notation refuses to parse, and
// a type given twice becomes a multi-valued RDN, which it refuses too: such a leaf matches only
// `*`. Reading DER, not a printed string, leaves no escaping to trick (ADR 0011). The values are
// decoded as Go's crypto/x509 parseASN1String decodes them (certificates.ts stringValue): a
// certificate Go cannot read is refused before any identity is matched.
import type { TrustedIdentity } from './types.js';
import type { ChainCertificate } from './certificates.js';

/** The attribute types Go's pkix.Name keeps (crypto/x509/pkix attributeTypeNames). */
const NAMES: ReadonlyMap<string, string> = new Map([
  ['2.5.4.6', 'C'],
  ['2.5.4.8', 'ST'],
  ['2.5.4.7', 'L'],
  ['2.5.4.9', 'STREET'],
  ['2.5.4.17', 'POSTALCODE'],
  ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'],
  ['2.5.4.3', 'CN'],
  ['2.5.4.5', 'SERIALNUMBER'],
]);
/** pkix.Name keeps one of these (the last); the others are lists. */
const SINGLE: ReadonlySet<string> = new Set(['CN', 'SERIALNUMBER']);

/** The leaf's subject as notation's ParseDistinguishedName sees it, or why it cannot be read. */
export function leafSubject(leaf: ChainCertificate): ReadonlyMap<string, string> | string {
  const lists = new Map<string, string[]>();
  for (const a of leaf.subjectAttributes) {
    const name = NAMES.get(a.oid);
    if (name === undefined) return `its subject has attribute ${a.oid}, which notation cannot match`;
    if (SINGLE.has(name)) lists.set(name, [a.value]);
    else lists.set(name, [...(lists.get(name) ?? []), a.value]);
  }
  const out = new Map<string, string>();
  for (const [name, values] of lists) {
    if (values.length > 1) return `its subject has ${values.length} ${name} attributes, which notation cannot match`;
    if (values[0] !== '' || !SINGLE.has(name)) out.set(name, values[0]!);
  }
  return out;
}

/** Whether one of `identities` (or `*`) accepts the leaf. */
export function identityMatches(identities: '*' | readonly TrustedIdentity[], leaf: ChainCertificate): { ok: true } | { ok: false; reason: string } {
  if (identities === '*') return { ok: true };
  const subject = leafSubject(leaf);
  if (typeof subject === 'string') return { ok: false, reason: `the signing certificate "${leaf.subject}": ${subject}` };
  for (const id of identities) {
    // pkix.IsSubsetDN: every attribute of the identity, with the same value; one the subject
    // lacks compares as empty (Go's map lookup), so `OU=` asks for a subject without OU. `S` is `ST`.
    if (id.attributes.every((a) => (subject.get(a.type === 'S' ? 'ST' : a.type) ?? '') === a.value)) return { ok: true };
  }
  return { ok: false, reason: `the signing certificate "${leaf.subject}" matches none of the trusted identities ${identities.map((i) => JSON.stringify(i.text)).join(', ').slice(0, 300)}` };
}
