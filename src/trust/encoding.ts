import { createHash } from 'node:crypto';
import { canonicalize } from '@tufjs/canonical-json';
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

/** Parses JSON after checking its nesting depth, so no document can exhaust the stack later. */
export function parseJsonBounded(bytes: Uint8Array, maxDepth: number, role: string): unknown {
  const text = Buffer.from(bytes).toString('utf8');
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) throw new TrustError('INVALID_METADATA', `${role}: JSON nested deeper than ${maxDepth}`, { role });
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new TrustError('INVALID_METADATA', `${role}: not valid JSON`, { cause, role });
  }
}
