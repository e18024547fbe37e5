// Whether a Fulcio certificate's identity is one the policy names: its SAN (email or URI) and its
// OIDC issuer extension (1.3.6.1.4.1.57264.1.8, else the older .1.1), as cosign's
// --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp] (pkg/cosign/verify.go,
// CheckCertificatePolicy / validateCertIdentity). Exact values compare equal; patterns match
// the whole text (./regexp.ts explains why that differs from cosign).
import type { Signer } from '@sigstore/verify';
import { sigstoreCore } from './sigstore-lib.js';
import type { KeyBudget } from './keys.js';
import { MAX_IDENTITY_LENGTH } from './regexp.js';
import type { IdentityMatcher, TextMatcher } from './spec.js';

export interface CertificateIdentity {
  readonly subject: string;
  readonly issuer: string;
}

/** The identity sigstore-js read from the verified leaf, or undefined when it has none. */
export function identityOf(signer: Signer): CertificateIdentity | undefined {
  const subject = signer.identity?.subjectAlternativeName;
  const issuer = signer.identity?.extensions?.issuer;
  return subject && issuer ? { subject, issuer } : undefined;
}

/** Charges a pattern's worst case over `text` to `budget` and runs it; undefined when unaffordable. */
function matches(m: TextMatcher, text: string, budget: KeyBudget): boolean | undefined {
  if ('exact' in m) return m.exact === text;
  const cost = m.pattern.states * text.length;
  if (budget.matchSteps < cost) return undefined;
  budget.matchSteps -= cost;
  return m.pattern.test(text);
}

/** Whether an identity is too long to be one: real issuers and SANs are URLs and emails. */
function tooLong(id: CertificateIdentity): boolean {
  return id.issuer.length > MAX_IDENTITY_LENGTH || id.subject.length > MAX_IDENTITY_LENGTH;
}

/**
 * Whether `id` is one of `identities`, its pattern steps charged to `budget` (an image's
 * signatures may each claim a different identity); `exhausted` once they are spent.
 */
export function identityMatches(identities: readonly IdentityMatcher[], id: CertificateIdentity, budget: KeyBudget): boolean | 'exhausted' {
  // Refused before any pattern runs: a match costs states × characters, and the text of a
  // claimed (unverified) certificate is whatever whoever pushed it chose.
  if (tooLong(id)) return false;
  for (const m of identities) {
    const issuer = matches(m.issuer, id.issuer, budget);
    if (issuer === undefined) return 'exhausted';
    if (!issuer) continue;
    const subject = matches(m.subject, id.subject, budget);
    if (subject === undefined) return 'exhausted';
    if (subject) return true;
  }
  return false;
}

const FULCIO_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';
const FULCIO_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';

/**
 * The identity a certificate claims, read without verifying it: a cheap first filter, so that
 * signatures of other signers (anyone who can push to the repository can copy in 32 of them)
 * are refused before the chain, the SCT and the log are checked. Undefined when unreadable.
 */
export function claimedIdentity(der: Buffer): CertificateIdentity | undefined {
  try {
    const cert = sigstoreCore().X509Certificate.parse(Buffer.from(der));
    const v2 = cert.extension(FULCIO_ISSUER_V2);
    const issuer = v2 ? v2.valueObj.subs[0]?.value.toString('ascii') : cert.extension(FULCIO_ISSUER_V1)?.value.toString('ascii');
    const subject = cert.subjectAltName;
    return subject && issuer ? { subject, issuer } : undefined;
  } catch {
    return undefined;
  }
}

/** Why `id` is not one of `identities`, for messages; `verified` says whether the certificate was. */
export function identityRefusal(id: CertificateIdentity | undefined, verified: boolean): string {
  if (!id) return 'the certificate names no identity and issuer';
  if (tooLong(id)) return `the certificate's identity or issuer is longer than ${MAX_IDENTITY_LENGTH} characters, which no real one is`;
  return `signed by ${JSON.stringify(id.subject.slice(0, 120))} (issuer ${JSON.stringify(id.issuer.slice(0, 120))})${verified ? '' : ' by its certificate, not checked further'}, not an identity the policy names`;
}
