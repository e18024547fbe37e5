// admission.k8s.io/v1 AdmissionReview requests, checked field by field (nothing is cast).
import { Guard } from '../shared/guard.js';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export interface ReviewRequest {
  readonly uid: string;
  readonly kind: GroupVersionKind;
  /** `pods`, `deployments`, … */
  readonly resource: string;
  /** `ephemeralcontainers` for pods/ephemeralcontainers, else ''. */
  readonly subResource: string;
  readonly namespace: string | undefined;
  readonly name: string;
  readonly operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  readonly object: Record<string, unknown> | undefined;
  readonly oldObject: Record<string, unknown> | undefined;
  readonly dryRun: boolean;
}

export class ReviewError extends Error {
  readonly code = 'MALFORMED_REVIEW' as const;
  constructor(
    message: string,
    /** Present when the request had a usable uid, so a denial can still be addressed. */
    readonly uid: string | undefined,
  ) {
    super(message);
    this.name = 'ReviewError';
  }
}

/** @throws ReviewError naming every missing or malformed field. */
export function parseReview(body: unknown): ReviewRequest {
  const g = new Guard(100_000);
  const review = g.object(body, 'AdmissionReview');
  if (review && review.apiVersion !== ADMISSION_API_VERSION) g.fail('apiVersion', `expected ${ADMISSION_API_VERSION}`);
  if (review && review.kind !== 'AdmissionReview') g.fail('kind', 'expected AdmissionReview');
  const req = g.object(review?.request, 'request');
  const uid = g.string(req?.uid, 'request.uid');
  if (uid !== undefined && (uid.length === 0 || uid.length > 128)) g.fail('request.uid', 'must be 1-128 characters');
  const kindObj = g.object(req?.kind, 'request.kind');
  const kind = {
    group: g.optional(kindObj?.group, (v) => g.string(v, 'request.kind.group')) ?? '',
    version: g.string(kindObj?.version, 'request.kind.version') ?? '',
    kind: g.string(kindObj?.kind, 'request.kind.kind') ?? '',
  };
  const resourceObj = g.object(req?.resource, 'request.resource');
  const resource = g.string(resourceObj?.resource, 'request.resource.resource') ?? '';
  const subResource = g.optional(req?.subResource, (v) => g.string(v, 'request.subResource')) ?? '';
  const namespace = g.optional(req?.namespace, (v) => g.string(v, 'request.namespace'));
  const name = g.optional(req?.name, (v) => g.string(v, 'request.name')) ?? '';
  const operation = g.oneOf(req?.operation, ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] as const, 'request.operation');
  const object = g.optional(req?.object, (v) => g.object(v, 'request.object'));
  const oldObject = g.optional(req?.oldObject, (v) => g.object(v, 'request.oldObject'));
  const dryRun = g.optional(req?.dryRun, (v) => g.boolean(v, 'request.dryRun')) ?? false;
  if ((operation === 'CREATE' || operation === 'UPDATE') && object === undefined) g.fail('request.object', `required for ${operation}`);
  if (!g.ok || uid === undefined || operation === undefined) {
    throw new ReviewError(`malformed AdmissionReview: ${g.problems.join('; ')}`, uid && uid.length <= 128 ? uid : undefined);
  }
  return { uid, kind, resource, subResource, namespace, name, operation, object, oldObject, dryRun };
}
