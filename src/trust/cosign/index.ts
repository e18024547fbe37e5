export { CosignVerifier, checkSignature } from './verifier.js';
export { parseCosignAuthority, readCosignAuthority, COSIGN_AUTHORITY, COSIGN_SPEC_LIMITS, type CosignSpec, type CosignAuthorityResult, type IdentityMatcher, type TextMatcher } from './spec.js';
export { compileIdentityPattern, type IdentityPattern } from './regexp.js';
export { parseCosignKey, type CosignKey } from './keys.js';
export { parseTrustedRoot, publicGoodTrustedRoot, type CosignTrustedRoot } from './trusted-root.js';
export { signatureTag } from './discover.js';
export { CosignMediaType, LegacyAnnotation, COSIGN_SIGN_PREDICATE } from './signature.js';
export * from './limits.js';
export { inspectCosign, type CosignReport, type CosignSignatureReport } from './inspect.js';
