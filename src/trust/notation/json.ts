// JSON from the registry, bounded by this kind's JSON_SHAPE (./limits.ts); the reading itself is
// shared with the other registry kind (../registry-kind.ts).
import { readBoundedJson } from '../registry-kind.js';
import { JSON_SHAPE } from './limits.js';

export { asObject } from '../registry-kind.js';

/** JSON from the registry, its shape bounded before parsing; undefined when it is not JSON. */
export function readJson(bytes: Uint8Array): unknown {
  return readBoundedJson(bytes, JSON_SHAPE);
}
