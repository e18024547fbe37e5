import { printable, ReferenceError } from '../../src/reference/index.js';
import { CredentialsError } from '../../src/registry/credentials.js';
import { TrustError } from '../../src/trust/errors.js';

/** A mistake in how the command was called: exit 2. */
export class UsageError extends Error {
  readonly code = 'USAGE' as const;
}

export const ExitCode = { OK: 0, REFUSED: 1, USAGE: 2 } as const;

/**
 * Turns any failure into a code, a one-line message and an exit status. Never a stack trace.
 * Messages quote what registries and trust servers served (refusal reasons name subjects,
 * digests, header names): control characters are escaped so none acts on the terminal.
 */
export function describeFailure(error: unknown): { code: string; message: string; exit: number } {
  const d = describeRaw(error);
  return { ...d, message: printable(d.message, 4000) };
}

function describeRaw(error: unknown): { code: string; message: string; exit: number } {
  if (error instanceof UsageError) return { code: 'USAGE', message: error.message, exit: ExitCode.USAGE };
  if (error instanceof TrustError) {
    return { code: error.code, message: error.message, exit: error.code === 'INVALID_OPTION' ? ExitCode.USAGE : ExitCode.REFUSED };
  }
  if (error instanceof ReferenceError) return { code: error.code, message: error.message, exit: ExitCode.USAGE };
  if (error instanceof CredentialsError) return { code: error.code, message: error.message, exit: ExitCode.USAGE };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message: `internal error: ${message}`, exit: ExitCode.REFUSED };
}
