export { ReferenceError, printable } from './errors.js';
export { parseReference, DEFAULT_REGISTRY, DEFAULT_TAG, type ImageReference } from './parse.js';
export { effectiveTag, formatNormalized, formatPinned } from './format.js';
