export * from './types.js';
export { readTrustPolicy, parseTrustStoreRef, TRUST_POLICY_LIMITS } from './trust-policy.js';
export { readCertificates, readTrustStore, certificateDigest, TRUST_STORE_LIMITS } from './trust-store.js';
export { parseDistinguishedName, isSubsetDn, DN_LIMITS } from './dn.js';
export { readNotationAuthority, parseNotationAuthority, notationSpecOf, NOTATION_AUTHORITY, NOTATION_SPEC_LIMITS, TRUST_STORE_LABEL, type NotationAuthorityResult } from './spec.js';
export { NOTATION_AUTHORITY_SCHEMA } from './schema.js';
export { NotationVerifier } from './verifier.js';
export { inspectNotation, formatNotationReport, type NotationReport } from './inspect.js';
export { selectStatement } from './select.js';
