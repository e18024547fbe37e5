export { ReferenceError, printable } from './errors.js';
export { parseReference, DEFAULT_TAG, type ImageReference } from './parse.js';
export { canonicalRegistry, DEFAULT_REGISTRY, DOCKER_HUB_ALIASES, type CanonicalHost } from './host.js';
export { effectiveTag, formatNormalized, formatPinned } from './format.js';
