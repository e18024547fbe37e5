// One legacy cosign signature: a layer of the `sha256-<hex>.sig` manifest whose blob is the
// simple-signing payload and whose annotations carry the signature, the certificate and chain
// (keyless) and the Rekor bundle (cosign pkg/oci/static/signature.go). Checked as cosign's
// verifyImageSignature does (pkg/cosign/verify.go): the signature over the payload bytes, the
// certificate against the trusted root at the log's time, the Rekor SET and that its entry
// records this signature, payload hash and key (VerifyBundle, compareSigs, comparePublicKey),
// then the payload's claim (pkg/cosign/verifiers.go SimpleClaimVerifier).
import { X509Certificate } from 'node:crypto';
import type { TransparencyLogEntry } from '@sigstore/bundle';
import { decodeBase64 } from '../encoding.js';
import { TrustErrorCode } from '../errors.js';
import { claimedIdentity, identityMatches, identityOf, identityRefusal } from './identity.js';
import { findSigningKey, verifierDer, type KeyBudget } from './keys.js';
import { KEYLESS_CHECK_COST, MAX_KEY_OPERATIONS, MAX_MATCH_STEPS } from './limits.js';
import { asObject, readJson } from './json.js';
import { checkSimpleSigningClaim } from './claims.js';
import { messageContent, verifyKeyed, verifyKeyless, type EntityParts, type SigstoreOutcome } from './sigstore.js';
import { LegacyAnnotation, type FoundSignature, type SignatureCheck } from './signature.js';
import type { CosignSpec } from './spec.js';

type Legacy = Extract<FoundSignature, { format: 'legacy'; payload: Buffer }>;

const fail = (code: TrustErrorCode, reason: string): SignatureCheck => ({ ok: false, code, reason });

export function checkLegacy(sig: Legacy, spec: CosignSpec, digest: string, budget: KeyBudget): SignatureCheck {
  const signature = decodeBase64(sig.annotations[LegacyAnnotation.SIGNATURE] ?? '');
  if (!signature || signature.length === 0) return fail(TrustErrorCode.SIGNATURE_INVALID, `no base64 ${LegacyAnnotation.SIGNATURE} annotation`);
  const bundleText = sig.annotations[LegacyAnnotation.BUNDLE];
  const log = bundleText === undefined ? undefined : readRekorBundle(bundleText);
  const parts: EntityParts = {
    content: messageContent(sig.payload, signature),
    signed: sig.payload,
    signature,
    certificate: undefined,
    tlogEntries: typeof log === 'object' && spec.tlogRequired ? [log.entry] : [],
  };
  // Each check in the order that explains a refusal best: who signed, then the log.
  const checked = spec.keyless ? checkKeyless(sig, parts, log, spec, digest, budget) : checkKeyed(parts, log, spec, budget);
  if (!checked.ok) return checked;
  const claim = checkSimpleSigningClaim(sig.payload, digest);
  return claim === undefined ? checked : fail(TrustErrorCode.PAYLOAD_MISMATCH, claim);
}

/** No log entry, or why the one there cannot be read. */
function missingLog(log: string | undefined): SignatureCheck {
  return fail(TrustErrorCode.TLOG_INVALID, log ?? 'no transparency-log entry (dev.sigstore.cosign/bundle): signed with --tlog-upload=false? the policy requires the log');
}

/** Why the image's budget (limits.ts) is spent, for the signatures left unchecked. */
export function budgetSpent(what: 'keys' | 'patterns' = 'keys'): SignatureCheck {
  const spent = what === 'keys' ? `${MAX_KEY_OPERATIONS} public-key operations` : `${MAX_MATCH_STEPS} identity-pattern steps (states × characters)`;
  return fail(TrustErrorCode.TOO_LARGE, `not checked: the image's signatures already took the ${spent} allowed per image`);
}

/** Charges one full keyless check to `budget`; false when it cannot be afforded. */
export function chargeKeyless(budget: KeyBudget): boolean {
  if (budget.remaining < KEYLESS_CHECK_COST) return false;
  budget.remaining -= KEYLESS_CHECK_COST;
  return true;
}

function checkKeyed(parts: EntityParts, log: RekorEntry | string | undefined, spec: CosignSpec, budget: KeyBudget): SignatureCheck {
  // The cheap check first: which policy key (if any) made this signature.
  const key = findSigningKey(spec.keys, parts.signed, parts.signature, budget);
  if (key === 'exhausted') return budgetSpent();
  if (!key) return fail(TrustErrorCode.SIGNATURE_INVALID, `not a signature of the payload by the policy's ${spec.keys.length === 1 ? 'key' : `${spec.keys.length} keys`}`);
  if (!spec.tlogRequired) return { ok: true, evidence: { format: 'legacy', manifestDigest: '', keyId: key.id } };
  if (typeof log !== 'object') return missingLog(log);
  const entry = log;
  if (!entry.publicKeyDer || !entry.publicKeyDer.equals(key.spki)) {
    return fail(TrustErrorCode.TLOG_INVALID, 'the transparency-log entry records another public key');
  }
  const outcome = verifyKeyed(parts, key, spec.trustedRoot, true);
  if (!outcome.ok) return outcome;
  return { ok: true, evidence: { format: 'legacy', manifestDigest: '', keyId: key.id, tlog: entry.evidence } };
}

function checkKeyless(sig: Legacy, parts: EntityParts, log: RekorEntry | string | undefined, spec: CosignSpec, digest: string, budget: KeyBudget): SignatureCheck {
  const pem = sig.annotations[LegacyAnnotation.CERTIFICATE];
  if (pem === undefined) return fail(TrustErrorCode.CERTIFICATE_INVALID, 'no certificate (dev.sigstore.cosign/certificate): signed with a key? the policy trusts identities');
  let der: Buffer;
  try {
    der = new X509Certificate(pem).raw;
  } catch {
    return fail(TrustErrorCode.CERTIFICATE_INVALID, 'the certificate annotation is not a PEM certificate');
  }
  const claimed = claimedIdentity(der);
  const claimedMatch = claimed && identityMatches(spec.keyless!.identities, claimed, budget);
  if (claimedMatch === 'exhausted') return budgetSpent('patterns');
  if (claimed && !claimedMatch) return fail(TrustErrorCode.IDENTITY_MISMATCH, identityRefusal(claimed, false));
  // Then what the payload names, still before any crypto: the right signer's genuine signatures
  // of OTHER images are public, and copies of them must not each cost a full keyless check.
  const claim = checkSimpleSigningClaim(sig.payload, digest);
  if (claim !== undefined) return fail(TrustErrorCode.PAYLOAD_MISMATCH, claim);
  if (typeof log !== 'object') return missingLog(log);
  const entry = log;
  if (!entry.publicKeyDer || !entry.publicKeyDer.equals(der)) return fail(TrustErrorCode.TLOG_INVALID, 'the transparency-log entry records another certificate');
  if (!chargeKeyless(budget)) return budgetSpent();
  const outcome: SigstoreOutcome = verifyKeyless({ ...parts, certificate: der }, spec.trustedRoot);
  if (!outcome.ok) return outcome;
  const identity = identityOf(outcome.signer);
  const match = identity && identityMatches(spec.keyless!.identities, identity, budget);
  if (match === 'exhausted') return budgetSpent('patterns');
  if (!identity || !match) return fail(TrustErrorCode.IDENTITY_MISMATCH, identityRefusal(identity, true));
  return { ok: true, evidence: { format: 'legacy', manifestDigest: '', identity, tlog: entry.evidence } };
}

interface RekorEntry {
  readonly entry: TransparencyLogEntry;
  /** What the entry's body says signed: the certificate's or the key's DER. */
  readonly publicKeyDer: Buffer | undefined;
  readonly evidence: { readonly logIndex: number; readonly integratedTime: number };
}

/**
 * The `dev.sigstore.cosign/bundle` annotation (cosign pkg/cosign/bundle/rekor.go RekorBundle):
 * `{"SignedEntryTimestamp": base64, "Payload": {"body": base64, "integratedTime", "logIndex",
 * "logID": hex}}`, as the sigstore-js log entry it is.
 */
function readRekorBundle(text: string): RekorEntry | string {
  const doc = readJson(Buffer.from(text, 'utf8'));
  const o = asObject(doc);
  const payload = asObject(o?.Payload);
  const set = typeof o?.SignedEntryTimestamp === 'string' ? decodeBase64(o.SignedEntryTimestamp) : undefined;
  const body = typeof payload?.body === 'string' ? decodeBase64(payload.body) : undefined;
  const { integratedTime, logIndex, logID } = payload ?? {};
  if (!set || !body || !isCount(integratedTime) || !isCount(logIndex) || typeof logID !== 'string' || !/^[0-9a-f]{64}$/.test(logID)) {
    return 'the transparency-log entry (dev.sigstore.cosign/bundle) is malformed';
  }
  const parsed = asObject(readJson(body));
  const kind = parsed?.kind;
  const version = parsed?.apiVersion;
  if (typeof kind !== 'string' || typeof version !== 'string') return 'the transparency-log entry body names no kind and apiVersion';
  const entry = {
    logIndex: String(logIndex),
    logId: { keyId: Buffer.from(logID, 'hex') },
    kindVersion: { kind, version },
    integratedTime: String(integratedTime),
    inclusionPromise: { signedEntryTimestamp: set },
    inclusionProof: undefined,
    canonicalizedBody: body,
  } satisfies TransparencyLogEntry;
  return { entry, publicKeyDer: bodyPublicKey(parsed), evidence: { logIndex, integratedTime } };
}

/** hashedrekord 0.0.1: spec.signature.publicKey.content is base64 of a PEM key or certificate. */
function bodyPublicKey(body: Record<string, unknown> | undefined): Buffer | undefined {
  const content = asObject(asObject(asObject(asObject(body?.spec)?.signature)?.publicKey))?.content;
  return verifierDer(typeof content === 'string' ? decodeBase64(content)?.toString('utf8') : undefined);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
