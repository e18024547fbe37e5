// The part of verification sigstore-js does: certificate chain to a Fulcio CA of the trusted
// root at the signing time, SCTs, the Rekor entry (SET or inclusion proof) and its body against
// the signature, and the signature itself. Both of cosign's formats are turned into one
// sigstore-js SignedEntity (as its toSignedEntity does for bundles), with the signature check
// replaced by one that knows which digest cosign signs with for each key type.
import { createHash, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { TransparencyLogEntry } from '@sigstore/bundle';
import type { SignedEntity, Signer, TrustMaterial } from '@sigstore/verify';
import { TrustErrorCode } from '../errors.js';
import { hashesFor, verifyWithKeyObject, type CosignKey } from './keys.js';
import { sigstoreCore, sigstoreVerify } from './sigstore-lib.js';
import type { CosignTrustedRoot } from './trusted-root.js';

type Content = SignedEntity['signature'];

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * A simple-signing payload's signature as sigstore-js content: what a hashedrekord log entry
 * records is the payload's SHA-256 and the signature (cosign pkg/cosign/verify.go VerifyBundle).
 */
export function messageContent(payload: Buffer, signature: Buffer): Content {
  const payloadDigest = createHash('sha256').update(payload).digest();
  return {
    signature,
    compareSignature: (other) => equal(other, signature),
    compareDigest: (digest) => equal(digest, payloadDigest),
    compareSignedDigest: (digest) => equal(digest, payloadDigest),
    verifySignature: () => false, // replaced in toEntity
  };
}

export interface EntityParts {
  /** What the log entry is compared with (sigstore-js's DSSE content, or messageContent). */
  readonly content: Content;
  /** The bytes signed (the payload, or the DSSE PAE) and the signature over them. */
  readonly signed: Buffer;
  readonly signature: Buffer;
  /** Keyless: the leaf certificate, DER. */
  readonly certificate: Buffer | undefined;
  readonly tlogEntries: readonly TransparencyLogEntry[];
  /** Other timestamps of the entity (a bundle's RFC 3161 ones), in sigstore-js form. */
  readonly otherTimestamps?: SignedEntity['timestamps'];
}

function toEntity(parts: EntityParts, hashes: readonly (string | null)[] | undefined, tlog: boolean): SignedEntity {
  const timestamps: SignedEntity['timestamps'] = tlog ? [...(parts.otherTimestamps ?? [])] : [];
  const tlogEntries = tlog ? [...parts.tlogEntries] : [];
  for (const entry of tlogEntries) {
    if (entry.integratedTime && entry.integratedTime !== '0') timestamps.push({ $case: 'transparency-log', tlogEntry: entry });
  }
  const content: Content = Object.create(parts.content) as Content;
  content.verifySignature = (key: KeyObject) => verifyWithKeyObject(key, hashes ?? hashesFor(key), parts.signed, parts.signature);
  return {
    signature: content,
    key: parts.certificate ? { $case: 'certificate', certificate: sigstoreCore().X509Certificate.parse(Buffer.from(parts.certificate)) } : { $case: 'public-key', hint: 'policy' },
    tlogEntries,
    timestamps,
  };
}

export type SigstoreOutcome = { readonly ok: true; readonly signer: Signer } | { readonly ok: false; readonly code: TrustErrorCode; readonly reason: string };

/** Keyless: the certificate must chain to the root's Fulcio at the log's time, with an SCT. */
export function verifyKeyless(parts: EntityParts, root: CosignTrustedRoot): SigstoreOutcome {
  if (!parts.certificate) return { ok: false, code: TrustErrorCode.CERTIFICATE_INVALID, reason: 'signed with a key, not a certificate: the policy trusts identities' };
  const verifier = new (sigstoreVerify().Verifier)(root.material, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 });
  return run(() => verifier.verify(toEntity(parts, undefined, true)), 'certificate');
}

/**
 * Keyed: the signature by `key`; with `tlog`, also a Rekor entry of the root's logs (its SET or
 * inclusion proof) that records this signature. Without, no timestamp or log entry is looked at
 * (cosign verify --insecure-ignore-tlog).
 */
export function verifyKeyed(parts: EntityParts, key: CosignKey, root: CosignTrustedRoot, tlog: boolean): SigstoreOutcome {
  if (parts.certificate) return { ok: false, code: TrustErrorCode.SIGNATURE_INVALID, reason: 'signed with a certificate: the policy trusts keys' };
  const material: TrustMaterial = { ...root.material, publicKey: () => ({ publicKey: key.key, validFor: () => true }) };
  const verifier = new (sigstoreVerify().Verifier)(material, { tlogThreshold: tlog ? 1 : 0, ctlogThreshold: 0, timestampThreshold: tlog ? 1 : 0 });
  return run(() => verifier.verify(toEntity(parts, key.hashes, tlog)), 'key');
}

function run(verify: () => Signer, signerKind: 'certificate' | 'key'): SigstoreOutcome {
  try {
    return { ok: true, signer: verify() };
  } catch (e) {
    const { VerificationError, PolicyError } = sigstoreVerify();
    if (e instanceof VerificationError || e instanceof PolicyError) return { ok: false, code: codeOf(e.code, signerKind), reason: e.message.slice(0, 200) };
    return { ok: false, code: TrustErrorCode.SIGNATURE_INVALID, reason: `unreadable: ${e instanceof Error ? e.message.slice(0, 160) : 'unknown error'}` };
  }
}

/** sigstore-js error codes (packages/verify/src/error.ts) as denial codes. */
function codeOf(code: string, signerKind: 'certificate' | 'key'): TrustErrorCode {
  if (code.startsWith('TLOG') || code === 'TIMESTAMP_ERROR') return TrustErrorCode.TLOG_INVALID;
  if (code === 'CERTIFICATE_ERROR' || (code === 'PUBLIC_KEY_ERROR' && signerKind === 'certificate')) return TrustErrorCode.CERTIFICATE_INVALID;
  if (code === 'UNTRUSTED_SIGNER_ERROR') return TrustErrorCode.IDENTITY_MISMATCH;
  return TrustErrorCode.SIGNATURE_INVALID;
}
