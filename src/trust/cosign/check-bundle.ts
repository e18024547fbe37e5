// One cosign v3 signature: a Sigstore bundle (v0.3) holding a DSSE envelope of an in-toto
// statement, attached to the image as an OCI referrer (cosign pkg/oci/remote/write.go
// WriteAttestationNewBundleFormat; read back by pkg/oci/remote/signatures.go Bundle, which
// refuses bundles older than v0.3). sigstore-js checks the bundle; this checks that its
// statement is `cosign sign`'s for this image (pkg/cosign/verifiers.go IntotoSubjectClaimVerifier).
import { dsse } from '@sigstore/core';
import { BUNDLE_V03_LEGACY_MEDIA_TYPE, BUNDLE_V03_MEDIA_TYPE, bundleFromJSON, isBundleWithDsseEnvelope, type Bundle } from '@sigstore/bundle';
import { toSignedEntity } from '@sigstore/verify';
import { TrustErrorCode } from '../errors.js';
import { checkStatementClaim } from './claims.js';
import { identityMatches, identityOf } from './identity.js';
import { readJson } from './json.js';
import { verifyWithKey } from './keys.js';
import { verifyKeyed, verifyKeyless, type EntityParts } from './sigstore.js';
import type { FoundSignature, SignatureCheck } from './signature.js';
import type { CosignSpec } from './spec.js';

type BundleSignature = Extract<FoundSignature, { format: 'bundle'; bundle: Buffer }>;

const fail = (code: TrustErrorCode, reason: string): SignatureCheck => ({ ok: false, code, reason });

export function checkBundle(sig: BundleSignature, spec: CosignSpec, digest: string): SignatureCheck {
  const json = readJson(sig.bundle);
  if (json === undefined) return fail(TrustErrorCode.SIGNATURE_INVALID, 'the bundle is not JSON (or nested too deep)');
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(json);
  } catch (e) {
    return fail(TrustErrorCode.SIGNATURE_INVALID, `not a Sigstore bundle: ${e instanceof Error ? e.message.slice(0, 120) : 'unreadable'}`);
  }
  if (bundle.mediaType !== BUNDLE_V03_MEDIA_TYPE && bundle.mediaType !== BUNDLE_V03_LEGACY_MEDIA_TYPE) {
    return fail(TrustErrorCode.SIGNATURE_INVALID, `bundle media type ${JSON.stringify(bundle.mediaType.slice(0, 80))} is older than v0.3, which cosign reads`);
  }
  if (!isBundleWithDsseEnvelope(bundle)) return fail(TrustErrorCode.SIGNATURE_INVALID, 'a message-signature bundle: cosign signs images with a DSSE statement');
  const envelope = bundle.content.dsseEnvelope;
  const signature = envelope.signatures[0]?.sig;
  if (envelope.signatures.length !== 1 || !signature) return fail(TrustErrorCode.SIGNATURE_INVALID, 'the envelope must carry exactly one signature');
  let parts: EntityParts;
  try {
    const entity = toSignedEntity(bundle);
    const material = bundle.verificationMaterial.content;
    const certificate = material.$case === 'x509CertificateChain' ? material.x509CertificateChain.certificates[0]?.rawBytes : material.$case === 'certificate' ? material.certificate.rawBytes : undefined;
    parts = {
      content: entity.signature,
      signed: dsse.preAuthEncoding(envelope.payloadType, envelope.payload),
      signature,
      certificate: certificate && Buffer.from(certificate),
      tlogEntries: entity.tlogEntries,
      otherTimestamps: entity.timestamps.filter((t) => t.$case === 'timestamp-authority'),
    };
  } catch (e) {
    return fail(TrustErrorCode.SIGNATURE_INVALID, `unreadable bundle: ${e instanceof Error ? e.message.slice(0, 120) : 'unknown error'}`);
  }
  const entry = spec.tlogRequired ? parts.tlogEntries[0] : undefined;
  const tlog = entry && { logIndex: Number(entry.logIndex), integratedTime: Number(entry.integratedTime) };

  let checked: SignatureCheck;
  if (spec.keyless) {
    const outcome = verifyKeyless(parts, spec.trustedRoot);
    if (!outcome.ok) return outcome;
    const identity = identityOf(outcome.signer);
    if (!identity || !identityMatches(spec.keyless.identities, identity)) {
      return fail(TrustErrorCode.IDENTITY_MISMATCH, identity ? `signed by ${JSON.stringify(identity.subject.slice(0, 120))} (issuer ${JSON.stringify(identity.issuer.slice(0, 120))}), not an identity the policy names` : 'the certificate names no identity and issuer');
    }
    checked = { ok: true, evidence: { format: 'bundle', manifestDigest: '', identity, ...(tlog && { tlog }) } };
  } else {
    if (parts.certificate) return fail(TrustErrorCode.SIGNATURE_INVALID, 'signed with a certificate: the policy trusts keys');
    const key = spec.keys.find((k) => verifyWithKey(k, parts.signed, parts.signature));
    if (!key) return fail(TrustErrorCode.SIGNATURE_INVALID, `not a signature of the statement by the policy's ${spec.keys.length === 1 ? 'key' : `${spec.keys.length} keys`}`);
    // Without the log, the signature by a policy key is the whole check (cosign --insecure-ignore-tlog).
    if (spec.tlogRequired) {
      const outcome = verifyKeyed(parts, key, spec.trustedRoot, true);
      if (!outcome.ok) return outcome;
    }
    checked = { ok: true, evidence: { format: 'bundle', manifestDigest: '', keyId: key.id, ...(tlog && { tlog }) } };
  }
  const claim = checkStatementClaim(envelope.payloadType, envelope.payload, digest);
  return claim === undefined ? checked : fail(TrustErrorCode.PAYLOAD_MISMATCH, claim);
}
