// Running the cosign verifier in tests: a spec from a policy-like object, a context, the code of a refusal.
import { parseReference } from '../../src/reference/index.js';
import { CosignVerifier, parseCosignAuthority, type CosignSpec } from '../../src/trust/cosign/index.js';
import { isTrustError } from '../../src/trust/index.js';
import type { Verified } from '../../src/trust/kind.js';
import type { MemoryRegistry } from './memory-registry.js';

export function cosignSpec(value: unknown): CosignSpec {
  const result = parseCosignAuthority(value, 'cosign');
  if ('problems' in result) throw new Error(result.problems.join('; '));
  return result.spec;
}

export function verifyCosign(registry: MemoryRegistry, image: string, spec: CosignSpec): Promise<Verified> {
  return new CosignVerifier(registry).verify(parseReference(image), spec, { credentials: undefined, signal: new AbortController().signal, timeoutMs: 5000 });
}

/** The refusal's code and message, or `verified` when it was admitted. */
export async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
    return { code: 'verified', message: '' };
  } catch (e) {
    if (isTrustError(e)) return { code: e.code, message: e.message };
    throw e;
  }
}
