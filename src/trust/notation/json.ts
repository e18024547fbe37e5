import { checkJsonShape } from '../../shared/json-shape.js';
import { JSON_SHAPE } from './limits.js';

/** JSON from the registry, its shape bounded before parsing; undefined when it is not JSON. */
export function readJson(bytes: Uint8Array): unknown {
  if (!checkJsonShape(bytes, JSON_SHAPE).ok) return undefined;
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export function asObject(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
