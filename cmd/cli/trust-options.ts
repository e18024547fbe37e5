// Everything `verify` and `inspect` read from flags, files and the environment, checked once.
import { parseReference, type ImageReference } from '../../src/reference/index.js';
import { defaultTrustServer, type Credentials } from '../../src/registry/index.js';
import { isDelegationName, parsePins, type RootPins, type SignerRequirement } from '../../src/trust/index.js';
import { readText, type Environment } from './environment.js';
import { UsageError } from './errors.js';
import { COMMON_OPTIONS, readCredentials, readOutput, readTimeoutMs, type CommonFlags } from './common-options.js';

export const TRUST_OPTIONS = {
  ...COMMON_OPTIONS,
  'trust-server': { type: 'string' },
  'ca-file': { type: 'string' },
  'root-key': { type: 'string', multiple: true },
} as const;

export interface TrustFlags extends CommonFlags {
  readonly 'trust-server'?: string | undefined;
  readonly 'ca-file'?: string | undefined;
  readonly 'root-key'?: string[] | undefined;
}

export interface TrustSettings {
  readonly ref: ImageReference;
  readonly server: string;
  readonly caBundle: string | undefined;
  readonly pins: RootPins;
  readonly credentials: Credentials | undefined;
  readonly timeoutMs: number;
  readonly output: 'text' | 'json';
}

export { readText, type Environment } from './environment.js';

export async function readTrustSettings(image: string | undefined, flags: TrustFlags, environment: Environment): Promise<TrustSettings> {
  if (image === undefined) throw new UsageError('an IMAGE argument is required');
  const ref = parseReference(image);
  const output = readOutput(flags);
  const timeoutMs = readTimeoutMs(flags);
  // DOCKER_CONTENT_TRUST_SERVER is docker's own override of the trust server.
  const server = flags['trust-server'] ?? environment.env.DOCKER_CONTENT_TRUST_SERVER ?? defaultTrustServer(ref.registry);
  const caBundle = flags['ca-file'] === undefined ? undefined : readText(flags['ca-file'], '--ca-file');
  const pins = parsePins((flags['root-key'] ?? []).map((value) => (looksLikeFile(value) ? readText(value, '--root-key') : value)));
  // docker sends the registry's credentials to its Notary server (cli/trust GetNotaryRepository);
  // credentials kept for the trust server's own host are tried first.
  const credentials = await readCredentials([new URL(server).host, ref.registry], flags, environment);
  return { ref, server, caBundle, pins, credentials, timeoutMs, output };
}

/**
 * `--signer ROLE` requires a delegation; `--signer ROLE=KEY` also pins the key that must have
 * signed for it (a key ID or a PEM file). Repeat a role to allow several keys.
 */
export function readSigners(values: readonly string[] | undefined): SignerRequirement[] {
  const byRole = new Map<string, string[]>();
  for (const value of values ?? []) {
    const eq = value.indexOf('=');
    const role = eq === -1 ? value : value.slice(0, eq);
    if (!isDelegationName(role)) {
      throw new UsageError(`--signer "${role}" is not a delegation role name (targets/releases, targets/<name>)`);
    }
    const keys = byRole.get(role) ?? [];
    if (eq !== -1) {
      const key = value.slice(eq + 1);
      keys.push(looksLikeFile(key) ? readText(key, '--signer') : key);
    }
    byRole.set(role, keys);
  }
  return [...byRole].map(([role, keys]) => ({ role, keys: keys.length > 0 ? parsePins(keys) : undefined }));
}

function looksLikeFile(value: string): boolean {
  return !/^[a-fA-F0-9]{64}$/.test(value) && !value.includes('-----BEGIN');
}

/** A file named by a flag; a usage error naming the flag when it cannot be read. */
