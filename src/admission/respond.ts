import { ADMISSION_API_VERSION } from './review.js';
import type { Decision } from './decide.js';

/** The AdmissionReview answer for a decision. */
export function admissionResponse(uid: string, decision: Decision): Record<string, unknown> {
  const response: Record<string, unknown> = { uid, allowed: decision.allowed };
  if (!decision.allowed) response.status = { code: 403, reason: 'Forbidden', message: decision.message };
  if (decision.warnings.length > 0) response.warnings = decision.warnings;
  if (Object.keys(decision.auditAnnotations).length > 0) response.auditAnnotations = decision.auditAnnotations;
  if (decision.patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(decision.patch)).toString('base64');
  }
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}

/** A denial for a request that could not be reviewed (malformed, internal failure). */
export function denialResponse(uid: string, message: string): Record<string, unknown> {
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response: { uid, allowed: false, status: { code: 400, reason: 'BadRequest', message } } };
}
