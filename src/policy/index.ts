export * from './types.js';
export { compilePattern, matchPattern, compareSpecificity, type Pattern } from './pattern.js';
export { parsePolicy, refusedStandIn, PolicyError } from './parse.js';
export { CLUSTER_BUDGET, NAMESPACE_BUDGET, POLICY_LIMITS, type Budget } from './limits.js';
export { BudgetUsage } from './budget.js';
export { PolicySet, bestMatch, type PolicyMatch } from './select.js';
export { loadPolicyFiles, expandFilePatterns, PolicyFileWatcher, type LoadedPolicies } from './files.js';
export { rawCost, rawKeyCount, supportedKinds, type PolicyCost } from './authorities.js';
export { resolveTrustStoreRefs, hasTrustStoreRefs, certificatesPem, TRUST_STORE_LABEL, TRUST_STORE_REF_LIMITS, type TrustStoreSource, type TrustStoreObject, type TrustStoreObjectKind, type ResolvedRefs } from './trust-store-refs.js';
