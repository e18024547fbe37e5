// The certificates of a Notation signature: read once (node:crypto for keys and signatures,
// @sigstore/core's ASN.1 for the extensions node:crypto does not expose), then checked as the
// Notary Project's signature-specification.md "Certificate Requirements" says and
// notation-core-go x509/codesigning_cert_validations.go (ValidateCodeSigningCertChain) does.
import { createHash, X509Certificate as NodeCertificate, type KeyObject } from 'node:crypto';
import { ASN1Obj, X509Certificate as Asn1Certificate } from '@sigstore/core';
import { TrustErrorCode } from '../errors.js';
import type { Algorithm } from './envelope.js';
import { CERTIFICATE_CACHE_ENTRIES, MAX_CERTIFICATE_BYTES } from './limits.js';

const Oid = {
  KEY_USAGE: '2.5.29.15',
  BASIC_CONSTRAINTS: '2.5.29.19',
  EXT_KEY_USAGE: '2.5.29.37',
  CRL_DISTRIBUTION_POINTS: '2.5.29.31',
  AUTHORITY_INFO_ACCESS: '1.3.6.1.5.5.7.1.1',
  OCSP: '1.3.6.1.5.5.7.48.1',
} as const;

/** EKUs a code-signing leaf must not carry (x509/codesigning_cert_validations.go excludedEkus). */
const EXCLUDED_EKU: ReadonlyMap<string, string> = new Map([
  ['1.3.6.1.5.5.7.3.1', 'ServerAuth'],
  ['1.3.6.1.5.5.7.3.2', 'ClientAuth'],
  ['1.3.6.1.5.5.7.3.4', 'EmailProtection'],
  ['1.3.6.1.5.5.7.3.8', 'Timestamping'],
  ['1.3.6.1.5.5.7.3.9', 'OCSPSigning'],
]);

/**
 * Certificate signature algorithms checked: SHA-2 RSA (PKCS#1 v1.5 and PSS) and ECDSA. Go's
 * crypto/x509 (CheckSignatureFrom) refuses SHA-1 and MD5 ones; so does this.
 */
const CERT_SIGNATURE_ALGORITHMS: ReadonlySet<string> = new Set([
  '1.2.840.113549.1.1.11',
  '1.2.840.113549.1.1.12',
  '1.2.840.113549.1.1.13',
  '1.2.840.113549.1.1.10',
  '1.2.840.10045.4.3.2',
  '1.2.840.10045.4.3.3',
  '1.2.840.10045.4.3.4',
]);

/** Key usage bits (RFC 5280 4.2.1.3), as @sigstore/core's bit string lists them. */
const KU = { DIGITAL_SIGNATURE: 0, KEY_ENCIPHERMENT: 2, DATA_ENCIPHERMENT: 3, KEY_AGREEMENT: 4, CERT_SIGN: 5, CRL_SIGN: 6, ENCIPHER_ONLY: 7, DECIPHER_ONLY: 8 } as const;
const KU_NAMES = ['DigitalSignature', 'ContentCommitment', 'KeyEncipherment', 'DataEncipherment', 'KeyAgreement', 'CertSign', 'CRLSign', 'EncipherOnly', 'DecipherOnly'];

/** One certificate of a chain, read. */
export interface ChainCertificate {
  readonly der: Buffer;
  readonly node: NodeCertificate;
  readonly key: KeyObject;
  readonly subject: string;
  readonly rawSubject: Buffer;
  readonly rawIssuer: Buffer;
  /** Subject attributes in DER order: [type OID, value] per attribute, and the RDN each is in. */
  readonly subjectAttributes: readonly { readonly oid: string; readonly value: string; readonly rdn: number }[];
  readonly notBefore: number;
  readonly notAfter: number;
  readonly signatureAlgorithm: string;
  /** undefined: no key usage extension; else its bits and whether it is critical. */
  readonly keyUsage: { readonly bits: readonly number[]; readonly critical: boolean } | undefined;
  /** undefined: no basic constraints extension. */
  readonly basicConstraints: { readonly ca: boolean; readonly pathLen: number | undefined } | undefined;
  readonly extKeyUsage: readonly string[];
  readonly extKeyUsageCritical: boolean;
  /** The serial number's DER contents (a timestamp token names its signer by issuer and serial). */
  readonly serial: Buffer;
  /** Names a CRL distribution point or an OCSP responder: its revocation status can be asked. */
  readonly revocable: boolean;
  readonly version: number;
}

export type Failure = { readonly code: TrustErrorCode; readonly reason: string };

/**
 * Parsed certificates by SHA-256 of their DER (a parse that failed as `undefined`), least
 * recently used dropped past CERTIFICATE_CACHE_ENTRIES: the 100 signatures of an image, and
 * every image a CA signs for, carry the same intermediates and roots, which then parse once.
 * Parsing is a pure function of the bytes, so a hit is what a parse would give.
 */
const parsed = new Map<string, ChainCertificate | undefined>();

/** Entries of the parsed-certificate cache (the `notationCertificates` gauge). */
export function certificateCacheSize(): number {
  return parsed.size;
}

/** Empties the parsed-certificate cache (bench/notation-verify-cpu.ts measures cold verifications). */
export function clearCertificateCache(): void {
  parsed.clear();
}

/**
 * One certificate of a chain, read (or from the cache). With `budget.parseBytes`, a certificate
 * not in the cache is parsed only if its bytes fit what is left of the image's parse budget
 * (TOO_LARGE past it): parsing an attacker's DER of thousands of tiny ASN.1 items costs ~0.2 ms
 * per KiB, and is counted like the public-key operations.
 */
export function readCertificate(der: Buffer, index: number, budget?: KeyBudget): ChainCertificate | Failure {
  const at = `certificate ${index} of the chain`;
  if (der.length > MAX_CERTIFICATE_BYTES) return { code: TrustErrorCode.SIGNATURE_INVALID, reason: `${at} is ${der.length} bytes, more than ${MAX_CERTIFICATE_BYTES}` };
  const id = createHash('sha256').update(der).digest('base64');
  let cert: ChainCertificate | undefined;
  if (parsed.has(id)) {
    cert = parsed.get(id);
    parsed.delete(id);
  } else {
    if (budget?.parseBytes !== undefined) {
      if (budget.parseBytes < der.length) return { code: TrustErrorCode.TOO_LARGE, reason: `${at}: the certificate bytes this image's signatures may have parsed are spent` };
      budget.parseBytes -= der.length;
    }
    cert = parseCertificate(Buffer.from(der)); // a copy: never hold a view of a whole envelope
    if (parsed.size >= CERTIFICATE_CACHE_ENTRIES) parsed.delete(parsed.keys().next().value!);
  }
  parsed.set(id, cert);
  return cert ?? { code: TrustErrorCode.SIGNATURE_INVALID, reason: `${at} is not a well-formed X.509 certificate` };
}

function parseCertificate(der: Buffer): ChainCertificate | undefined {
  try {
    const node = new NodeCertificate(der);
    const asn1 = Asn1Certificate.parse(Buffer.from(der));
    const tbs = asn1.tbsCertificate;
    const versioned = tbs.subs[0]?.tag.isContextSpecific(0) ?? false;
    const subjectObj = tbs.subs[versioned ? 5 : 4];
    const issuerObj = tbs.subs[versioned ? 3 : 2];
    if (!subjectObj || !issuerObj) throw new Error('no subject or issuer');
    readName(issuerObj); // Go refuses the certificate if its issuer's values are not read either
    return {
      der,
      node,
      key: node.publicKey,
      subject: rfc4514(node.subject),
      rawSubject: asn1.subject,
      rawIssuer: asn1.issuer,
      subjectAttributes: readName(subjectObj),
      notBefore: asn1.notBefore.getTime(),
      notAfter: asn1.notAfter.getTime(),
      signatureAlgorithm: asn1.root.subs[1]!.subs[0]!.toOID(),
      keyUsage: readKeyUsage(asn1),
      basicConstraints: readBasicConstraints(asn1),
      extKeyUsage: inner(asn1.extension(Oid.EXT_KEY_USAGE))?.subs.map((s) => s.toOID()) ?? [],
      extKeyUsageCritical: asn1.extension(Oid.EXT_KEY_USAGE)?.critical ?? false,
      serial: Buffer.from(asn1.serialNumber),
      revocable: asn1.extension(Oid.CRL_DISTRIBUTION_POINTS) !== undefined || (inner(asn1.extension(Oid.AUTHORITY_INFO_ACCESS))?.subs.some((ad) => ad.subs[0]?.toOID() === Oid.OCSP) ?? false),
      version: versioned ? Number(tbs.subs[0]!.subs[0]!.toInteger()) + 1 : 1,
    };
  } catch {
    return undefined;
  }
}

/** An extension's value: the DER inside its extnValue OCTET STRING. */
function inner(ext: { readonly valueObj: ASN1Obj } | undefined): ASN1Obj | undefined {
  if (!ext) return undefined;
  const v = ext.valueObj.subs[0];
  if (!v) throw new Error('an extension without a value');
  return v;
}

function readKeyUsage(c: Asn1Certificate): ChainCertificate['keyUsage'] {
  const ext = c.extension(Oid.KEY_USAGE);
  if (!ext) return undefined;
  const bits = inner(ext)!.toBitString();
  return { bits: bits.flatMap((b, i) => (b === 1 ? [i] : [])), critical: ext.critical };
}

function readBasicConstraints(c: Asn1Certificate): ChainCertificate['basicConstraints'] {
  const ext = c.extension(Oid.BASIC_CONSTRAINTS);
  if (!ext) return undefined;
  let ca = false;
  let pathLen: number | undefined;
  for (const s of inner(ext)!.subs) {
    if (s.tag.number === 1) ca = s.toBoolean();
    else if (s.tag.number === 2) {
      const n = s.toInteger();
      pathLen = n > 1000n ? 1000 : Number(n);
    }
  }
  return { ca, pathLen };
}

function readName(name: ASN1Obj): ChainCertificate['subjectAttributes'] {
  const out: { oid: string; value: string; rdn: number }[] = [];
  name.subs.forEach((set, rdn) => {
    for (const atv of set.subs) {
      const [type, value] = atv.subs;
      // Go's parseName refuses an attribute without a type or value.
      if (!type || !value) throw new Error('an invalid name attribute');
      out.push({ oid: type.toOID(), value: stringValue(value), rdn });
    }
  });
  return out;
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Go crypto/x509 isPrintable: PrintableString's set, plus `*` and `&` that Go tolerates. */
function printable(b: number): boolean {
  return (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || (b >= 0x27 && b <= 0x29) || (b >= 0x2b && b <= 0x2f) || b === 0x20 || b === 0x3a || b === 0x3d || b === 0x3f || b === 0x2a || b === 0x26;
}

/**
 * An attribute value as Go's crypto/x509 parseASN1String (parser.go, Go 1.25/1.26, what
 * notation is built with) reads it: T61String as Latin-1, UTF8String only if valid UTF-8,
 * PrintableString/IA5String/NumericString only with their characters, BMPString without
 * surrogates or noncharacters; any other string type, or a value breaking these rules, makes Go
 * refuse the whole certificate, so this throws (and the certificate is refused) too. Reading it
 * more leniently would let a subject match an identity notation never matches.
 */
function stringValue(v: ASN1Obj): string {
  const b = Buffer.from(v.value);
  if (v.tag.constructed || !v.tag.isUniversal()) throw new Error('a name attribute value that is not a string');
  switch (v.tag.number) {
    case 0x14: // T61String
      return b.toString('latin1');
    case 0x13: // PrintableString
      if (!b.every(printable)) throw new Error('invalid PrintableString');
      return b.toString('latin1');
    case 0x0c: // UTF8String
      return STRICT_UTF8.decode(b);
    case 0x16: // IA5String
      if (!b.every((c) => c < 0x80)) throw new Error('invalid IA5String');
      return b.toString('latin1');
    case 0x12: // NumericString
      if (!b.every((c) => (c >= 0x30 && c <= 0x39) || c === 0x20)) throw new Error('invalid NumericString');
      return b.toString('latin1');
    case 0x1e: {
      // BMPString: UCS-2, a trailing NUL pair dropped.
      if (b.length % 2 !== 0) throw new Error('invalid BMPString');
      const units = b.length >= 2 && b[b.length - 1] === 0 && b[b.length - 2] === 0 ? b.subarray(0, b.length - 2) : b;
      const codes: number[] = [];
      for (let i = 0; i < units.length; i += 2) {
        const p = (units[i]! << 8) | units[i + 1]!;
        if (p === 0xfffe || p === 0xffff || (p >= 0xfdd0 && p <= 0xfdef) || (p >= 0xd800 && p <= 0xdfff)) throw new Error('invalid BMPString');
        codes.push(p);
      }
      return String.fromCharCode(...codes);
    }
    default:
      throw new Error(`unsupported string type ${v.tag.number}`);
  }
}

/** node:crypto's subject (one `type=value` a line) as one line, for messages and evidence. */
function rfc4514(subject: string): string {
  return subject.split('\n').filter(Boolean).reverse().join(', ').slice(0, 512);
}

const RSA_ALG: ReadonlyMap<number, Algorithm> = new Map([
  [2048, 'PS256'],
  [3072, 'PS384'],
  [4096, 'PS512'],
]);
const EC_ALG: ReadonlyMap<string, Algorithm> = new Map([
  ['prime256v1', 'ES256'],
  ['secp384r1', 'ES384'],
  ['secp521r1', 'ES512'],
]);

/**
 * The algorithm a key implies (notation-core-go internal/algorithm ExtractKeySpec and
 * signature/cose getSignatureAlgorithmFromKeySpec): RSA 2048/3072/4096 bits → PS256/384/512,
 * ECDSA P-256/384/521 → ES256/384/512; anything else is not a Notation signing key.
 */
export function algorithmOf(key: KeyObject): { readonly alg: Algorithm } | { readonly problem: string } {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa') {
    const e = d?.publicExponent;
    // Go's crypto/rsa refuses exponents beyond 2^31-1 and even ones; so does the spec's profile.
    if (e === undefined || e < 3n || e > 2n ** 31n - 1n || e % 2n === 0n) return { problem: `RSA public exponent ${String(e)} is not an odd number in [3, 2^31-1]` };
    const bits = Math.ceil((d?.modulusLength ?? 0) / 8) * 8;
    const alg = RSA_ALG.get(bits);
    return alg ? { alg } : { problem: `RSA key of ${bits} bits (Notation signs with 2048, 3072 or 4096)` };
  }
  if (key.asymmetricKeyType === 'ec') {
    const alg = EC_ALG.get(String(d?.namedCurve));
    return alg ? { alg } : { problem: `ECDSA curve ${String(d?.namedCurve)} (Notation signs with P-256, P-384 or P-521)` };
  }
  return { problem: `a ${String(key.asymmetricKeyType)} key (Notation signs with RSA or ECDSA)` };
}

/**
 * A CA certificate's key: the spec's "Signature Algorithm Requirements" (RSA 2048–8192 bits,
 * exponent within 2^31-1; ECDSA P-256/384/521). Bounds the work an issuer's key can cost.
 */
export function checkCaKey(key: KeyObject): string | undefined {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa') {
    const e = d?.publicExponent;
    if (e === undefined || e < 3n || e > 2n ** 31n - 1n || e % 2n === 0n) return `RSA public exponent ${String(e)} is not an odd number in [3, 2^31-1]`;
    const bits = d?.modulusLength ?? 0;
    return bits >= 2048 && bits <= 8192 ? undefined : `RSA key of ${bits} bits (2048 to 8192 allowed)`;
  }
  if (key.asymmetricKeyType === 'ec') return ['prime256v1', 'secp384r1', 'secp521r1'].includes(String(d?.namedCurve)) ? undefined : `ECDSA curve ${String(d?.namedCurve)}`;
  return `a ${String(key.asymmetricKeyType)} key`;
}

/**
 * One image's budget: `remaining` counts public-key operations (each signature check takes one);
 * `parseBytes`, when set, the certificate and timestamp-token bytes its signatures may have parsed.
 */
export interface KeyBudget {
  remaining: number;
  parseBytes?: number;
}

/** Whether `child`'s signature verifies with `parent`'s key (Go CheckSignatureFrom's constraints included). */
function signedBy(child: ChainCertificate, parent: ChainCertificate, budget: KeyBudget): boolean | 'exhausted' {
  if ((parent.version === 3 && !parent.basicConstraints) || (parent.basicConstraints && !parent.basicConstraints.ca)) return false;
  if (parent.keyUsage && parent.keyUsage.bits.length > 0 && !parent.keyUsage.bits.includes(KU.CERT_SIGN)) return false;
  if (!CERT_SIGNATURE_ALGORITHMS.has(child.signatureAlgorithm)) return false;
  if (checkCaKey(parent.key) !== undefined) return false;
  if (budget.remaining <= 0) return 'exhausted';
  budget.remaining--;
  try {
    return child.node.verify(parent.key);
  } catch {
    return false;
  }
}

/**
 * The chain's structure (x509/codesigning_cert_validations.go ValidateCodeSigningCertChain,
 * signing time nil: the time checks are the authentic-timestamp step's): leaf first, each
 * certificate issued and signed by the next, no self-signed certificate before the last, the
 * last self-signed; the leaf a code-signing certificate, the others CAs.
 */
export function checkChain(chain: readonly ChainCertificate[], budget: KeyBudget, purpose: Purpose = 'codeSigning'): Failure | undefined {
  const checkLeaf = purpose === 'codeSigning' ? checkCodeSigningLeaf : checkTimestampingLeaf;
  const invalid = (reason: string): Failure => ({ code: TrustErrorCode.CERTIFICATE_INVALID, reason });
  const exhausted: Failure = { code: TrustErrorCode.TOO_LARGE, reason: 'the public-key operations allowed for this image are spent' };
  const leaf = chain[0]!;
  if (chain.length === 1) {
    // A lone self-signed signing certificate: its own signature, and subject equal to issuer.
    if (budget.remaining-- <= 0) return exhausted;
    let ok = false;
    try {
      ok = CERT_SIGNATURE_ALGORITHMS.has(leaf.signatureAlgorithm) && leaf.node.verify(leaf.key);
    } catch {
      ok = false;
    }
    if (!ok || !leaf.rawSubject.equals(leaf.rawIssuer)) return invalid(`the lone certificate "${leaf.subject}" is not a valid self-signed certificate`);
    return checkLeaf(leaf);
  }
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i]!;
    const last = i === chain.length - 1;
    const self = cert.rawSubject.equals(cert.rawIssuer) ? signedBy(cert, cert, budget) : false;
    if (self === 'exhausted') return exhausted;
    if (last && !self) return invalid(`the root "${cert.subject}" is not self-signed: a chain must end in a self-signed root`);
    if (!last) {
      if (self) return invalid(`${i === 0 ? 'the leaf' : 'an intermediate'} "${cert.subject}" is self-signed`);
      const parent = chain[i + 1]!;
      if (!cert.rawIssuer.equals(parent.rawSubject)) return invalid(`"${cert.subject}" is not issued by "${parent.subject}"`);
      const signed = signedBy(cert, parent, budget);
      if (signed === 'exhausted') return exhausted;
      if (!signed) return invalid(`"${cert.subject}" is not signed by "${parent.subject}"`);
    }
    const problem = i === 0 ? checkLeaf(cert) : checkCa(cert, i - 1, purpose);
    if (problem) return problem;
  }
  return undefined;
}

/** What a chain is for: signing artifacts, or timestamps (x509/timestamp_cert_validations.go). */
export type Purpose = 'codeSigning' | 'timestamping';
const TIMESTAMPING_EKU = '1.3.6.1.5.5.7.3.8';

/** Leaf rules both purposes share (basic constraints, key usage Digital Signature only). */
function checkLeafBasics(c: ChainCertificate, critical: boolean): string | undefined {
  if (c.basicConstraints?.ca) return 'basic constraints say it is a CA';
  if (!c.keyUsage) return 'the key usage extension must be present';
  if (critical && !c.keyUsage.critical) return 'the key usage extension must be critical';
  if (!c.keyUsage.bits.includes(KU.DIGITAL_SIGNATURE)) return 'key usage lacks Digital Signature';
  const extra = c.keyUsage.bits.filter((b) => b !== KU.DIGITAL_SIGNATURE && b !== 1);
  if (extra.length > 0) return `key usage must be Digital Signature only, but has ${extra.map((b) => KU_NAMES[b] ?? String(b)).join(', ')}`;
  return undefined;
}

function checkTimestampingLeaf(c: ChainCertificate): Failure | undefined {
  const invalid = (reason: string): Failure => ({ code: TrustErrorCode.CERTIFICATE_INVALID, reason: `the timestamping certificate "${c.subject}": ${reason}` });
  const basics = checkLeafBasics(c, false);
  if (basics) return invalid(basics);
  // RFC 3161 2.3: exactly one EKU, timeStamping, and critical.
  if (c.extKeyUsage.length !== 1 || c.extKeyUsage[0] !== TIMESTAMPING_EKU || !c.extKeyUsageCritical) return invalid('the extended key usage must be timeStamping alone, and critical');
  const alg = algorithmOf(c.key);
  if ('problem' in alg) return invalid(alg.problem);
  return undefined;
}

function checkCodeSigningLeaf(c: ChainCertificate): Failure | undefined {
  const invalid = (reason: string): Failure => ({ code: TrustErrorCode.CERTIFICATE_INVALID, reason: `the signing certificate "${c.subject}": ${reason}` });
  const basics = checkLeafBasics(c, true);
  if (basics) return invalid(basics);
  const ekus = c.extKeyUsage.flatMap((o) => EXCLUDED_EKU.get(o) ?? []);
  if (ekus.length > 0) return invalid(`extended key usage must not contain ${ekus.join(', ')}`);
  const alg = algorithmOf(c.key);
  if ('problem' in alg) return { code: TrustErrorCode.UNSUPPORTED_SIGNATURE, reason: `the signing certificate "${c.subject}": ${alg.problem}` };
  return undefined;
}

function checkCa(c: ChainCertificate, expectedPathLen: number, purpose: Purpose): Failure | undefined {
  const invalid = (reason: string): Failure => ({ code: TrustErrorCode.CERTIFICATE_INVALID, reason: `the CA certificate "${c.subject}": ${reason}` });
  if (!c.basicConstraints?.ca) return invalid('basic constraints must be present and say CA');
  if (c.basicConstraints.pathLen !== undefined && c.basicConstraints.pathLen < expectedPathLen) return invalid(`path length ${c.basicConstraints.pathLen}, but ${expectedPathLen} CAs below it`);
  if (!c.keyUsage) return invalid('the key usage extension must be present');
  // Code-signing CAs' key usage must be critical; timestamping CAs' need only be present.
  if (purpose === 'codeSigning' && !c.keyUsage.critical) return invalid('the key usage extension must be critical');
  if (!c.keyUsage.bits.includes(KU.CERT_SIGN)) return invalid('key usage lacks Certificate Sign');
  const key = checkCaKey(c.key);
  if (key) return { code: TrustErrorCode.UNSUPPORTED_SIGNATURE, reason: `the CA certificate "${c.subject}": ${key}` };
  return undefined;
}
