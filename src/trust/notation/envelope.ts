// What one Notation signature envelope says, once read: both envelope formats (JWS JSON,
// COSE_Sign1) are turned into this one shape (jws.ts, cose.ts), so the checks (check.ts) never
// branch on the format. Names and rules are notation-core-go's (signature/types.go,
// signature/jws/types.go, signature/cose/envelope.go) and the Notary Project's
// signature-specification.md "Signature Envelope".
import type { TrustErrorCode } from '../errors.js';

export const NotationMediaType = {
  /** Artifact type of a signature manifest (notation-go registry/mediatype.go). */
  SIGNATURE: 'application/vnd.cncf.notary.signature',
  JWS: 'application/jose+json',
  COSE: 'application/cose',
  /** The signed payload (notation-go internal/envelope/envelope.go MediaTypePayloadV1). */
  PAYLOAD: 'application/vnd.cncf.notary.payload.v1+json',
} as const;

export const SigningScheme = { X509: 'notary.x509', SIGNING_AUTHORITY: 'notary.x509.signingAuthority' } as const;
export type SigningScheme = (typeof SigningScheme)[keyof typeof SigningScheme];

/** Signed attributes' header names, the same in both envelopes (signature-specification.md). */
export const Header = {
  SIGNING_SCHEME: 'io.cncf.notary.signingScheme',
  SIGNING_TIME: 'io.cncf.notary.signingTime',
  AUTHENTIC_SIGNING_TIME: 'io.cncf.notary.authenticSigningTime',
  EXPIRY: 'io.cncf.notary.expiry',
  /** Unsigned: the RFC 3161 countersignature over the signature value. */
  TIMESTAMP_SIGNATURE: 'io.cncf.notary.timestampSignature',
  /** Unsigned: who signed (notation's version), informational only. */
  SIGNING_AGENT: 'io.cncf.notary.signingAgent',
} as const;

/** Signature algorithms of signature-specification.md "Signature Algorithm Requirements". */
export type Algorithm = 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

export interface Envelope {
  readonly format: 'jws' | 'cose';
  /** The algorithm the envelope claims; it must be the one the leaf certificate's key implies. */
  readonly alg: Algorithm;
  readonly signingScheme: SigningScheme;
  /** notary.x509: the claimed signing time; signingAuthority: the authentic signing time (ms). */
  readonly signingTime: number;
  readonly expiry: number | undefined;
  readonly contentType: string;
  readonly payload: Buffer;
  readonly signature: Buffer;
  /** The bytes the signature covers: the JWS signing input, or COSE's Sig_structure. */
  readonly signed: Buffer;
  /** DER, leaf first. */
  readonly certificates: readonly Buffer[];
  readonly timestampToken: Buffer | undefined;
  readonly signingAgent: string | undefined;
  /** Protected headers marked critical that Notation does not define. */
  readonly unknownCritical: readonly string[];
}

export type EnvelopeRead = { readonly ok: true; readonly envelope: Envelope } | { readonly ok: false; readonly code: TrustErrorCode; readonly reason: string };

export const ALGORITHMS: readonly Algorithm[] = ['PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
