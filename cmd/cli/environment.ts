// What every command is given besides argv, and reading the files its flags name. Apart from
// trust-options.ts so that `--kind cosign` does not load Notary's verifier to read a key file.
import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';

export interface Environment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readStdin: () => Promise<string>;
}

export function readText(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}
