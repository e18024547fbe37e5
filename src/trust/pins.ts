import { createPublicKey, X509Certificate } from 'node:crypto';
import { TrustError } from './errors.js';
import { keyId, type PublicKey } from './keys.js';

/** What the operator trusts a repository's root to be; empty means trust on first use. */
export interface RootPins {
  /** Cert IDs or canonical key IDs (hex). */
  readonly keyIds: ReadonlySet<string>;
  /** CA certificates that must have issued a root certificate (notary's trust_pinning.ca). */
  readonly cas: readonly X509Certificate[];
}

export const NO_PINS: RootPins = Object.freeze({ keyIds: new Set<string>(), cas: [] });

export function hasPins(pins: RootPins): boolean {
  return pins.keyIds.size > 0 || pins.cas.length > 0;
}

const KEY_ID_RE = /^[a-f0-9]{64}$/;

/**
 * Reads one pin: a 64-hex key ID (cert or canonical), a PEM public key, a PEM leaf certificate
 * (pins its public key, so re-encoded copies of the same certificate still match) or a PEM CA
 * certificate (pins whatever it issued).
 */
export function parsePins(values: readonly string[]): RootPins {
  const keyIds = new Set<string>();
  const cas: X509Certificate[] = [];
  values.forEach((value, i) => {
    const text = value.trim();
    if (KEY_ID_RE.test(text.toLowerCase())) {
      keyIds.add(text.toLowerCase());
    } else if (text.includes('-----BEGIN CERTIFICATE-----')) {
      const cert = readCertificate(text, i);
      if (cert.ca) cas.push(cert);
      else keyIds.add(bareKeyId(cert.publicKey.export({ format: 'der', type: 'spki' }), cert.publicKey.asymmetricKeyType));
    } else if (text.includes('-----BEGIN PUBLIC KEY-----')) {
      keyIds.add(publicKeyPinId(text, i));
    } else {
      throw new TrustError('INVALID_OPTION', `root key pin [${i}] is neither a 64-hex key ID nor a PEM public key or certificate`);
    }
  });
  return { keyIds, cas };
}

function readCertificate(pem: string, i: number): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (cause) {
    throw new TrustError('INVALID_OPTION', `root key pin [${i}] is not a readable PEM certificate`, { cause });
  }
}

function publicKeyPinId(pem: string, i: number): string {
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType === 'ed25519') {
      const raw = Buffer.from(key.export({ format: 'jwk' }).x ?? '', 'base64url');
      return keyId('ed25519', raw);
    }
    return bareKeyId(key.export({ format: 'der', type: 'spki' }), key.asymmetricKeyType);
  } catch (cause) {
    if (cause instanceof TrustError) throw cause;
    throw new TrustError('INVALID_OPTION', `root key pin [${i}] is not a readable PEM public key`, { cause });
  }
}

function bareKeyId(spki: Buffer, type: string | undefined): string {
  if (type !== 'ec' && type !== 'rsa') throw new TrustError('INVALID_OPTION', `root key pins must be ECDSA, RSA or Ed25519 keys, not ${String(type)}`);
  return keyId(type === 'ec' ? 'ecdsa' : 'rsa', spki);
}

/**
 * True when the key is pinned by either of its IDs, or its certificate was issued by a pinned CA
 * that is valid at `now`, the certificate itself valid at `now` too. notary ignores a pinned CA
 * outside its validity window (trustpinning/trustpin.go NewTrustPinChecker:
 * utils.ValidateCertificate(caCert, true)) and verifies the chain at the current time with no
 * leeway (caCheck: leafCert.Verify, whose isValid checks every certificate's NotBefore and
 * NotAfter): the day a root certificate may start ahead of the clock does not apply here.
 */
export function isPinned(key: PublicKey, pins: RootPins, now: number): boolean {
  if (pins.keyIds.has(key.id) || pins.keyIds.has(key.canonicalId)) return true;
  const cert = key.certificate;
  return cert !== undefined && validAt(cert, now) && pins.cas.some((ca) => validAt(ca, now) && issuedBy(cert, ca));
}

/**
 * Why none of `keys` counts as pinned through a CA although a pinned CA issued one: that CA, or
 * the certificate it issued, is outside its validity window at `now`. Undefined when no such
 * chain explains it.
 */
export function lapsedCaPin(keys: readonly PublicKey[], pins: RootPins, now: number): string | undefined {
  for (const ca of pins.cas) {
    const issued = keys.map((k) => k.certificate).filter((c): c is X509Certificate => c !== undefined && issuedBy(c, ca));
    if (issued.length === 0) continue;
    const name = (ca.subject.split('\n').find((line) => line.startsWith('CN=')) ?? ca.subject).slice(0, 200);
    if (!validAt(ca, now)) return `the pinned CA certificate ${name} that issued it ${validity(ca, now)}`;
    const lapsed = issued.find((c) => !validAt(c, now));
    if (lapsed) return `the certificate issued by the pinned CA ${name} ${validity(lapsed, now)} (a chain to a pinned CA has no leeway)`;
  }
  return undefined;
}

/** Inside the validity window, ends included, as Go's x509 Verify (notary's caCheck). */
function validAt(cert: X509Certificate, now: number): boolean {
  return Date.parse(cert.validFrom) <= now && now <= Date.parse(cert.validTo);
}

function validity(cert: X509Certificate, now: number): string {
  return now < Date.parse(cert.validFrom) ? `is not valid before ${cert.validFrom}` : `expired on ${cert.validTo}`;
}

function issuedBy(cert: X509Certificate, ca: X509Certificate): boolean {
  return cert.checkIssued(ca) && cert.verify(ca.publicKey);
}
