export { LogBuffer, type LogBufferOptions } from './log-buffer.js';
export { Metrics } from './metrics.js';
