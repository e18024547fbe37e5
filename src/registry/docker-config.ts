// A docker CLI config file (~/.docker/config.json) as `docker trust` reads it: credentials in
// `auths`, or in a credential helper named by `credHelpers` (per registry) or `credsStore` (for
// all), which is where Docker Desktop and `docker login` with a keychain keep them
// (docker/cli cli/config/configfile, credentials/native_store.go).
import { spawn } from 'node:child_process';
import { CredentialsError, normaliseHost, parseDockerConfigDocument, readAuths, type Credentials } from './credentials.js';

export interface DockerConfig {
  /** Registry host → credentials written in the file. */
  readonly auths: ReadonlyMap<string, Credentials>;
  /** Helper for every registry without its own (`docker-credential-<name>`). */
  readonly credsStore: string | undefined;
  /** Registry key as written → helper name. */
  readonly credHelpers: ReadonlyMap<string, string>;
  readonly source: string;
}

/** Runs a helper's `get` for one server address: its credentials, or undefined when it has none. */
export type HelperGet = (helper: string, serverAddress: string) => Promise<Credentials | undefined>;

/** A helper is a program name suffix: nothing that could name another path. */
const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** What docker-credential-helpers print when they have nothing for the address. */
const NOT_FOUND = 'credentials not found in native keychain';
/** docker's key for Docker Hub's credentials. */
const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';
const HELPER_TIMEOUT_MS = 30_000;

/** Reads the file's auths, credsStore and credHelpers; refuses malformed entries with their path. */
export function parseDockerConfigFile(text: string, source: string): DockerConfig {
  const doc = parseDockerConfigDocument(text, source);
  const auths = readAuths(doc, source);
  const helperName = (value: unknown, path: string): string | undefined => {
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string' || !HELPER_NAME.test(value)) throw new CredentialsError(`${source}: ${path}: expected a credential helper name (docker-credential-<name>)`);
    return value;
  };
  const credsStore = helperName(doc.credsStore, 'credsStore');
  const credHelpers = new Map<string, string>();
  if (doc.credHelpers !== undefined) {
    if (typeof doc.credHelpers !== 'object' || doc.credHelpers === null || Array.isArray(doc.credHelpers)) throw new CredentialsError(`${source}: credHelpers must be an object`);
    for (const [registry, helper] of Object.entries(doc.credHelpers)) {
      const name = helperName(helper, `credHelpers[${JSON.stringify(registry)}]`);
      if (name !== undefined) credHelpers.set(registry, name);
    }
  }
  return { auths, credsStore, credHelpers, source };
}

/**
 * Credentials for the first of `hosts` that has some, the way docker looks them up: a host with
 * a helper (its own in credHelpers, else credsStore) asks the helper, and only the helper; a
 * host without one reads `auths`.
 */
export async function dockerCredentials(config: DockerConfig, hosts: readonly string[], get: HelperGet = helperGet): Promise<Credentials | undefined> {
  for (const host of hosts) {
    const key = normaliseHost(host) === 'docker.io' ? DOCKER_HUB_KEY : host;
    const helper = helperFor(config, key);
    const found = helper === undefined ? config.auths.get(normaliseHost(host)) : await get(helper, key);
    if (found) return found;
  }
  return undefined;
}

/** Whether looking up `host` runs a credential helper (a process) rather than reading `auths`. */
export function usesHelper(config: DockerConfig, host: string): boolean {
  return helperFor(config, normaliseHost(host) === 'docker.io' ? DOCKER_HUB_KEY : host) !== undefined;
}

function helperFor(config: DockerConfig, key: string): string | undefined {
  for (const [registry, helper] of config.credHelpers) if (normaliseHost(registry) === normaliseHost(key)) return helper;
  return config.credsStore;
}

/** `docker-credential-<helper> get`, with the server address on stdin (docker-credential-helpers' protocol). */
export const helperGet: HelperGet = (helper, serverAddress) =>
  new Promise((resolve, reject) => {
    const program = `docker-credential-${helper}`;
    const child = spawn(program, ['get'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), HELPER_TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new CredentialsError(
          error.code === 'ENOENT'
            ? `the docker config names the credential helper "${helper}" for ${serverAddress}, but ${program} is not installed (or not on PATH)`
            : `${program} could not be run: ${error.message}`,
        ),
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') return reject(new CredentialsError(`${program} did not answer within ${HELPER_TIMEOUT_MS / 1000} s (is it waiting for a passphrase?)`));
      if (code !== 0) {
        if (out.includes(NOT_FOUND)) return resolve(undefined);
        return reject(new CredentialsError(`${program} get failed for ${serverAddress}: ${firstLine(out || err) || `exit ${code}`}`));
      }
      try {
        resolve(readAnswer(out, program));
      } catch (error) {
        reject(error instanceof Error ? error : new CredentialsError(String(error)));
      }
    });
    child.stdin.on('error', () => undefined); // a helper that exits before reading: reported by 'close'
    child.stdin.end(serverAddress);
  });

function readAnswer(out: string, program: string): Credentials | undefined {
  let answer: unknown;
  try {
    answer = JSON.parse(out);
  } catch {
    throw new CredentialsError(`${program} get did not answer with JSON`);
  }
  const { Username: username, Secret: secret } = (typeof answer === 'object' && answer !== null ? answer : {}) as Record<string, unknown>;
  if (typeof username !== 'string' || typeof secret !== 'string') throw new CredentialsError(`${program} get answered without Username and Secret`);
  if (secret === '') return undefined;
  // docker stores identity tokens under the username "<token>".
  return username === '<token>' ? { identityToken: secret } : { username, password: secret };
}

function firstLine(text: string): string {
  return (text.trim().split('\n', 1)[0] ?? '').slice(0, 200);
}
