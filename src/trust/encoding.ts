import { createHash } from 'node:crypto';
import { canonicalize } from '@tufjs/canonical-json';
import { checkJsonShape, type JsonShapeLimits } from '../shared/json-shape.js';
import { TrustError } from './errors.js';

export function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

export function sha512(bytes: Uint8Array): Buffer {
  return createHash('sha512').update(bytes).digest();
}

/** Notary signs the canonical JSON of the parsed `signed` object, not the bytes in the file. */
export function canonicalBytes(value: unknown, role: string): Buffer {
  try {
    return Buffer.from(canonicalize(value), 'utf8');
  } catch (cause) {
    // canonical JSON has integers only; a float or other oddity cannot have been signed by notary.
    throw new TrustError('INVALID_METADATA', `${role}: cannot be put in canonical JSON form`, { cause, role });
  }
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict standard base64 (Go's encoding/json []byte form); undefined when it is not. */
export function decodeBase64(text: string): Buffer | undefined {
  return BASE64_RE.test(text) ? Buffer.from(text, 'base64') : undefined;
}

/**
 * Parses JSON after bounding its nesting depth (no document can exhaust the stack later) and its
 * number of values (JSON.parse allocates per value: bytes alone do not bound memory), counted in
 * one pass before parsing (src/shared/json-shape.ts).
 */
export function parseJsonBounded(bytes: Uint8Array, bounds: JsonShapeLimits, role: string): unknown {
  const shape = checkJsonShape(bytes, bounds);
  if (!shape.ok && shape.reason === 'too-deep') {
    throw new TrustError('INVALID_METADATA', `${role}: JSON nested deeper than ${bounds.maxDepth}`, { role });
  }
  if (!shape.ok) {
    throw new TrustError('TOO_LARGE', `${role}: more than ${bounds.maxValues} JSON values`, { role });
  }
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
  } catch (cause) {
    throw new TrustError('INVALID_METADATA', `${role}: not valid JSON`, { cause, role });
  }
}
