// The flags every kind's `verify` and `inspect` share (--docker-config, --username,
// --password-stdin, --timeout, --output, --help), and those of the kinds that talk to the image's
// registry (cosign, notation: --registry-ca-file, --insecure-registry), read in one place.
import { existsSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseReference, type ImageReference } from '../../src/reference/index.js';
import type { Credentials } from '../../src/registry/credentials.js';
import { dockerCredentials, parseDockerConfigFile, type DockerConfig } from '../../src/registry/docker-config.js';
import type { RegistryClient, RegistryConnection } from '../../src/registry/oci/types.js';
import { readText, type Environment } from './environment.js';
import { UsageError } from './errors.js';
import type { Output } from './output.js';

export const COMMON_OPTIONS = {
  'docker-config': { type: 'string' },
  username: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  timeout: { type: 'string' },
  output: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** COMMON_OPTIONS and the image registry's connection, for the kinds whose signatures live there. */
export const REGISTRY_OPTIONS = {
  ...COMMON_OPTIONS,
  kind: { type: 'string' },
  'registry-ca-file': { type: 'string' },
  'insecure-registry': { type: 'boolean' },
} as const;

export interface CommonFlags {
  readonly 'docker-config'?: string | undefined;
  readonly username?: string | undefined;
  readonly 'password-stdin'?: boolean | undefined;
  readonly timeout?: string | undefined;
  readonly output?: string | undefined;
}

export interface RegistryFlags extends CommonFlags {
  readonly 'registry-ca-file'?: string | undefined;
  readonly 'insecure-registry'?: boolean | undefined;
}

/**
 * What the CLI needs besides argv for the kinds that read the registry: the registry client the
 * webhook uses too, made only when such a command runs (cmd/trustgate.ts makes it, and closes it
 * when the command is done).
 */
export interface RegistryEnvironment extends Environment {
  readonly registryClient: (() => Promise<RegistryClient>) | undefined;
}

export function readOutput(flags: CommonFlags): 'text' | 'json' {
  const output = flags.output ?? 'text';
  if (output !== 'text' && output !== 'json') throw new UsageError(`--output must be text or json, not "${output}"`);
  return output;
}

export function readTimeoutMs(flags: CommonFlags): number {
  const seconds = flags.timeout === undefined ? 10 : Number(flags.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 600) throw new UsageError('--timeout must be a number of seconds between 0 and 600');
  return Math.round(seconds * 1000);
}

/**
 * --username with --password-stdin, else the docker config's credentials for the first of `hosts`
 * it has (--docker-config, else $DOCKER_CONFIG/config.json or ~/.docker/config.json when present).
 */
export async function readCredentials(hosts: readonly string[], flags: CommonFlags, environment: Environment): Promise<Credentials | undefined> {
  if (flags.username !== undefined) {
    if (!flags['password-stdin']) throw new UsageError('--username needs --password-stdin');
    return { username: flags.username, password: (await environment.readStdin()).replace(/\r?\n$/, '') };
  }
  if (flags['password-stdin']) throw new UsageError('--password-stdin needs --username');
  const config = readDockerConfig(flags['docker-config'], environment);
  return config && dockerCredentials(config, hosts);
}

/**
 * The docker config as docker finds it: `flag` (a config.json, or a directory holding one, as
 * `docker --config DIR` and $DOCKER_CONFIG name it), else $DOCKER_CONFIG/config.json, else
 * ~/.docker/config.json (docker/cli cli/config/config.go, Dir and Load). Undefined when no flag
 * is given and the default file does not exist; a file named by the flag must be readable, and
 * any file read must be valid (CredentialsError, exit 2): a CI run never quietly goes anonymous.
 */
export function readDockerConfig(flag: string | undefined, environment: Environment): DockerConfig | undefined {
  const dir = environment.env.DOCKER_CONFIG ?? path.join(os.homedir(), '.docker');
  let file = flag ?? path.join(dir, 'config.json');
  if (flag === undefined && !existsSync(file)) return undefined;
  if (flag !== undefined && isDirectory(flag)) file = path.join(flag, 'config.json');
  return parseDockerConfigFile(readText(file, '--docker-config'), file);
}

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false; // readText reports what is wrong with it
  }
}

/** One IMAGE argument, the output format (set on `out` at once, so refusals print as asked) and the timeout. */
export function readCommand(positionals: readonly string[], flags: CommonFlags, out: Output): { ref: ImageReference; output: 'text' | 'json'; timeoutMs: number } {
  if (positionals.length !== 1) throw new UsageError(`takes one IMAGE, got ${positionals.length}`);
  const ref = parseReference(positionals[0]!);
  const output = readOutput(flags);
  out.format = output;
  return { ref, output, timeoutMs: readTimeoutMs(flags) };
}

/** The registry's CA and plain-HTTP choice, as the authority's `registry` carries them. */
export function readRegistry(flags: RegistryFlags): { insecure: boolean; caBundle: string | undefined } {
  return {
    insecure: flags['insecure-registry'] ?? false,
    caBundle: flags['registry-ca-file'] === undefined ? undefined : readText(flags['registry-ca-file'], '--registry-ca-file'),
  };
}

/** The connection to the image's registry every fetch of one command uses, and the client. */
export async function openRegistry(
  ref: ImageReference,
  registry: { insecure: boolean; caBundle: string | undefined },
  flags: CommonFlags,
  timeoutMs: number,
  environment: RegistryEnvironment,
): Promise<{ client: RegistryClient; conn: RegistryConnection }> {
  if (!environment.registryClient) throw new UsageError('this trustgate was built without a registry client');
  const credentials = await readCredentials([ref.registry], flags, environment);
  const client = await environment.registryClient();
  return { client, conn: { registry: ref.registry, insecure: registry.insecure, caBundle: registry.caBundle, credentials, signal: undefined, timeoutMs } };
}
