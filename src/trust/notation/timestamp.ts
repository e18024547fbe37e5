// The RFC 3161 timestamp countersignature of a notary.x509 signature (signature-specification.md
// "Signing time and timestamp"; notation-go verifier.go verifyTimestamp on tspclient-go): a
// TimeStampToken (CMS SignedData, RFC 5652) whose TSTInfo's message imprint is the hash of the
// envelope's signature value, signed by a timestamping certificate that chains to a `tsa` trust
// store at the token's time, the chain meeting notation-core-go's
// ValidateTimestampingCertChain. What it proves: the signature existed at genTime ± accuracy.
import { createHash, verify as cryptoVerify } from 'node:crypto';
import { ASN1Obj } from '@sigstore/core';
import { checkChain, readCertificate, type ChainCertificate, type KeyBudget } from './certificates.js';
import { MAX_CHAIN_LENGTH, MAX_TIMESTAMP_TOKEN_BYTES } from './limits.js';

const Oid = {
  SIGNED_DATA: '1.2.840.113549.1.7.2',
  TST_INFO: '1.2.840.113549.1.9.16.1.4',
  CONTENT_TYPE: '1.2.840.113549.1.9.3',
  MESSAGE_DIGEST: '1.2.840.113549.1.9.4',
} as const;

/** Digest algorithms a token may use (tspclient-go accepts SHA-256/384/512). */
const HASHES: ReadonlyMap<string, string> = new Map([
  ['2.16.840.1.101.3.4.2.1', 'sha256'],
  ['2.16.840.1.101.3.4.2.2', 'sha384'],
  ['2.16.840.1.101.3.4.2.3', 'sha512'],
]);
/** SignerInfo signature algorithms: RSA PKCS#1 v1.5 (with or without the hash in the OID) and ECDSA. */
const SIGNATURE_ALGORITHMS: ReadonlyMap<string, string | undefined> = new Map([
  ['1.2.840.113549.1.1.1', undefined],
  ['1.2.840.113549.1.1.11', 'sha256'],
  ['1.2.840.113549.1.1.12', 'sha384'],
  ['1.2.840.113549.1.1.13', 'sha512'],
  ['1.2.840.10045.2.1', undefined],
  ['1.2.840.10045.4.3.2', 'sha256'],
  ['1.2.840.10045.4.3.3', 'sha384'],
  ['1.2.840.10045.4.3.4', 'sha512'],
]);
/** Certificates a token may carry: a TSA sends its leaf and perhaps an intermediate or two. */
const MAX_TOKEN_CERTIFICATES = 8;
const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d{1,9})?Z$/;

export type TimestampCheck = { readonly ok: true; readonly time: number; readonly accuracy: number } | { readonly ok: false; readonly reason: string };

class TokenError extends Error {}

/**
 * Verifies `token` over `signature` and chains it to one of `roots` (the statement's tsa stores).
 * Never throws: anything unreadable or unverified is a reason.
 */
export function verifyTimestamp(token: Buffer, signature: Buffer, roots: readonly Buffer[], budget: KeyBudget): TimestampCheck {
  // Parsing a token costs with its count of ASN.1 items: bounded, and counted like certificates.
  if (token.length > MAX_TIMESTAMP_TOKEN_BYTES) return { ok: false, reason: `the timestamp token is ${token.length} bytes, more than ${MAX_TIMESTAMP_TOKEN_BYTES}` };
  if (budget.parseBytes !== undefined) {
    if (budget.parseBytes < token.length) return { ok: false, reason: "the bytes this image's signatures may have parsed are spent" };
    budget.parseBytes -= token.length;
  }
  try {
    return check(token, signature, roots, budget);
  } catch (e) {
    return { ok: false, reason: e instanceof TokenError ? e.message : 'the timestamp token is not a well-formed RFC 3161 TimeStampToken' };
  }
}

function need<T>(v: T | undefined | null, what: string): T {
  if (v === undefined || v === null) throw new TokenError(`the timestamp token lacks ${what}`);
  return v;
}

function check(token: Buffer, signature: Buffer, roots: readonly Buffer[], budget: KeyBudget): TimestampCheck {
  const contentInfo = ASN1Obj.parseBuffer(Buffer.from(token));
  if (need(contentInfo.subs[0], 'a content type').toOID() !== Oid.SIGNED_DATA) throw new TokenError('the timestamp token is not CMS SignedData');
  const signedData = need(need(contentInfo.subs[1], 'SignedData').subs[0], 'SignedData');
  const parts = signedData.subs;
  const encap = need(parts[2], 'encapsulated content');
  if (need(encap.subs[0], 'an eContentType').toOID() !== Oid.TST_INFO) throw new TokenError('the timestamp token does not hold a TSTInfo');
  const eContent = need(need(encap.subs[1], 'eContent').subs[0], 'eContent');
  const tstInfoDer = eContent.value;
  const tstInfo = ASN1Obj.parseBuffer(Buffer.from(tstInfoDer));
  const certObjs = parts.find((p, i) => i > 2 && p.tag.isContextSpecific(0))?.subs ?? [];
  if (certObjs.length > MAX_TOKEN_CERTIFICATES) throw new TokenError(`the timestamp token carries ${certObjs.length} certificates, more than ${MAX_TOKEN_CERTIFICATES}`);
  const signerInfos = need(parts[parts.length - 1], 'signer infos').subs;
  if (signerInfos.length !== 1) throw new TokenError(`the timestamp token has ${signerInfos.length} signers, not one`);
  const si = signerInfos[0]!.subs;

  // TSTInfo: version, policy, messageImprint, serialNumber, genTime, accuracy?, …
  const imprint = need(tstInfo.subs[2], 'a message imprint');
  const imprintHash = HASHES.get(need(need(imprint.subs[0], 'an imprint algorithm').subs[0], 'an imprint algorithm').toOID());
  if (!imprintHash) throw new TokenError('the timestamp message imprint uses a hash other than SHA-256/384/512');
  if (!createHash(imprintHash).update(signature).digest().equals(need(imprint.subs[1], 'a hashed message').value)) throw new TokenError('the timestamp is of other bytes than this signature');
  const time = generalizedTime(need(tstInfo.subs[4], 'a genTime'));
  const accuracy = readAccuracy(tstInfo.subs[5]);

  // SignerInfo: version, sid, digestAlgorithm, [0] signedAttrs, signatureAlgorithm, signature.
  const [, sid, digestAlg, signedAttrs, sigAlg, sigValue] = si;
  const digest = HASHES.get(need(need(digestAlg, 'a digest algorithm').subs[0], 'a digest algorithm').toOID());
  if (!digest) throw new TokenError('the timestamp signer uses a digest other than SHA-256/384/512');
  if (!need(signedAttrs, 'signed attributes').tag.isContextSpecific(0)) throw new TokenError('the timestamp token lacks signed attributes');
  const attrs = new Map(signedAttrs!.subs.map((a) => [need(a.subs[0], 'an attribute type').toOID(), need(need(a.subs[1], 'an attribute value').subs[0], 'an attribute value')]));
  if (attrs.get(Oid.CONTENT_TYPE)?.toOID() !== Oid.TST_INFO) throw new TokenError('the timestamp signed attributes do not name a TSTInfo');
  if (!createHash(digest).update(tstInfoDer).digest().equals(need(attrs.get(Oid.MESSAGE_DIGEST), 'a message digest').value)) throw new TokenError('the timestamp signer signed another TSTInfo');

  const certs: ChainCertificate[] = [];
  for (const [i, c] of certObjs.entries()) {
    const read = readCertificate(c.toDER(), i, budget);
    if ('code' in read) throw new TokenError(`the timestamp token's ${read.reason}`);
    certs.push(read);
  }
  const signer = findSigner(need(sid, 'a signer identifier'), certs);
  const algOid = need(need(sigAlg, 'a signature algorithm').subs[0], 'a signature algorithm').toOID();
  if (!SIGNATURE_ALGORITHMS.has(algOid)) throw new TokenError(`the timestamp signature algorithm ${algOid} is not RSA PKCS#1 v1.5 or ECDSA`);
  const toVerify = Buffer.from(signedAttrs!.toDER());
  toVerify[0] = 0x31; // RFC 5652 5.4: the signature covers the attributes as a SET
  if (budget.remaining-- <= 0) throw new TokenError('the public-key operations allowed for this image are spent');
  let signed = false;
  try {
    signed = cryptoVerify(SIGNATURE_ALGORITHMS.get(algOid) ?? digest, toVerify, signer.key, need(sigValue, 'a signature').value);
  } catch {
    signed = false;
  }
  if (!signed) throw new TokenError('the timestamp signature does not verify with its signing certificate');

  const chain = buildChain(signer, certs, roots);
  const problem = checkChain(chain, budget, 'timestamping');
  if (problem) throw new TokenError(`the timestamping chain: ${problem.reason}`);
  const invalid = chain.find((c) => time < c.notBefore || time > c.notAfter);
  if (invalid) throw new TokenError(`timestamping certificate "${invalid.subject}" was not valid at the timestamp's time`);
  const revocable = chain.slice(0, -1).find((c) => c.revocable);
  // notation-go checks the TSA chain's revocation and fails the timestamp when it is unknown.
  if (revocable) throw new TokenError(`timestamping certificate "${revocable.subject}" names CRL or OCSP servers; its revocation status is unknown`);
  return { ok: true, time, accuracy };
}

/** The signing certificate named by issuer and serial number (or subject key identifier). */
function findSigner(sid: ASN1Obj, certs: readonly ChainCertificate[]): ChainCertificate {
  if (sid.tag.isContextSpecific(0)) throw new TokenError('the timestamp signer is named by key identifier, which trustgate does not resolve');
  const issuer = need(sid.subs[0], 'the signer issuer').value;
  const serial = need(sid.subs[1], 'the signer serial').value;
  const found = certs.find((c) => c.rawIssuer.equals(issuer) && c.serial.equals(serial));
  return need(found, 'the certificate of its signer');
}

/**
 * Signer first, then its issuers among the token's certificates, up to a certificate of a tsa
 * store (Go's x509.Verify with the stores as roots, the token's certificates as intermediates);
 * the store certificate ends the chain.
 */
function buildChain(signer: ChainCertificate, certs: readonly ChainCertificate[], roots: readonly Buffer[]): ChainCertificate[] {
  const trusted: ChainCertificate[] = [];
  for (const [i, der] of roots.entries()) {
    const r = readCertificate(der, i);
    if (!('code' in r)) trusted.push(r);
  }
  const chain = [signer];
  for (;;) {
    const last = chain[chain.length - 1]!;
    if (trusted.some((t) => t.der.equals(last.der))) return chain;
    if (chain.length >= MAX_CHAIN_LENGTH) break;
    const parent = trusted.find((t) => t.rawSubject.equals(last.rawIssuer)) ?? certs.find((c) => c !== last && c.rawSubject.equals(last.rawIssuer) && !chain.includes(c));
    if (!parent) break;
    chain.push(parent);
  }
  throw new TokenError('the timestamping certificate does not chain to a certificate of the tsa trust stores');
}

function generalizedTime(o: ASN1Obj): number {
  const m = GENERALIZED_TIME.exec(o.value.toString('latin1'));
  if (!o.tag.isGeneralizedTime() || !m) throw new TokenError('the timestamp genTime is not a GeneralizedTime');
  const [, y, mo, d, h, mi, s, frac] = m;
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) + Math.floor(Number(frac ?? 0) * 1000);
}

/** A DER INTEGER's contents, two's complement; refused when empty or beyond a safe integer. */
function signedInteger(value: Buffer): number {
  if (value.length === 0 || value.length > 6) throw new TokenError('the timestamp accuracy has an integer out of range');
  let n = value[0]! & 0x80 ? -1n : 0n;
  for (const b of value) n = (n << 8n) | BigInt(b);
  return Number(BigInt.asIntN(value.length * 8, n));
}

/**
 * Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0] INTEGER (1..999) OPTIONAL,
 * micros [1] INTEGER (1..999) OPTIONAL } (RFC 3161 2.4.2), in ms. A token whose accuracy is
 * negative, or whose millis or micros are outside 1..999, is refused: a negative accuracy turns
 * the window genTime ± accuracy inside out, and the check that it lies within every certificate's
 * validity then admits a time up to |accuracy| AFTER the signing certificate expired.
 * tspclient-go (token.go TSTInfo.Validate, timestamp.go BoundedBefore/BoundedAfter) takes the
 * values as written and has that weakness; this is stricter, as ADR 0011 records.
 */
function readAccuracy(o: ASN1Obj | undefined): number {
  // tspclient-go takes a missing accuracy as one second, so the bounds stay conservative.
  if (!o || !o.tag.isUniversal() || o.tag.number !== 0x10) return 1000;
  let ms = 0;
  for (const f of o.subs) {
    const n = signedInteger(f.value);
    if (f.tag.isContextSpecific(0) || f.tag.isContextSpecific(1)) {
      if (n < 1 || n > 999) throw new TokenError(`the timestamp accuracy's ${f.tag.isContextSpecific(0) ? 'millis' : 'micros'} ${n} is outside 1-999 (RFC 3161)`);
      ms += f.tag.isContextSpecific(0) ? n : n / 1000;
    } else if (f.tag.isUniversal() && f.tag.number === 0x02) {
      if (n < 0) throw new TokenError(`the timestamp accuracy's seconds ${n} is negative`);
      ms += n * 1000;
    } else throw new TokenError('the timestamp accuracy is not well-formed');
  }
  return Math.min(ms, 86400_000);
}
