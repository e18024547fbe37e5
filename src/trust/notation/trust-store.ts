// A Notation trust store's certificates (specs/trust-store-trust-policy.md "Trust Store";
// notation-go verifier/truststore/truststore.go GetCertificates): PEM text as a policy carries
// it, or a file's bytes (PEM or DER, notation-core-go x509/cert.go ReadCertificateFile) as the
// CLI reads `x509/<type>/<name>/*`. Bounded before anything is parsed.
import { createHash, X509Certificate } from 'node:crypto';
import { printable } from '../../reference/index.js';
import type { Guard } from '../../shared/guard.js';
import { sigstoreCore } from '../cosign/sigstore-lib.js';
import type { TrustStore, TrustStoreRef } from './types.js';

export const TRUST_STORE_LIMITS = {
  /** Certificates of one store (a CA bundle of a few roots and intermediates). */
  certificates: 64,
  /** Characters (or bytes) of one store's PEM text. */
  length: 262_144,
} as const;

const BEGIN = '-----BEGIN ';

/**
 * Parses every PEM block of `pem` (a string, or bytes that are PEM or DER) as an X.509
 * certificate. Text around the blocks is ignored, as Go's pem.Decode does; a block of another
 * type (a key) is refused. A certificate given twice is kept once. Undefined on any problem.
 */
export function readCertificates(g: Guard, pem: unknown, path: string): X509Certificate[] | undefined {
  let text: string;
  if (typeof pem === 'string') text = pem;
  else if (pem instanceof Uint8Array) {
    if (pem.length > TRUST_STORE_LIMITS.length) return g.fail(path, `larger than ${TRUST_STORE_LIMITS.length} bytes`);
    const latin = Buffer.from(pem).toString('latin1');
    if (!latin.includes(BEGIN)) return readDer(g, Buffer.from(pem), path);
    text = latin;
  } else return g.fail(path, 'expected PEM certificates');
  if (text.length > TRUST_STORE_LIMITS.length) return g.fail(path, `longer than ${TRUST_STORE_LIMITS.length} characters`);
  const blocks = pemBlocks(text);
  if (typeof blocks === 'string') return g.fail(path, blocks);
  if (blocks.length === 0) return g.fail(path, 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  const ders: Buffer[] = [];
  for (const [i, block] of blocks.entries()) {
    // Go's pem.Decode does not look at the type; x509.ParseCertificate refuses what is no certificate.
    if (block.type !== 'CERTIFICATE' && block.type !== 'X509 CERTIFICATE') return g.fail(path, `PEM block ${i + 1} is a ${block.type.slice(0, 40)}, not a CERTIFICATE: a trust store holds certificates only`);
    ders.push(block.der);
  }
  return parseAll(g, ders, path);
}

/**
 * A trust store as notation loads one: its certificates (at least one), each a CA or
 * self-signed (truststore.go ValidateCertificates), and in a `tsa` store each a root CA
 * (isRootCACertificate). `files` is the store's PEM text, or each of its files' contents (PEM or
 * DER, as the CLI reads `x509/<type>/<name>/*`).
 */
export function readTrustStore(g: Guard, ref: TrustStoreRef, files: unknown, path: string): TrustStore | undefined {
  const parts = Array.isArray(files) ? (files as unknown[]) : [files];
  if (parts.length > TRUST_STORE_LIMITS.certificates) return g.fail(path, `more than ${TRUST_STORE_LIMITS.certificates} files`);
  const certificates: X509Certificate[] = [];
  const seen = new Set<string>();
  for (const part of parts) {
    const read = readCertificates(g, part, path);
    if (!read) return undefined;
    for (const cert of read) {
      const digest = certificateDigest(cert);
      if (seen.has(digest)) continue;
      seen.add(digest);
      certificates.push(cert);
    }
    if (certificates.length > TRUST_STORE_LIMITS.certificates) return g.fail(path, `more than ${TRUST_STORE_LIMITS.certificates} certificates`);
  }
  let bad = false;
  for (const [i, cert] of certificates.entries()) {
    const problem = ref.type === 'tsa' ? notRootCa(cert) : notCaOrSelfSigned(cert);
    if (problem) bad = g.fail(path, `certificate ${i + 1} (${clipSubject(cert)}) ${problem}`) ?? true;
  }
  return bad ? undefined : Object.freeze({ type: ref.type, name: ref.name, certificates: Object.freeze(certificates) });
}

/** PEM blocks counted by their BEGIN lines, without parsing: what the namespace budget counts. */
export function countPemBlocks(text: string, max: number): number {
  let n = 0;
  for (let at = text.indexOf(BEGIN); at >= 0 && n <= max; at = text.indexOf(BEGIN, at + BEGIN.length)) n++;
  return n;
}

/** The SHA-256 of a certificate's DER, hex (the spec key and evidence use it). */
export function certificateDigest(cert: X509Certificate): string {
  return createHash('sha256').update(cert.raw).digest('hex');
}

interface PemBlock {
  readonly type: string;
  readonly der: Buffer;
}

function pemBlocks(text: string): PemBlock[] | string {
  if (countPemBlocks(text, TRUST_STORE_LIMITS.certificates) > TRUST_STORE_LIMITS.certificates) return `more than ${TRUST_STORE_LIMITS.certificates} certificates`;
  const blocks: PemBlock[] = [];
  const pattern = /-----BEGIN ([A-Z0-9 ]{1,64})-----\r?\n([\s\S]*?)-----END \1-----/g;
  let found = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    // Headers (RFC 1421 "Proc-Type: …") are skipped as pem.Decode skips them; the rest is base64.
    const body = m[2]!.replace(/^[A-Za-z-]+:.*$/gm, '').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) return `PEM block ${found + 1} is not base64`;
    blocks.push({ type: m[1]!, der: Buffer.from(body, 'base64') });
    found++;
  }
  if (found !== countPemBlocks(text, TRUST_STORE_LIMITS.certificates)) return 'has a -----BEGIN line without its matching -----END line';
  return blocks;
}

/** Concatenated DER certificates (Go's x509.ParseCertificates), split by their outer length. */
function readDer(g: Guard, der: Buffer, path: string): X509Certificate[] | undefined {
  const parts: Buffer[] = [];
  for (let at = 0; at < der.length; ) {
    if (parts.length >= TRUST_STORE_LIMITS.certificates) return g.fail(path, `more than ${TRUST_STORE_LIMITS.certificates} certificates`);
    const next = tlv(der, at);
    if (next?.tag !== 0x30) return g.fail(path, 'is neither PEM nor DER certificates');
    parts.push(der.subarray(at, next.end));
    at = next.end;
  }
  if (parts.length === 0) return g.fail(path, 'is empty: no certificate');
  return parseAll(g, parts, path);
}

function parseAll(g: Guard, ders: readonly Buffer[], path: string): X509Certificate[] | undefined {
  const out: X509Certificate[] = [];
  const seen = new Set<string>();
  for (const [i, der] of ders.entries()) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(der);
    } catch {
      return g.fail(path, `certificate ${i + 1} is not an X.509 certificate`);
    }
    // Node's parser reads one certificate and ignores what follows: refuse trailing bytes.
    if (cert.raw.length !== der.length) return g.fail(path, `certificate ${i + 1} has bytes after its end`);
    const digest = certificateDigest(cert);
    if (seen.has(digest)) continue;
    seen.add(digest);
    out.push(cert);
  }
  return out;
}

type Core = ReturnType<typeof sigstoreCore>;
type CoreCertificate = ReturnType<Core['X509Certificate']['parse']>;

function coreView(cert: X509Certificate): CoreCertificate | undefined {
  try {
    return sigstoreCore().X509Certificate.parse(cert.raw);
  } catch {
    return undefined;
  }
}

/**
 * Signature algorithms Go's crypto/x509 refuses to check (InsecureAlgorithmError): MD2, MD5 and
 * SHA-1 with RSA, DSA with SHA-1, ECDSA with SHA-1 (DER contents of their OIDs, hex).
 */
const INSECURE_SIGNATURES = new Set(['2a864886f70d010102', '2a864886f70d010104', '2a864886f70d010105', '2a8648ce380403', '2a8648ce3d0401']);

/** Signed by its own key (Go's CheckSignature with the certificate's own public key). */
function selfSigned(cert: X509Certificate): boolean {
  if (INSECURE_SIGNATURES.has(tbsFields(cert.raw)?.signatureOid ?? '')) return false;
  try {
    return cert.verify(cert.publicKey);
  } catch {
    return false;
  }
}

/** truststore.go ValidateCertificates: a CA (basic constraints cA) or else self-signed. */
function notCaOrSelfSigned(cert: X509Certificate): string | undefined {
  const view = tbsFields(cert.raw)?.version === 3 ? coreView(cert) : undefined;
  if (view?.extBasicConstraints?.isCA === true) return undefined;
  return selfSigned(cert) ? undefined : 'is neither a CA certificate nor self-signed: notation refuses it in a trust store';
}

/**
 * truststore.go isRootCACertificate: Go's CheckSignatureFrom(itself) — a v3 certificate needs
 * basic constraints with cA, a key usage (when present) needs keyCertSign — and the raw subject
 * equals the raw issuer. A v1 certificate has neither extension, and Go asks for none.
 */
function notRootCa(cert: X509Certificate): string | undefined {
  const tbs = tbsFields(cert.raw);
  if (!tbs) return 'cannot be read';
  if (tbs.version === 3) {
    const view = coreView(cert);
    if (!view) return 'cannot be read';
    const constraints = view.extBasicConstraints;
    if (constraints === undefined || !constraints.isCA) return 'is not a CA certificate: a tsa store holds root CA certificates only';
    if (view.extKeyUsage !== undefined && !view.extKeyUsage.keyCertSign) return 'has a key usage without keyCertSign: a tsa store holds root CA certificates only';
  }
  if (!tbs.subject.equals(tbs.issuer)) return 'is not self-issued (subject and issuer differ): a tsa store holds root CA certificates only';
  return selfSigned(cert) ? undefined : 'is not signed by its own key: a tsa store holds root CA certificates only';
}

/** The version and raw names of a certificate's TBSCertificate (RFC 5280 4.1), read from its DER. */
function tbsFields(der: Buffer): { version: number; signatureOid: string; issuer: Buffer; subject: Buffer } | undefined {
  const cert = tlv(der, 0);
  const tbs = cert && tlv(der, cert.start);
  if (!tbs) return undefined;
  let at = tbs.start;
  let version = 1;
  const first = tlv(der, at);
  if (first?.tag === 0xa0) {
    const v = tlv(der, first.start);
    version = v?.tag === 0x02 && v.end - v.start === 1 ? der[v.start]! + 1 : 0;
    at = first.end;
  }
  const fields: Buffer[] = [];
  for (let i = 0; i < 5; i++) {
    const field = tlv(der, at);
    if (!field) return undefined;
    fields.push(der.subarray(at, field.end));
    at = field.end;
  }
  // serial, signature algorithm, issuer, validity, subject
  const algorithm = tlv(fields[1]!, 0);
  const oid = algorithm && tlv(fields[1]!, algorithm.start);
  const signatureOid = oid?.tag === 0x06 ? fields[1]!.subarray(oid.start, oid.end).toString('hex') : '';
  return { version, signatureOid, issuer: fields[2]!, subject: fields[4]! };
}

/** One DER tag-length-value at `at`: its tag, where its contents start and where it ends. */
function tlv(der: Buffer, at: number): { tag: number; start: number; end: number } | undefined {
  if (at + 2 > der.length) return undefined;
  const tag = der[at]!;
  const first = der[at + 1]!;
  let length = first;
  let start = at + 2;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n === 0 || n > 4 || start + n > der.length) return undefined;
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + der[start + i]!;
    start += n;
  }
  return start + length <= der.length ? { tag, start, end: start + length } : undefined;
}

function clipSubject(cert: X509Certificate): string {
  return printable(cert.subject.replace(/\n/g, ', '));
}
