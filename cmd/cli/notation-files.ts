// What `trustgate verify --kind notation` reads from disk, the way the notation CLI reads it
// (notation-go dir/path.go, verifier/trustpolicy, verifier/truststore/truststore.go): a
// trustpolicy.json, and the trust stores it names from `x509/{ca,signingAuthority,tsa}/<name>/`.
// Only the stores the trust policy names are read; every read has a bound.
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { certificatesPem } from '../../src/policy/trust-store-refs.js';
import type { TrustStoreRef, TrustStoreType } from '../../src/trust/notation/types.js';
import { UsageError } from './errors.js';

export const NOTATION_FILE_LIMITS = {
  /** trustpolicy.json: far above any real one (notation-go reads it whole). */
  trustPolicyBytes: 1024 * 1024,
  /** Trust stores one trust policy may name. */
  stores: 64,
  /** Certificate files in one trust store directory. */
  filesPerStore: 256,
  /** One certificate file. */
  fileBytes: 1024 * 1024,
  /** Every file of every store together. */
  totalBytes: 16 * 1024 * 1024,
} as const;

const STORE_TYPES: readonly TrustStoreType[] = ['ca', 'signingAuthority', 'tsa'];
/** notation-go internal/file.IsValidFileName: trust store names are `[a-zA-Z0-9_.-]+`. */
const STORE_NAME = /^[a-zA-Z0-9_.-]+$/;

/**
 * notation's {NOTATION_CONFIG}: Go's os.UserConfigDir() + "/notation" (dir/path.go
 * userConfigDirPath): $XDG_CONFIG_HOME (absolute) or ~/.config on Linux, ~/Library/Application
 * Support on macOS, %AppData% on Windows.
 */
export function notationConfigDir(env: Readonly<Record<string, string | undefined>>, platform: NodeJS.Platform = process.platform): string {
  const home = env.HOME ?? os.homedir();
  if (platform === 'win32') return path.join(env.AppData ?? env.APPDATA ?? home, 'notation');
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'notation');
  const xdg = env.XDG_CONFIG_HOME;
  // Go's UserConfigDir refuses a relative $XDG_CONFIG_HOME; notation then falls back to ./.notation.
  if (xdg !== undefined && xdg !== '') return path.isAbsolute(xdg) ? path.join(xdg, 'notation') : '.notation';
  return path.join(home, '.config', 'notation');
}

/**
 * The trust policy notation v1.3 uses: trustpolicy.oci.json in its config directory, else
 * trustpolicy.json there (verifier/trustpolicy/oci.go LoadOCIDocument).
 */
export function defaultTrustPolicyFile(configDir: string): string {
  const oci = path.join(configDir, 'trustpolicy.oci.json');
  try {
    lstatSync(oci);
    return oci;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return path.join(configDir, 'trustpolicy.json');
    return oci;
  }
}

/**
 * The trust policy document as JSON, for notationSpecOf to check. Refused, as notation-go's
 * getDocument refuses it, when it is a directory or a symlink.
 */
export function readTrustPolicyFile(file: string): unknown {
  const text = readRegularFile(file, NOTATION_FILE_LIMITS.trustPolicyBytes, '--trust-policy', 'the trust policy').toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`--trust-policy: ${file} is not valid JSON (malformed trust policy)`);
  }
}

/**
 * The trust stores a trust policy names (`type:name` in any statement's trustStores), without
 * checking anything else: what is malformed is left for notationSpecOf to refuse with its path.
 */
export function storesNamedBy(trustPolicy: unknown): TrustStoreRef[] {
  const statements = field(trustPolicy, 'trustPolicies');
  const found = new Map<string, TrustStoreRef>();
  for (const statement of Array.isArray(statements) ? statements.slice(0, 1000) : []) {
    const stores = field(statement, 'trustStores');
    for (const name of Array.isArray(stores) ? stores.slice(0, 1000) : []) {
      if (typeof name !== 'string') continue;
      const colon = name.indexOf(':');
      const type = name.slice(0, colon) as TrustStoreType;
      if (colon === -1 || !STORE_TYPES.includes(type)) continue;
      found.set(name, { type, name: name.slice(colon + 1) });
      if (found.size > NOTATION_FILE_LIMITS.stores) throw new UsageError(`--trust-policy: names more than ${NOTATION_FILE_LIMITS.stores} trust stores`);
    }
  }
  return [...found.values()];
}

/**
 * Every named store's certificates as PEM, read from `<dir>/x509/<type>/<name>/` as notation-go's
 * x509TrustStore.GetCertificates reads them: the store must be a directory and not a symlink;
 * every entry in it must be a regular file (a subdirectory or symlink refuses the store), holding
 * PEM or DER certificates; a store without any certificate is refused.
 */
export function readTrustStoreDirectory(dir: string, refs: readonly TrustStoreRef[]): { ref: TrustStoreRef; pem: string }[] {
  const budget = { bytes: NOTATION_FILE_LIMITS.totalBytes };
  return refs.map((ref) => ({ ref, pem: readStore(dir, ref, budget) }));
}

function readStore(dir: string, ref: TrustStoreRef, budget: { bytes: number }): string {
  const label = `trust store "${ref.type}:${ref.name}"`;
  if (!STORE_NAME.test(ref.name) || ref.name === '.' || ref.name === '..') {
    throw new UsageError(`--trust-store: ${label}: a trust store name must be [a-zA-Z0-9_.-]+ (and not . or ..)`);
  }
  const storeDir = path.join(dir, 'x509', ref.type, ref.name);
  let stat;
  try {
    stat = lstatSync(storeDir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UsageError(code === 'ENOENT' ? `--trust-store: ${label} does not exist: no directory ${storeDir}` : `--trust-store: ${label}: cannot read ${storeDir}: ${code}`);
  }
  if (stat.isSymbolicLink() || !stat.isDirectory()) throw new UsageError(`--trust-store: ${label}: ${storeDir} is not a regular directory (symlinks are not supported)`);
  const entries = readdirSync(storeDir, { withFileTypes: true });
  if (entries.length > NOTATION_FILE_LIMITS.filesPerStore) throw new UsageError(`--trust-store: ${label} holds more than ${NOTATION_FILE_LIMITS.filesPerStore} files`);
  const pems: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const file = path.join(storeDir, entry.name);
    if (!entry.isFile()) throw new UsageError(`--trust-store: ${label}: ${entry.name} is not a regular file (directories or symlinks are not supported)`);
    const bytes = readRegularFile(file, Math.min(NOTATION_FILE_LIMITS.fileBytes, budget.bytes), '--trust-store', `${label}: ${entry.name}`);
    budget.bytes -= bytes.length;
    const pem = certificatesPem(bytes);
    if (pem === undefined) throw new UsageError(`--trust-store: ${label}: ${entry.name} holds no PEM or DER certificate`);
    pems.push(pem);
  }
  if (pems.length === 0) throw new UsageError(`--trust-store: no x509 certificates were found in ${label} (${storeDir})`);
  return pems.join('');
}

/**
 * A regular file's bytes, opened without following a symlink (so it cannot be swapped for one
 * between the check and the read) and read no further than `max` bytes.
 */
function readRegularFile(file: string, max: number, flag: string, what: string): Buffer {
  let fd;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    if (code === 'ELOOP') throw new UsageError(`${flag}: ${what}: ${file} is a symlink (symlinks are not supported)`);
    throw new UsageError(`${flag}: ${what}: cannot read ${file}: ${code}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new UsageError(`${flag}: ${what}: ${file} is not a regular file`);
    if (stat.size > max) throw new UsageError(`${flag}: ${what}: ${file} is larger than ${max} bytes`);
    const buffer = Buffer.alloc(stat.size);
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
}
