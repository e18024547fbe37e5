// The error every kind of trust fails with, and the registry client too (src/registry sits below
// src/trust and raises it for registries' answers): so it lives in src/shared, below both.
import { codesOf, type TrustCode } from './denial-codes.js';

/**
 * Every reason trust can fail to be established, of every kind: the trust codes of the denial-code
 * registry (src/shared/denial-codes.ts), which words their fixes; docs/troubleshooting.md
 * documents each one (a unit test fails when one is missing).
 */
export const TrustErrorCode: { readonly [C in TrustCode]: C } = Object.freeze(
  Object.fromEntries(codesOf('trust', 'signatures', 'notary', 'cosign', 'notation').map((c) => [c, c])) as { [C in TrustCode]: C },
);
export type TrustErrorCode = TrustCode;

/**
 * Verification failures that a newer root might cure: the reference client (notary
 * client/tufclient.go Update) downloads the root again and retries once after any of them.
 */
const CURABLE_BY_NEW_ROOT: ReadonlySet<TrustErrorCode> = new Set<TrustErrorCode>([
  TrustErrorCode.THRESHOLD_NOT_MET,
  TrustErrorCode.HASH_MISMATCH,
  TrustErrorCode.EXPIRED,
  TrustErrorCode.UNSUPPORTED_KEY,
]);

export class TrustError extends Error {
  constructor(
    readonly code: TrustErrorCode,
    message: string,
    options?: { cause?: unknown; role?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TrustError';
    this.role = options?.role;
  }

  /** The TUF role whose metadata failed, when there is one. */
  readonly role: string | undefined;

  get curableByNewRoot(): boolean {
    return CURABLE_BY_NEW_ROOT.has(this.code);
  }
}

export function isTrustError(value: unknown): value is TrustError {
  return value instanceof TrustError;
}
