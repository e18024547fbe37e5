/**
 * Every reason trust can fail to be established. The code decides the wording a user sees
 * (docs/troubleshooting.md documents each one; a unit test fails when one is missing).
 */
export const TrustErrorCode = {
  NO_TRUST_DATA: 'NO_TRUST_DATA',
  TAG_NOT_SIGNED: 'TAG_NOT_SIGNED',
  DIGEST_NOT_SIGNED: 'DIGEST_NOT_SIGNED',
  SIGNER_MISSING: 'SIGNER_MISSING',
  SIGNER_KEY_MISMATCH: 'SIGNER_KEY_MISMATCH',
  ROOT_KEY_MISMATCH: 'ROOT_KEY_MISMATCH',
  INVALID_ROOT_CERTIFICATE: 'INVALID_ROOT_CERTIFICATE',
  EXPIRED: 'EXPIRED',
  THRESHOLD_NOT_MET: 'THRESHOLD_NOT_MET',
  HASH_MISMATCH: 'HASH_MISMATCH',
  ROLLBACK: 'ROLLBACK',
  TOO_LARGE: 'TOO_LARGE',
  DELEGATION_LIMIT: 'DELEGATION_LIMIT',
  INVALID_METADATA: 'INVALID_METADATA',
  UNSUPPORTED_KEY: 'UNSUPPORTED_KEY',
  TIMEOUT: 'TIMEOUT',
  UNREACHABLE: 'UNREACHABLE',
  SERVER_ERROR: 'SERVER_ERROR',
  AUTH_FAILED: 'AUTH_FAILED',
  INVALID_OPTION: 'INVALID_OPTION',
  // cosign (src/trust/cosign): registry-held signatures.
  NO_SIGNATURES: 'NO_SIGNATURES',
  SIGNATURE_INVALID: 'SIGNATURE_INVALID',
  PAYLOAD_MISMATCH: 'PAYLOAD_MISMATCH',
  IDENTITY_MISMATCH: 'IDENTITY_MISMATCH',
  CERTIFICATE_INVALID: 'CERTIFICATE_INVALID',
  TLOG_INVALID: 'TLOG_INVALID',
  REGISTRY_ERROR: 'REGISTRY_ERROR',
} as const;
export type TrustErrorCode = (typeof TrustErrorCode)[keyof typeof TrustErrorCode];

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
