// Whether a Fulcio certificate's identity is one the policy names: its SAN (email or URI) and its
// OIDC issuer extension (1.3.6.1.4.1.57264.1.8, else the older .1.1), as cosign's
// --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp] (pkg/cosign/verify.go,
// CheckCertificatePolicy / validateCertIdentity). Exact values compare equal; patterns match
// the whole text (./regexp.ts explains why that differs from cosign).
import type { Signer } from '@sigstore/verify';
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

function matches(m: TextMatcher, text: string): boolean {
  return 'exact' in m ? m.exact === text : m.pattern.test(text);
}

export function identityMatches(identities: readonly IdentityMatcher[], id: CertificateIdentity): boolean {
  return identities.some((m) => matches(m.issuer, id.issuer) && matches(m.subject, id.subject));
}
