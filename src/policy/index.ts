export * from './types.js';
export { compilePattern, matchPattern, compareSpecificity, type Pattern } from './pattern.js';
export { parsePolicy, refusedStandIn, PolicyError } from './parse.js';
export { NAMESPACE_BUDGET, POLICY_LIMITS } from './limits.js';
export { PolicySet, bestMatch, type PolicyMatch } from './select.js';
export { loadPolicyFiles, expandFilePatterns, PolicyFileWatcher, type LoadedPolicies } from './files.js';
export { rawKeyCount, supportedKinds } from './authorities.js';
