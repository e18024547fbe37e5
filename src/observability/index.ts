export { LogBuffer, type LogBufferOptions } from './log-buffer.js';
export { Metrics } from './metrics.js';
export { DctOnlyImages, DEFAULT_DCT_ONLY_BOUNDS, type DctOnlyBounds } from './dct-only.js';
