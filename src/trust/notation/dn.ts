// X.509 distinguished names as Notation reads them in `trustedIdentities` (`x509.subject: <DN>`)
// and in a leaf certificate's subject: notation-go internal/pkix/pkix.go ParseDistinguishedName,
// on go-ldap v3.4.10's ParseDN (v3/dn.go), followed rule for rule so that a trust policy means
// here what it means to notation. Matching is notation's IsSubsetDN.
import type { DnAttribute } from './types.js';

/** Attributes of one DN, and characters of one: bounds no real subject comes near. */
export const DN_LIMITS = { attributes: 32, length: 1024 } as const;

/** The attributes every trusted identity must name (notation-go pkix.go `mandatoryFields`). */
const MANDATORY = ['C', 'ST', 'O'] as const;

/**
 * Parses `name` as notation does: RFC 4514 with go-ldap's escapes (`\,` and `\2C`), `S` read as
 * `ST`, multi-valued RDNs (`+`) and BER values (`=#`) refused, each attribute type at most once,
 * and C, ST and O present. The attributes in the order written; a string says what is wrong.
 */
export function parseDistinguishedName(name: string): DnAttribute[] | string {
  if (name.length > DN_LIMITS.length) return `longer than ${DN_LIMITS.length} characters`;
  if (/\p{Cs}/u.test(name)) return 'is not well-formed Unicode';
  if (name.includes('=#')) return 'values written as BER hex ("=#") are not supported, as in notation';
  const rdns = splitDn(name);
  if (typeof rdns === 'string') return `is not an RFC 4514 distinguished name: ${rdns}`;
  const seen = new Map<string, string>();
  const attributes: DnAttribute[] = [];
  for (const rdn of rdns) {
    if (rdn.length > 1) return 'has a multi-valued RDN ("+"), which notation does not support';
    for (const attribute of rdn) {
      const type = attribute.type === 'S' ? 'ST' : attribute.type;
      // notation-go refuses a second value only when the first is not empty (pkix.go).
      if ((seen.get(type) ?? '') !== '') return `names ${type} twice: each attribute at most once`;
      seen.set(type, attribute.value);
      attributes.push({ type, value: attribute.value });
    }
  }
  if (attributes.length > DN_LIMITS.attributes) return `more than ${DN_LIMITS.attributes} attributes`;
  const missing = MANDATORY.filter((type) => (seen.get(type) ?? '') === '');
  if (missing.length > 0) return `has no ${missing.join(', ')}: a trusted identity must name C, ST (or S) and O at least`;
  // One entry per type, the last value written (a repeated type had an empty first value).
  return [...seen].map(([type, value]) => ({ type, value }));
}

/**
 * notation-go pkix.go IsSubsetDN: every attribute of `subset` has the same value in `of`; an
 * absent attribute reads as empty, so `OU=` in a trusted identity asks for a subject without OU.
 */
export function isSubsetDn(subset: readonly DnAttribute[], of: readonly DnAttribute[]): boolean {
  const values = new Map(of.map((a) => [a.type, a.value]));
  return subset.every((a) => (values.get(a.type) ?? '') === a.value);
}

type Rdn = { type: string; value: string }[];

/**
 * go-ldap ParseDN: byte by byte, `\` escapes the next character, the first unescaped `=` ends the
 * type, `,` and `;` end an RDN, `+` an attribute of a multi-valued one. Every segment is decoded
 * by {@link decodeString}.
 */
function splitDn(text: string): Rdn[] | string {
  if (text.trim() === '') return 'empty';
  const rdns: Rdn[] = [];
  let rdn: Rdn = [];
  let type = '';
  let escaping = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (escaping) {
      escaping = false;
    } else if (c === '\\') {
      escaping = true;
    } else if (c === '=' && type === '') {
      const decoded = decodeString(text.slice(start, i));
      if (typeof decoded !== 'string') return decoded.error;
      type = decoded;
      start = i + 1;
    } else if (c === ',' || c === '+' || c === ';') {
      if (type === '') return 'an attribute without a type (incomplete type, value pair)';
      const value = decodeString(text.slice(start, i));
      if (typeof value !== 'string') return value.error;
      rdn.push({ type, value });
      type = '';
      start = i + 1;
      if (c !== '+') {
        rdns.push(rdn);
        rdn = [];
      }
      if (rdns.length > DN_LIMITS.attributes) return `more than ${DN_LIMITS.attributes} attributes`;
    }
  }
  if (type === '') return 'ends with an attribute without a type (incomplete type, value pair)';
  const value = decodeString(text.slice(start));
  if (typeof value !== 'string') return value.error;
  rdn.push({ type, value });
  rdns.push(rdn);
  return rdns;
}

/**
 * go-ldap decodeString: spaces around trimmed (a trailing escaped space kept), then `\` + one of
 * ` "#+,;<=>\` is that character, `\` + two hex digits is that byte; the bytes must be UTF-8.
 */
function decodeString(raw: string): string | { error: string } {
  let s = raw.replace(/^ +/, '').replace(/ +$/, '');
  if (s.endsWith('\\') && raw.endsWith(' ')) s += ' ';
  const chars = [...s];
  const bytes: number[] = [];
  const push = (text: string) => bytes.push(...Buffer.from(text, 'utf8'));
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c !== '\\') {
      push(c);
      continue;
    }
    const next = chars[i + 1];
    if (next === undefined) return { error: `a "\\" that escapes nothing in "${s}"` };
    if (' "#+,;<=>\\'.includes(next)) {
      push(next);
      i++;
      continue;
    }
    const pair = `${next}${chars[i + 2] ?? ''}`;
    if (!/^[0-9a-fA-F]{2}$/.test(pair)) return { error: `"\\${pair}" is neither an escaped special character nor two hex digits` };
    bytes.push(parseInt(pair, 16));
    i += 2;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    return { error: 'hex escapes that are not UTF-8' };
  }
}
