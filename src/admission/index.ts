export { decide, type Decision, type DecisionContext, type Endpoint, type ContainerOutcome } from './decide.js';
export { parseReview, ReviewError, ADMISSION_API_VERSION, type ReviewRequest } from './review.js';
export { admissionResponse, denialResponse } from './respond.js';
export { CachingVerifier, type ImageVerifier, type CacheOptions, type CacheObserver } from './verifier.js';
export { containerImages, isReviewedKind, podSpecOf, type ContainerImage } from './workloads.js';
export { originalKey, pinPatch, ORIGINAL_IMAGES_ANNOTATION, type PatchOperation } from './patch.js';
export { AUDIT_ANNOTATION, fixFor } from './messages.js';
export { credentialLookup, credentialScope, CredentialScope, type CredentialFailure, type CredentialLookup, type PodCredentials } from './credentials.js';
