// The JWS JSON serialization of a Notation signature (signature-specification.md "JWS";
// notation-core-go signature/jws): protected headers `alg`, `cty`, `crit`, the signing scheme
// and its time, the optional expiry; unprotected `x5c` (leaf first), the timestamp
// countersignature and the signing agent.
import { TrustErrorCode } from '../errors.js';
import { asObject, readJson } from './json.js';
import { ALGORITHMS, Header, SigningScheme, type Algorithm, type EnvelopeRead } from './envelope.js';
import { MAX_CERTIFICATE_BYTES, MAX_CHAIN_LENGTH } from './limits.js';

/** Protected header names Notation defines (notation-core-go signature/jws/types.go headerKeys). */
const KNOWN: ReadonlySet<string> = new Set(['alg', 'cty', 'crit', Header.EXPIRY, Header.SIGNING_TIME, Header.SIGNING_SCHEME, Header.AUTHENTIC_SIGNING_TIME]);
const B64URL = /^[A-Za-z0-9_-]*$/;
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Go's time.Time JSON form: RFC 3339 with a zone. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

const invalid = (reason: string): EnvelopeRead => ({ ok: false, code: TrustErrorCode.SIGNATURE_INVALID, reason });
const unsupported = (reason: string): EnvelopeRead => ({ ok: false, code: TrustErrorCode.UNSUPPORTED_SIGNATURE, reason });

export function readJws(bytes: Buffer): EnvelopeRead {
  const doc = asObject(readJson(bytes));
  if (!doc) return invalid('the JWS envelope is not a JSON object');
  const { payload, protected: prot, signature } = doc;
  const header = doc.header === undefined ? {} : asObject(doc.header);
  if (typeof payload !== 'string' || typeof prot !== 'string' || typeof signature !== 'string' || !header) return invalid('the JWS envelope lacks payload, protected, header or signature');
  if (![payload, prot, signature].every((s) => B64URL.test(s))) return invalid('a JWS part is not base64url');
  const protectedHeader = asObject(readJson(Buffer.from(prot, 'base64url')));
  if (!protectedHeader) return invalid('the JWS protected header is not a JSON object');
  const sig = Buffer.from(signature, 'base64url');
  if (sig.length === 0) return invalid('the JWS signature is empty');
  const certificates = readX5c(header.x5c);
  if (typeof certificates === 'string') return invalid(certificates);
  const timestamp = header[Header.TIMESTAMP_SIGNATURE];
  if (timestamp !== undefined && (typeof timestamp !== 'string' || !B64.test(timestamp))) return invalid(`${Header.TIMESTAMP_SIGNATURE} is not base64`);
  const agent = header[Header.SIGNING_AGENT];

  const h = protectedHeader;
  if (typeof h.alg !== 'string' || !(ALGORITHMS as readonly string[]).includes(h.alg)) return unsupported(`JWS alg ${JSON.stringify(String(h.alg)).slice(0, 40)} is none of ${ALGORITHMS.join(', ')}`);
  if (typeof h.cty !== 'string') return invalid('the JWS protected header has no cty');
  const scheme = h[Header.SIGNING_SCHEME];
  if (scheme !== SigningScheme.X509 && scheme !== SigningScheme.SIGNING_AUTHORITY) return unsupported(`signing scheme ${JSON.stringify(String(scheme)).slice(0, 60)} is not notary.x509 or notary.x509.signingAuthority`);
  const times = readTimes(h, scheme);
  if (typeof times === 'string') return invalid(times);
  const crit = checkCritical(h, scheme, times.expiry !== undefined);
  if (typeof crit === 'string') return invalid(crit);
  return {
    ok: true,
    envelope: {
      format: 'jws',
      alg: h.alg as Algorithm,
      signingScheme: scheme,
      signingTime: times.signingTime,
      expiry: times.expiry,
      contentType: h.cty,
      payload: Buffer.from(payload, 'base64url'),
      signature: sig,
      signed: Buffer.from(`${prot}.${payload}`, 'ascii'),
      certificates,
      timestampToken: typeof timestamp === 'string' ? Buffer.from(timestamp, 'base64') : undefined,
      signingAgent: typeof agent === 'string' ? agent.slice(0, 200) : undefined,
      unknownCritical: crit,
    },
  };
}

function readX5c(value: unknown): Buffer[] | string {
  if (!Array.isArray(value) || value.length === 0) return 'the certificate chain (x5c) is not present';
  if (value.length > MAX_CHAIN_LENGTH) return `a certificate chain of ${value.length}, more than ${MAX_CHAIN_LENGTH}`;
  const out: Buffer[] = [];
  for (const c of value) {
    if (typeof c !== 'string' || !B64.test(c) || c.length > (MAX_CERTIFICATE_BYTES * 4) / 3 + 4) return 'an x5c entry is not a base64 certificate of at most 16 KiB';
    out.push(Buffer.from(c, 'base64'));
  }
  return out;
}

/** notation-core-go signature/jws/jws.go validateProtectedHeaders: each scheme's time, and only it. */
function readTimes(h: Record<string, unknown>, scheme: SigningScheme): { signingTime: number; expiry: number | undefined } | string {
  const own = scheme === SigningScheme.X509 ? Header.SIGNING_TIME : Header.AUTHENTIC_SIGNING_TIME;
  const other = scheme === SigningScheme.X509 ? Header.AUTHENTIC_SIGNING_TIME : Header.SIGNING_TIME;
  if (h[other] !== undefined) return `"${other}" must not be present for the ${scheme} signing scheme`;
  const signingTime = readTime(h[own]);
  if (signingTime === undefined) return `"${own}" is missing or not an RFC 3339 time`;
  let expiry: number | undefined;
  if (h[Header.EXPIRY] !== undefined) {
    expiry = readTime(h[Header.EXPIRY]);
    if (expiry === undefined) return `"${Header.EXPIRY}" is not an RFC 3339 time`;
    // notation-core-go signature/internal/base/envelope.go validateSigningAndExpiryTime
    if (expiry <= signingTime) return 'the expiry is not after the signing time';
  }
  return { signingTime, expiry };
}

function readTime(v: unknown): number | undefined {
  if (typeof v !== 'string' || !RFC3339.test(v)) return undefined;
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : undefined;
}

/**
 * notation-core-go validateCriticalHeaders: `crit` names the signing scheme, the expiry when
 * present and the authentic signing time under signingAuthority; each name it lists must be
 * present. Critical names Notation does not define are returned: the checks refuse them.
 */
function checkCritical(h: Record<string, unknown>, scheme: SigningScheme, hasExpiry: boolean): string[] | string {
  const crit = h.crit;
  if (!Array.isArray(crit) || crit.length === 0 || !crit.every((c) => typeof c === 'string')) return 'the "crit" header is missing or not a list of names';
  const names = crit;
  const must = [Header.SIGNING_SCHEME, ...(hasExpiry ? [Header.EXPIRY] : []), ...(scheme === SigningScheme.SIGNING_AUTHORITY ? [Header.AUTHENTIC_SIGNING_TIME] : [])];
  const missing = must.filter((m) => !names.includes(m));
  if (missing.length > 0) return `these headers are not marked critical: ${missing.join(', ')}`;
  const unknown: string[] = [];
  for (const name of names) {
    // A defined header other than those `must` names counts, to notation-core-go, as an
    // extended attribute that is absent (it deletes the defined ones before looking).
    if (!Object.hasOwn(h, name) || (KNOWN.has(name) && !must.includes(name as (typeof must)[number]))) return `${JSON.stringify(name.slice(0, 60))} is marked critical but not present`;
    if (!KNOWN.has(name) && !unknown.includes(name)) unknown.push(name.slice(0, 60));
  }
  return unknown;
}
