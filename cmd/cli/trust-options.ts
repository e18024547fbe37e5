// Everything `verify` and `inspect` read from flags, files and the environment, checked once.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseReference, type ImageReference } from '../../src/reference/index.js';
import { defaultTrustServer, dockerCredentials, parseDockerConfigFile, type Credentials } from '../../src/registry/index.js';
import { isDelegationName, parsePins, type RootPins, type SignerRequirement } from '../../src/trust/index.js';
import { readText, type Environment } from './environment.js';
import { UsageError } from './errors.js';

export const TRUST_OPTIONS = {
  'trust-server': { type: 'string' },
  'ca-file': { type: 'string' },
  'root-key': { type: 'string', multiple: true },
  'docker-config': { type: 'string' },
  username: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  timeout: { type: 'string' },
  output: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface TrustFlags {
  readonly 'trust-server'?: string | undefined;
  readonly 'ca-file'?: string | undefined;
  readonly 'root-key'?: string[] | undefined;
  readonly 'docker-config'?: string | undefined;
  readonly username?: string | undefined;
  readonly 'password-stdin'?: boolean | undefined;
  readonly timeout?: string | undefined;
  readonly output?: string | undefined;
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
  const output = flags.output ?? 'text';
  if (output !== 'text' && output !== 'json') throw new UsageError(`--output must be text or json, not "${output}"`);
  const seconds = flags.timeout === undefined ? 10 : Number(flags.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 600) throw new UsageError('--timeout must be a number of seconds between 0 and 600');
  // DOCKER_CONTENT_TRUST_SERVER is docker's own override of the trust server.
  const server = flags['trust-server'] ?? environment.env.DOCKER_CONTENT_TRUST_SERVER ?? defaultTrustServer(ref.registry);
  const caBundle = flags['ca-file'] === undefined ? undefined : readText(flags['ca-file'], '--ca-file');
  const pins = parsePins((flags['root-key'] ?? []).map((value) => (looksLikeFile(value) ? readText(value, '--root-key') : value)));
  const credentials = await readCredentials(ref, server, flags, environment);
  return { ref, server, caBundle, pins, credentials, timeoutMs: Math.round(seconds * 1000), output };
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

async function readCredentials(ref: ImageReference, server: string, flags: TrustFlags, environment: Environment): Promise<Credentials | undefined> {
  if (flags.username !== undefined) {
    if (!flags['password-stdin']) throw new UsageError('--username needs --password-stdin');
    const password = (await environment.readStdin()).replace(/\r?\n$/, '');
    return { username: flags.username, password };
  }
  if (flags['password-stdin']) throw new UsageError('--password-stdin needs --username');
  const file = flags['docker-config'] ?? defaultDockerConfig(environment.env);
  if (file === undefined) return undefined;
  const config = parseDockerConfigFile(readText(file, '--docker-config'), file);
  // docker sends the registry's credentials to its Notary server (cli/trust GetNotaryRepository);
  // credentials kept for the trust server's own host are tried first.
  return dockerCredentials(config, [new URL(server).host, ref.registry]);
}

function defaultDockerConfig(env: Environment['env']): string | undefined {
  const file = path.join(env.DOCKER_CONFIG ?? path.join(os.homedir(), '.docker'), 'config.json');
  return existsSync(file) ? file : undefined;
}

function looksLikeFile(value: string): boolean {
  return !/^[a-fA-F0-9]{64}$/.test(value) && !value.includes('-----BEGIN');
}

/** A file named by a flag; a usage error naming the flag when it cannot be read. */
