// What an unexpected HTTP status means to a user. A registry's error body (distribution-spec
// "Error Codes": {"errors": [{"code": …}]}) names the reason; its code is shown when it is one.
import { checkJsonShape } from '../../shared/json-shape.js';
import { TrustError } from '../../shared/trust-error.js';
import type { RegistryResponse } from './transport.js';

const ERROR_CODE = /^[A-Z_]{1,40}$/;
/** Error bodies are small; a larger one is not read for its code. */
const ERROR_BODY_BYTES = 16 * 1024;

export function unexpectedStatus(res: RegistryResponse, what: string): TrustError {
  const code = registryErrorCode(res.body);
  return new TrustError('SERVER_ERROR', `${res.url.host} answered HTTP ${res.status}${code ? ` (${code})` : ''} for ${what}`);
}

function registryErrorCode(body: Buffer): string | undefined {
  if (body.length === 0 || body.length > ERROR_BODY_BYTES || !checkJsonShape(body, { maxDepth: 8, maxValues: 1_000 }).ok) return undefined;
  try {
    const doc = JSON.parse(body.toString('utf8')) as { errors?: { code?: unknown }[] } | null;
    const code = Array.isArray(doc?.errors) ? doc.errors[0]?.code : undefined;
    return typeof code === 'string' && ERROR_CODE.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}
