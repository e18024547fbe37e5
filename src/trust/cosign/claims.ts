// What a verified signature says it signed, which must be the image being admitted.
import { asObject, readJson } from './json.js';
import { COSIGN_SIGN_PREDICATE } from './signature.js';

/** The only `critical.type` of a cosign image signature (sigstore pkg/signature/payload). */
const SIMPLE_SIGNING_TYPE = 'cosign container image signature';
const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const IN_TOTO_STATEMENT_TYPES = ['https://in-toto.io/Statement/v1', 'https://in-toto.io/Statement/v0.1'];
/** Subjects looked at in one statement (cosign's names one). */
const MAX_SUBJECTS = 64;

/**
 * A simple-signing payload must name `digest` as `critical.image.docker-manifest-digest`
 * (cosign pkg/cosign/verifiers.go SimpleClaimVerifier) and be of cosign's type.
 * @returns undefined when it does, else why not.
 */
export function checkSimpleSigningClaim(payload: Buffer, digest: string): string | undefined {
  const critical = asObject(asObject(readJson(payload))?.critical);
  if (!critical) return 'the signed payload is not a simple-signing document';
  if (critical.type !== SIMPLE_SIGNING_TYPE) return `the signed payload's critical.type is not "${SIMPLE_SIGNING_TYPE}"`;
  const signed = asObject(critical.image)?.['docker-manifest-digest'];
  if (signed !== digest) return `the signed payload names ${typeof signed === 'string' ? signed.slice(0, 80) : 'no digest'}, not ${digest}`;
  return undefined;
}

/**
 * A DSSE bundle's statement must be an in-toto statement of `cosign sign`'s predicate type with a
 * subject whose sha256 is the image's (cosign pkg/cosign/verifiers.go IntotoSubjectClaimVerifier).
 */
export function checkStatementClaim(payloadType: string, payload: Buffer, digest: string): string | undefined {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE) return `the envelope's payload type is ${JSON.stringify(payloadType.slice(0, 80))}, not ${IN_TOTO_PAYLOAD_TYPE}`;
  const statement = asObject(readJson(payload));
  if (!statement || !IN_TOTO_STATEMENT_TYPES.includes(String(statement._type))) return 'the signed payload is not an in-toto statement';
  if (statement.predicateType !== COSIGN_SIGN_PREDICATE) {
    return `the statement's predicateType is ${JSON.stringify(String(statement.predicateType).slice(0, 80))}, not ${COSIGN_SIGN_PREDICATE} (an attestation, not a signature)`;
  }
  const subjects = Array.isArray(statement.subject) ? (statement.subject as unknown[]).slice(0, MAX_SUBJECTS) : [];
  const hex = digest.slice('sha256:'.length);
  const named = subjects.map((s) => asObject(asObject(s)?.digest)?.sha256).filter((d): d is string => typeof d === 'string');
  if (named.includes(hex)) return undefined;
  return `the statement's subject is ${named.length ? `sha256:${named[0]!.slice(0, 64)}` : 'no sha256 digest'}, not ${digest}`;
}
