// One cosign v3 signature: a Sigstore bundle (v0.3) holding a DSSE envelope of an in-toto
// statement, attached to the image as an OCI referrer (cosign pkg/oci/remote/write.go
// WriteAttestationNewBundleFormat; read back by pkg/oci/remote/signatures.go Bundle, which
// refuses bundles older than v0.3). sigstore-js checks the bundle; this checks that its
// statement is `cosign sign`'s for this image (pkg/cosign/verifiers.go IntotoSubjectClaimVerifier).
import type { Bundle, TransparencyLogEntry } from '@sigstore/bundle';
import { decodeBase64 } from '../encoding.js';
import { TrustErrorCode } from '../errors.js';
import { checkStatementClaim } from './claims.js';
import { claimedIdentity, identityMatches, identityOf, identityRefusal } from './identity.js';
import { asObject, readJson } from './json.js';
import { budgetSpent, chargeKeyless } from './check-legacy.js';
import { findSigningKey, verifierDer, type KeyBudget } from './keys.js';
import { verifyKeyed, verifyKeyless, type EntityParts } from './sigstore.js';
import { sigstoreBundle, sigstoreVerify } from './sigstore-lib.js';
import type { FoundSignature, SignatureCheck } from './signature.js';
import type { CosignSpec } from './spec.js';

type BundleSignature = Extract<FoundSignature, { format: 'bundle'; bundle: Buffer }>;

const fail = (code: TrustErrorCode, reason: string): SignatureCheck => ({ ok: false, code, reason });

/** Media types of a v0.3 bundle (@sigstore/bundle BUNDLE_V03_MEDIA_TYPE, BUNDLE_V03_LEGACY_MEDIA_TYPE). */
const V03 = ['application/vnd.dev.sigstore.bundle.v0.3+json', 'application/vnd.dev.sigstore.bundle+json;version=0.3'];

/** DSSE's pre-authentication encoding: what the envelope's signature signs. */
function pae(payloadType: string, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(payloadType)} ${payloadType} ${payload.length} `), payload]);
}

interface Envelope {
  readonly payloadType: string;
  readonly payload: Buffer;
  readonly signature: Buffer;
  readonly hasCertificate: boolean;
}

/** The parts of a v0.3 DSSE bundle every check needs, or why it is not one. */
function readEnvelope(json: unknown): Envelope | string {
  const b = asObject(json);
  if (typeof b?.mediaType !== 'string' || !V03.includes(b.mediaType)) {
    return `bundle media type ${JSON.stringify(String(b?.mediaType).slice(0, 80))} is not v0.3, which cosign reads`;
  }
  const env = asObject(b.dsseEnvelope);
  if (!env || b.messageSignature !== undefined) return 'a message-signature bundle: cosign signs images with a DSSE statement';
  const signatures = Array.isArray(env.signatures) ? env.signatures : [];
  const sig = asObject(signatures[0])?.sig;
  const signature = signatures.length === 1 && typeof sig === 'string' ? decodeBase64(sig) : undefined;
  const payload = typeof env.payload === 'string' ? decodeBase64(env.payload) : undefined;
  if (!signature || signature.length === 0) return 'the envelope must carry exactly one base64 signature';
  if (!payload || typeof env.payloadType !== 'string') return 'the envelope has no base64 payload and payload type';
  const material = asObject(b.verificationMaterial);
  return { payloadType: env.payloadType, payload, signature, hasCertificate: material?.x509CertificateChain !== undefined || material?.certificate !== undefined };
}

export function checkBundle(sig: BundleSignature, spec: CosignSpec, digest: string, budget: KeyBudget): SignatureCheck {
  const json = readJson(sig.bundle);
  if (json === undefined) return fail(TrustErrorCode.SIGNATURE_INVALID, 'the bundle is not JSON (or nested too deep)');
  const envelope = readEnvelope(json);
  if (typeof envelope === 'string') return fail(TrustErrorCode.SIGNATURE_INVALID, envelope);
  // Read now; refused before any keyless crypto (checkWithSigstore), after the keyed check.
  const claim = checkStatementClaim(envelope.payloadType, envelope.payload, digest);
  const signed = pae(envelope.payloadType, envelope.payload);

  let checked: SignatureCheck;
  if (!spec.keyless && !spec.tlogRequired) {
    // Without the log, the signature by a policy key is the whole check (cosign
    // --insecure-ignore-tlog): no sigstore-js needed.
    if (envelope.hasCertificate) return fail(TrustErrorCode.SIGNATURE_INVALID, 'signed with a certificate: the policy trusts keys');
    const key = findSigningKey(spec.keys, signed, envelope.signature, budget);
    if (key === 'exhausted') return budgetSpent();
    if (!key) return fail(TrustErrorCode.SIGNATURE_INVALID, `not a signature of the statement by the policy's ${spec.keys.length === 1 ? 'key' : `${spec.keys.length} keys`}`);
    checked = { ok: true, evidence: { format: 'bundle', manifestDigest: '', keyId: key.id } };
  } else {
    checked = checkWithSigstore(json, signed, envelope.signature, spec, budget, claim);
  }
  if (!checked.ok) return checked;
  return claim === undefined ? checked : fail(TrustErrorCode.PAYLOAD_MISMATCH, claim);
}

/** Certificates and log entries: sigstore-js checks them (bundleFromJSON validates the rest). */
function checkWithSigstore(json: unknown, signed: Buffer, signature: Buffer, spec: CosignSpec, budget: KeyBudget, claim: string | undefined): SignatureCheck {
  let parts: EntityParts;
  try {
    const bundle: Bundle = sigstoreBundle().bundleFromJSON(json);
    const entity = sigstoreVerify().toSignedEntity(bundle);
    const material = bundle.verificationMaterial.content;
    const certificate = material.$case === 'x509CertificateChain' ? material.x509CertificateChain.certificates[0]?.rawBytes : material.$case === 'certificate' ? material.certificate.rawBytes : undefined;
    parts = {
      content: entity.signature,
      signed,
      signature,
      certificate: certificate && Buffer.from(certificate),
      tlogEntries: entity.tlogEntries,
      otherTimestamps: entity.timestamps.filter((t) => t.$case === 'timestamp-authority'),
    };
  } catch (e) {
    return fail(TrustErrorCode.SIGNATURE_INVALID, `not a valid Sigstore bundle: ${e instanceof Error ? e.message.slice(0, 120) : 'unreadable'}`);
  }
  const entry = parts.tlogEntries[0];
  const tlog = entry && { logIndex: Number(entry.logIndex), integratedTime: Number(entry.integratedTime) };

  if (spec.keyless) {
    const claimed = parts.certificate && claimedIdentity(parts.certificate);
    const claimedMatch = claimed && identityMatches(spec.keyless.identities, claimed, budget);
    if (claimedMatch === 'exhausted') return budgetSpent('patterns');
    if (claimed && !claimedMatch) return fail(TrustErrorCode.IDENTITY_MISMATCH, identityRefusal(claimed, false));
    if (!parts.certificate) return fail(TrustErrorCode.CERTIFICATE_INVALID, 'signed with a key, not a certificate: the policy trusts identities');
    const recorded = recordsVerifier(entry, parts.certificate, 'certificate');
    if (recorded) return recorded;
    // What the statement names, still before any crypto: the signer's genuine signatures of
    // OTHER images (public, in every signed image's referrers) must not each cost a full check.
    if (claim !== undefined) return fail(TrustErrorCode.PAYLOAD_MISMATCH, claim);
    if (!chargeKeyless(budget)) return budgetSpent();
    const outcome = verifyKeyless(parts, spec.trustedRoot);
    if (!outcome.ok) return outcome;
    const identity = identityOf(outcome.signer);
    const match = identity && identityMatches(spec.keyless.identities, identity, budget);
    if (match === 'exhausted') return budgetSpent('patterns');
    if (!identity || !match) return fail(TrustErrorCode.IDENTITY_MISMATCH, identityRefusal(identity, true));
    return { ok: true, evidence: { format: 'bundle', manifestDigest: '', identity, ...(tlog && { tlog }) } };
  }
  if (parts.certificate) return fail(TrustErrorCode.SIGNATURE_INVALID, 'signed with a certificate: the policy trusts keys');
  const key = findSigningKey(spec.keys, signed, signature, budget);
  if (key === 'exhausted') return budgetSpent();
  if (!key) return fail(TrustErrorCode.SIGNATURE_INVALID, `not a signature of the statement by the policy's ${spec.keys.length === 1 ? 'key' : `${spec.keys.length} keys`}`);
  const recorded = recordsVerifier(entry, key.spki, 'public key');
  if (recorded) return recorded;
  const outcome = verifyKeyed(parts, key, spec.trustedRoot, true);
  if (!outcome.ok) return outcome;
  return { ok: true, evidence: { format: 'bundle', manifestDigest: '', keyId: key.id, ...(tlog && { tlog }) } };
}

/**
 * The log entry must record the signer: the policy key's SPKI, or the bundle's certificate
 * (cosign pkg/cosign/verify.go comparePublicKey; check-legacy.ts does the same). sigstore-js
 * compares only the signature and payload hash with the body, and an ECDSA signature also
 * verifies under a second key (the one recovered from -R): logged under that twin, it escapes
 * the key owner's monitoring of the log by public key.
 * @returns undefined when it does (or there is no entry: sigstore-js then refuses), else why not.
 */
function recordsVerifier(entry: TransparencyLogEntry | undefined, expected: Buffer, what: 'public key' | 'certificate'): SignatureCheck | undefined {
  if (!entry) return undefined;
  const verifiers = entryVerifiers(asObject(readJson(Buffer.from(entry.canonicalizedBody))));
  if (verifiers.length > 0 && verifiers.every((v) => v !== undefined && v.equals(expected))) return undefined;
  return fail(TrustErrorCode.TLOG_INVALID, `the transparency-log entry records another ${what}`);
}

/**
 * The verifiers a Rekor entry body records, as DER (undefined for an unreadable one): dsse 0.0.1
 * `spec.signatures[].verifier`, intoto 0.0.2 `spec.content.envelope.signatures[].publicKey`,
 * hashedrekord 0.0.1 `spec.signature.publicKey.content`; each base64 of a PEM key or certificate.
 */
function entryVerifiers(body: Record<string, unknown> | undefined): (Buffer | undefined)[] {
  const spec = asObject(body?.spec);
  let encoded: unknown[] = [];
  if (body?.kind === 'dsse' && Array.isArray(spec?.signatures)) encoded = spec.signatures.slice(0, 8).map((s) => asObject(s)?.verifier);
  else if (body?.kind === 'intoto') {
    const sigs = asObject(asObject(spec?.content)?.envelope)?.signatures;
    if (Array.isArray(sigs)) encoded = sigs.slice(0, 8).map((s) => asObject(s)?.publicKey);
  } else if (body?.kind === 'hashedrekord') encoded = [asObject(asObject(spec?.signature)?.publicKey)?.content];
  return encoded.map((e) => (typeof e === 'string' ? verifierDer(decodeBase64(e)?.toString('utf8')) : undefined));
}

