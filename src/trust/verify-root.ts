// Root trust, as notary's trustpinning.ValidateRoot and tuf.RepoBuilder.LoadRootForUpdate do it.
import { sha256 } from './encoding.js';
import { TrustError } from './errors.js';
import { Keyring, short } from './keyring.js';
import { KeyType, type PublicKey } from './keys.js';
import type { TrustLimits } from './limits.js';
import { parseRoot, type RootMetadata, type Signed } from './metadata.js';
import { hasPins, isPinned, lapsedCaPin, type RootPins } from './pins.js';
import { checkExpiry, checkThreshold, checkVersion } from './verify-role.js';

/** A root this process trusts, with what later roles need from it. */
export interface TrustedRoot {
  readonly doc: Signed<RootMetadata>;
  readonly keyring: Keyring;
  readonly version: number;
  readonly sha256: Buffer;
  /** Root keys that signed this root and passed the certificate checks. */
  readonly signers: readonly PublicKey[];
  /** No pin was configured: the first root seen was believed. */
  readonly trustOnFirstUse: boolean;
}

/** Where a root stands in a rotation walk. */
export interface RootStep {
  /** The version `<n>.root.json` must hold; undefined for the current `root.json`. */
  readonly expectVersion: number | undefined;
  /** The newest root: the one that will be trusted. */
  readonly final: boolean;
  readonly pins: RootPins;
}

export interface RootContext {
  readonly gun: string;
  readonly now: number;
  readonly limits: TrustLimits;
}

/**
 * Trusts a root with nothing to chain from: its own root keys must sign it (threshold), each
 * counted key must be a valid leaf certificate for this GUN, and when pins are given the
 * threshold must be met by pinned keys alone (notary trustpinning: pinned certs replace TOFU).
 */
export function verifyBootstrapRoot(bytes: Buffer, pins: RootPins, known: number | undefined, ctx: RootContext): TrustedRoot {
  const doc = parseRoot(bytes, ctx.limits);
  const keyring = new Keyring(doc.body.keys, 'root');
  const certified = certifiedRootKeys(doc.body, keyring, ctx);
  const signers = checkThreshold(doc, { keyids: certified.map((k) => k.id), threshold: doc.body.roles.root.threshold }, keyring);
  if (hasPins(pins)) checkPins(doc, keyring, certified, pins, ctx);
  checkExpiry('root', doc.body.expires, ctx.now);
  checkVersion('root', doc.body.version, known);
  return trusted(doc, keyring, signers, !hasPins(pins));
}

/**
 * Trusts the next root in a rotation: the previous root's keys must sign it (their threshold)
 * as well as its own; only the newest is checked for expiry, as in LoadRootForUpdate.
 *
 * The newest must also meet the pins, as notary's ValidateRoot checks a new root against the
 * trust pinning "regardless of having a previous root": a rotation signed by a pinned root does
 * not carry the pin over to keys nobody pinned. Unlike notary's client, which takes a valid
 * on-disk root as its pin, trustgate keeps roots only in memory, so this makes a process that
 * trusted an older root answer as a freshly started one does. Intermediate roots are not held to
 * the pins: notary skips them whenever the old root signed the newest, and the newest decides.
 */
export function verifyRootUpdate(prev: TrustedRoot, bytes: Buffer, step: RootStep, ctx: RootContext): TrustedRoot {
  const { expectVersion, final, pins } = step;
  const role = expectVersion === undefined ? 'root' : `${expectVersion}.root`;
  const doc = parseRoot(bytes, ctx.limits, role);
  if (expectVersion !== undefined && doc.body.version !== expectVersion) {
    throw new TrustError('INVALID_METADATA', `${role}.json holds root version ${doc.body.version}`, { role });
  }
  checkVersion('root', doc.body.version, prev.version);
  try {
    checkThreshold(doc, prev.doc.body.roles.root, prev.keyring, `${role} (signed by the previous root's keys)`);
  } catch (error) {
    if (error instanceof TrustError && error.code === 'THRESHOLD_NOT_MET') {
      throw new TrustError('ROOT_KEY_MISMATCH', `new root version ${doc.body.version} is not signed by the keys of root version ${prev.version}: ${error.message}`, { role, cause: error });
    }
    throw error;
  }
  const keyring = new Keyring(doc.body.keys, role);
  const certified = certifiedRootKeys(doc.body, keyring, ctx);
  const signers = checkThreshold(doc, { keyids: certified.map((k) => k.id), threshold: doc.body.roles.root.threshold }, keyring, role);
  if (final && hasPins(pins)) checkPins(doc, keyring, certified, pins, ctx);
  if (final) checkExpiry('root', doc.body.expires, ctx.now);
  return trusted(doc, keyring, signers, prev.trustOnFirstUse);
}

/**
 * A root remembered from an earlier update, held again to the pins that depend on the clock: a
 * pinned CA and the certificate it issued have validity windows, checked at verification time
 * (as notary's caCheck), so a warm process answers as a freshly started one would. Pins by key
 * ID do not change with time and are not checked again.
 */
export function recheckClockPins(root: TrustedRoot, pins: RootPins, ctx: RootContext): void {
  if (pins.cas.length > 0) checkPins(root.doc, root.keyring, root.signers, pins, ctx);
}

/**
 * A root trusted on first use earlier, read back from the trust state (src/trust/trust-state.ts):
 * what notary's client does with the root in ~/.docker/trust (tufclient.go bootstrapClient loads
 * it and validates a newer root against it). Its signatures are checked again (the record is
 * data that left this process) but not its certificates' validity or its expiry: a stored root
 * is the anchor of a rotation walk, and the root finally trusted is checked against the clock.
 */
export function restoreRoot(bytes: Buffer, ctx: RootContext): TrustedRoot {
  const doc = parseRoot(bytes, ctx.limits);
  const keyring = new Keyring(doc.body.keys, 'root');
  const signers = checkThreshold(doc, doc.body.roles.root, keyring);
  return trusted(doc, keyring, signers, true);
}

function trusted(doc: Signed<RootMetadata>, keyring: Keyring, signers: PublicKey[], trustOnFirstUse: boolean): TrustedRoot {
  return { doc, keyring, version: doc.body.version, sha256: sha256(doc.bytes), signers, trustOnFirstUse };
}

/** Root role keys that are leaf x509 certificates for this GUN, valid now (validRootLeafCerts). */
function certifiedRootKeys(root: RootMetadata, keyring: Keyring, ctx: RootContext): PublicKey[] {
  const valid: PublicKey[] = [];
  const problems: string[] = [];
  for (const id of root.roles.root.keyids) {
    let key: PublicKey | undefined;
    try {
      key = keyring.get(id);
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
      continue;
    }
    const problem = key === undefined ? 'is not in root.keys' : certificateProblem(key, ctx);
    if (problem === undefined && key) valid.push(key);
    else problems.push(`root key ${short(id)} ${problem ?? ''}`);
  }
  if (valid.length < root.roles.root.threshold) {
    throw new TrustError(
      'INVALID_ROOT_CERTIFICATE',
      `root of ${ctx.gun} has ${valid.length} usable root certificate(s), ${root.roles.root.threshold} required: ${problems.join('; ')}`,
      { role: 'root' },
    );
  }
  return valid;
}

/**
 * How far in the future a root certificate's notBefore may lie: a publisher's clock ahead of
 * ours must not refuse a freshly initialised repository. notary allows one day, and none on
 * notAfter (tuf/utils/x509.go ValidateCertificate: "Give one day leeway on creation 'before' time").
 */
export const NOT_BEFORE_LEEWAY_MS = 86_400_000;

function certificateProblem(key: PublicKey, ctx: RootContext): string | undefined {
  const cert = key.certificate;
  if (!cert || (key.keytype !== KeyType.ECDSA_X509 && key.keytype !== KeyType.RSA_X509)) return 'is not an x509 certificate';
  if (cert.ca) return 'is a CA certificate, not a leaf';
  const cn = commonNames(cert.subject);
  if (cn.length !== 1 || cn[0] !== ctx.gun) return `is for "${cn.join(',').slice(0, 100)}", not ${ctx.gun}`;
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (!(from <= ctx.now + NOT_BEFORE_LEEWAY_MS)) return `is not valid before ${cert.validFrom} (more than a day ahead of this clock)`;
  if (!(ctx.now < to)) return `expired on ${cert.validTo}`;
  return undefined;
}

function commonNames(subject: string): string[] {
  return subject.split('\n').filter((line) => line.startsWith('CN=')).map((line) => line.slice(3));
}

function checkPins(doc: Signed<RootMetadata>, keyring: Keyring, certified: readonly PublicKey[], pins: RootPins, ctx: RootContext): void {
  const gun = ctx.gun;
  const pinned = certified.filter((key) => isPinned(key, pins, ctx.now));
  const ids = certified.map((k) => k.canonicalId).join(', ');
  if (pinned.length === 0) {
    const lapsed = lapsedCaPin(certified, pins, ctx.now);
    throw new TrustError('ROOT_KEY_MISMATCH', `root of ${gun} is held by key(s) ${ids}, none of which is pinned${lapsed ? `: ${lapsed}` : ''}`, { role: 'root' });
  }
  try {
    checkThreshold(doc, { keyids: pinned.map((k) => k.id), threshold: doc.body.roles.root.threshold }, keyring);
  } catch (cause) {
    throw new TrustError('ROOT_KEY_MISMATCH', `root of ${gun} is not signed by enough pinned keys (root keys: ${ids})`, { role: 'root', cause });
  }
}
