// One Notation signature checked against one trust policy statement, in the order of the
// Notary Project's trust-store-trust-policy.md "Signature Verification" steps as notation-go
// runs them (verifier/verifier.go processSignature, then Verify's payload check): integrity
// (always enforced), authenticity and trusted identity, expiry, authentic timestamp,
// revocation, and the payload's target. Each check's failure is refused, logged or ignored as
// the statement's level (with `override`) says. Pure: bytes, statement, trust stores, time in.
import { createHash, constants, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { printable } from '../../reference/index.js';
import { TrustErrorCode } from '../errors.js';
import type { NotationSignatureEvidence } from '../kind.js';
import { algorithmOf, checkChain, readCertificate, type ChainCertificate, type KeyBudget } from './certificates.js';
import { readCose } from './cose.js';
import { NotationMediaType, SigningScheme, type Algorithm, type Envelope } from './envelope.js';
import { identityMatches } from './identity.js';
import { verifyTimestamp } from './timestamp.js';
import { asObject, readJson } from './json.js';
import { readJws } from './jws.js';
import { trustStoreKey, type NotationSpec, type TrustPolicyStatement, type TrustStoreType, type Validation, type ValidationAction } from './types.js';

/** The image a signature must name (notation-go compares with oras content.Equal). */
export interface TargetDescriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

export type SignatureCheck =
  | {
      readonly ok: true;
      readonly evidence: Omit<NotationSignatureEvidence, 'manifestDigest'>;
      /** Failures the level only logs (`validation: reason`). */
      readonly logged: readonly string[];
      /** Authenticity (trust store or identity) failed and was only logged: admitted, not trusted. */
      readonly untrusted: boolean;
      /** When this answer stops being good: enforced expiry and certificate validity. */
      readonly expires: number;
    }
  | { readonly ok: false; readonly code: TrustErrorCode; readonly reason: string };

export interface CheckInput {
  readonly envelope: Buffer;
  readonly mediaType: string;
  readonly statement: TrustPolicyStatement;
  readonly spec: NotationSpec;
  readonly target: TargetDescriptor;
  readonly now: number;
  readonly budget: KeyBudget;
  /** The envelope already read from `envelope` (the verifier reads it to parse its chain with turns for the event loop). */
  readonly read?: ReturnType<typeof readEnvelope>;
}

type Fail = { readonly ok: false; readonly code: TrustErrorCode; readonly reason: string };
const fail = (code: TrustErrorCode, reason: string): Fail => ({ ok: false, code, reason });

/**
 * One signature checked against one statement. Reasons and logged lines quote what the registry
 * served (payload digests and media types, header names, certificate subjects); they reach
 * denials, logs and `trustgate verify`'s output, so control characters are escaped here, once.
 */
export function checkSignature(input: CheckInput): SignatureCheck {
  const r = checkSignatureRaw(input);
  if (!r.ok) return { ...r, reason: printable(r.reason, REASON_CHARS) };
  return r.logged.length === 0 ? r : { ...r, logged: r.logged.map((l) => printable(l, REASON_CHARS)) };
}
/** A reason's length once escaped; the refusal naming every signature cuts it shorter still. */
const REASON_CHARS = 1000;

function checkSignatureRaw(input: CheckInput): SignatureCheck {
  const integrity = checkIntegrity(input);
  if (!integrity.ok) return integrity;
  const { envelope, chain } = integrity;
  const actions = input.statement.signatureVerification.actions;
  const logged: string[] = [];
  let untrusted = false;
  /** A failed validation, as its action says: a refusal, or a line logged. */
  const act = (v: Validation, code: TrustErrorCode, reason: string): Fail | undefined => {
    const action: ValidationAction = actions[v];
    if (action === 'enforce') return fail(code, reason);
    if (action === 'log') logged.push(`${v}: ${reason}`);
    if (v === 'authenticity') untrusted = true;
    return undefined;
  };

  const authentic = checkAuthenticity(input, envelope, chain);
  if (authentic) {
    const refused = act('authenticity', TrustErrorCode.CERTIFICATE_INVALID, authentic);
    if (refused) return refused;
  }
  const identity = identityMatches(input.statement.trustedIdentities, chain[0]!);
  if (!identity.ok) {
    const refused = act('authenticity', TrustErrorCode.IDENTITY_MISMATCH, identity.reason);
    if (refused) return refused;
  }
  if (envelope.expiry !== undefined && input.now >= envelope.expiry) {
    const refused = act('expiry', TrustErrorCode.SIGNATURE_EXPIRED, `the signature expired at ${new Date(envelope.expiry).toISOString()}`);
    if (refused) return refused;
  }
  const timestamp = checkAuthenticTimestamp(input, envelope, chain);
  if (timestamp.problem) {
    const refused = act('authenticTimestamp', TrustErrorCode.TIMESTAMP_INVALID, timestamp.problem);
    if (refused) return refused;
  }
  // notation-go verifies revocation only when its action is not skip.
  if (actions.revocation !== 'skip') {
    const revocable = chain.slice(0, -1).find((c) => c.revocable);
    if (revocable) {
      const refused = act('revocation', TrustErrorCode.REVOCATION_UNAVAILABLE, `"${revocable.subject}" names CRL or OCSP servers; trustgate does not query them, so its revocation status is unknown`);
      if (refused) return refused;
    }
  }
  const payload = checkPayload(envelope.payload, input.target);
  if (payload) return payload;

  let expires = Number.POSITIVE_INFINITY;
  if (envelope.expiry !== undefined && actions.expiry === 'enforce') expires = envelope.expiry;
  if (timestamp.checkedNow && actions.authenticTimestamp === 'enforce') for (const c of chain) expires = Math.min(expires, c.notAfter);
  return {
    ok: true,
    logged,
    untrusted,
    expires,
    evidence: {
      envelope: envelope.format,
      signingScheme: envelope.signingScheme,
      signer: chain[0]!.subject,
      certificate: createHash('sha256').update(chain[0]!.der).digest('hex'),
      signedAt: timestamp.timestamp ?? envelope.signingTime,
      expiry: envelope.expiry,
    },
  };
}

/** Reads an envelope of either media type (notation-go: the signature blob's descriptor names it). */
export function readEnvelope(bytes: Buffer, mediaType: string): { ok: true; envelope: Envelope } | Fail {
  if (mediaType === NotationMediaType.JWS) return readJws(bytes);
  if (mediaType === NotationMediaType.COSE) return readCose(bytes);
  return fail(TrustErrorCode.UNSUPPORTED_SIGNATURE, `envelope media type ${JSON.stringify(mediaType.slice(0, 80))} is neither ${NotationMediaType.JWS} nor ${NotationMediaType.COSE}`);
}

/**
 * Integrity (notation-go verifyIntegrity; notation-core-go Envelope.Verify and
 * validateEnvelopeContent): the envelope reads, the leaf's key verifies the signature with the
 * algorithm the key implies (the envelope's `alg` must be that one), the chain is well formed,
 * every critical attribute is one Notation defines, the payload is Notation's.
 */
function checkIntegrity(input: CheckInput): { ok: true; envelope: Envelope; chain: ChainCertificate[] } | Fail {
  const read = input.read ?? readEnvelope(input.envelope, input.mediaType);
  if (!read.ok) return read;
  const envelope = read.envelope;
  const chain: ChainCertificate[] = [];
  for (const [i, der] of envelope.certificates.entries()) {
    const cert = readCertificate(der, i, input.budget);
    if ('code' in cert) return fail(cert.code, cert.reason);
    chain.push(cert);
  }
  const leaf = chain[0]!;
  const keyAlg = algorithmOf(leaf.key);
  if ('problem' in keyAlg) return fail(TrustErrorCode.UNSUPPORTED_SIGNATURE, `the signing certificate "${leaf.subject}": ${keyAlg.problem}`);
  const alg = keyAlg.alg;
  if (envelope.alg !== alg) return fail(TrustErrorCode.SIGNATURE_INVALID, `the envelope claims ${envelope.alg}, but the signing certificate's key is for ${alg}`);
  if (input.budget.remaining-- <= 0) return fail(TrustErrorCode.TOO_LARGE, 'the public-key operations allowed for this image are spent');
  if (!verifySignature(alg, leaf.key, envelope)) return fail(TrustErrorCode.SIGNATURE_INVALID, `the ${envelope.format.toUpperCase()} signature does not verify with the signing certificate's key`);
  // Not in notation-go without a plugin: the spec says an unknown critical attribute fails.
  if (envelope.unknownCritical.length > 0) return fail(TrustErrorCode.UNSUPPORTED_SIGNATURE, `critical attributes Notation does not define: ${envelope.unknownCritical.join(', ').slice(0, 200)}`);
  const structure = checkChain(chain, input.budget);
  if (structure) return fail(structure.code, structure.reason);
  if (envelope.contentType !== NotationMediaType.PAYLOAD) return fail(TrustErrorCode.SIGNATURE_INVALID, `payload content type ${JSON.stringify(envelope.contentType.slice(0, 80))} is not ${NotationMediaType.PAYLOAD}`);
  if (envelope.payload.length === 0) return fail(TrustErrorCode.SIGNATURE_INVALID, 'the payload is empty');
  return { ok: true, envelope, chain };
}

const HASH_BYTES = { 256: 32, 384: 48, 512: 64 } as const;
const EC_SIGNATURE_BYTES = { ES256: 64, ES384: 96, ES512: 132 } as const;

/**
 * The signature over the envelope's signed bytes. ECDSA signatures are r||s (IEEE P1363) in both
 * envelopes (RFC 7518 3.4, RFC 9053 2.1). RSASSA-PSS: COSE's verifier (go-cose) wants a salt as
 * long as the hash; JWS's (golang-jwt PS*, VerifyOptions) takes any salt length.
 */
function verifySignature(alg: Algorithm, key: KeyObject, e: Envelope): boolean {
  const bits = Number(alg.slice(2)) as 256 | 384 | 512;
  const hash = `sha${bits}`;
  try {
    if (alg.startsWith('ES')) {
      if (e.signature.length !== EC_SIGNATURE_BYTES[alg as keyof typeof EC_SIGNATURE_BYTES]) return false;
      return cryptoVerify(hash, e.signed, { key, dsaEncoding: 'ieee-p1363' }, e.signature);
    }
    const saltLength = e.format === 'jws' ? constants.RSA_PSS_SALTLEN_AUTO : HASH_BYTES[bits];
    return cryptoVerify(hash, e.signed, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, e.signature);
  } catch {
    return false;
  }
}

/**
 * Authenticity (notation-go verifyAuthenticity; notation-core-go signature.VerifyAuthenticity):
 * a certificate of the chain is byte-equal to one of the statement's trust stores of the type the
 * signing scheme names: `ca` for notary.x509, `signingAuthority` for notary.x509.signingAuthority.
 */
function checkAuthenticity(input: CheckInput, envelope: Envelope, chain: readonly ChainCertificate[]): string | undefined {
  const type: TrustStoreType = envelope.signingScheme === SigningScheme.X509 ? 'ca' : 'signingAuthority';
  const trusted = trustedCertificates(input, type);
  if (trusted.length === 0) return `the trust policy "${input.statement.name}" names no ${type} trust store with certificates, which a ${envelope.signingScheme} signature needs`;
  if (chain.some((c) => trusted.some((t) => t.equals(c.der)))) return undefined;
  return `no certificate of the chain (leaf "${chain[0]!.subject}") is in the ${type} trust stores of "${input.statement.name}"`;
}

function trustedCertificates(input: CheckInput, type: TrustStoreType): Buffer[] {
  const out: Buffer[] = [];
  for (const ref of input.statement.trustStores) {
    if (ref.type !== type) continue;
    for (const c of input.spec.trustStores.get(trustStoreKey(ref))?.certificates ?? []) out.push(c.raw);
  }
  return out;
}

/**
 * Authentic timestamp (notation-go verifyAuthenticTimestamp, verifyTimestamp). signingAuthority:
 * the authentic signing time within every certificate's validity. notary.x509: without a `tsa`
 * store in the statement (or with verifyTimestamp afterCertExpiry and no certificate expired),
 * every certificate valid now; else the RFC 3161 countersignature must verify and chain to a
 * tsa store (timestamp.ts), and its time, give or take its accuracy, lie within every
 * certificate's validity.
 */
function checkAuthenticTimestamp(input: CheckInput, e: Envelope, chain: readonly ChainCertificate[]): { problem?: string; checkedNow: boolean; timestamp?: number } {
  const within = (t: number, what: string): string | undefined => {
    const c = chain.find((x) => t < x.notBefore || t > x.notAfter);
    return c ? `certificate "${c.subject}" was not valid ${what} (${new Date(c.notBefore).toISOString()} to ${new Date(c.notAfter).toISOString()})` : undefined;
  };
  if (e.signingScheme === SigningScheme.SIGNING_AUTHORITY) return { problem: within(e.signingTime, `at the authentic signing time ${new Date(e.signingTime).toISOString()}`), checkedNow: false };
  const tsa = input.statement.trustStores.some((r) => r.type === 'tsa');
  const anyExpired = chain.some((c) => input.now > c.notAfter);
  if (!tsa || (input.statement.signatureVerification.verifyTimestamp === 'afterCertExpiry' && !anyExpired)) {
    return { problem: within(input.now, 'now, and no trusted timestamp proves when it signed'), checkedNow: true };
  }
  if (!e.timestampToken) return { problem: 'no timestamp countersignature was found in the signature envelope', checkedNow: false };
  const roots = trustedCertificates(input, 'tsa');
  if (roots.length === 0) return { problem: 'no trusted TSA certificate found in the tsa trust stores', checkedNow: false };
  const ts = verifyTimestamp(e.timestampToken, e.signature, roots, input.budget);
  if (!ts.ok) return { problem: ts.reason, checkedNow: false };
  // tspclient-go Timestamp.BoundedAfter/BoundedBefore: the whole interval within validity.
  const c = chain.find((x) => ts.time - ts.accuracy < x.notBefore || ts.time + ts.accuracy > x.notAfter);
  if (c) return { problem: `the timestamp ${new Date(ts.time).toISOString()} (±${ts.accuracy} ms) is not within the validity of certificate "${c.subject}"`, checkedNow: false };
  return { checkedNow: false, timestamp: ts.time };
}

/** notation-go Verify: the payload's targetArtifact must be the image (media type, digest, size). */
function checkPayload(payload: Buffer, target: TargetDescriptor): Fail | undefined {
  const doc = asObject(readJson(payload));
  const t = asObject(doc?.targetArtifact);
  if (!t) return fail(TrustErrorCode.SIGNATURE_INVALID, 'the payload has no targetArtifact descriptor');
  if (t.mediaType === target.mediaType && t.digest === target.digest && t.size === target.size) return undefined;
  const named = `${String(t.mediaType).slice(0, 80)} ${String(t.digest).slice(0, 80)} (${String(t.size).slice(0, 20)} bytes)`;
  return fail(TrustErrorCode.PAYLOAD_MISMATCH, `content descriptor mismatch: the signature names ${named}, the image is ${target.mediaType} ${target.digest} (${target.size} bytes)`);
}
