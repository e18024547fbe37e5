// What the Notation verifier reads: the Notary Project's trust policy and trust stores
// (notaryproject/specifications specs/trust-store-trust-policy.md), checked and compiled once
// when a policy or the CLI's files are read (spec.ts, trust-policy.ts, trust-store.ts), and the
// compiled authority, the `S` of KindVerifier<NotationSpec> (verifier.ts).
import type { X509Certificate } from 'node:crypto';
import type { TrustKind } from '../kind.js';

/** Verification levels (trust-store-trust-policy.md "Signature Verification Levels"). */
export const VerificationLevel = { STRICT: 'strict', PERMISSIVE: 'permissive', AUDIT: 'audit', SKIP: 'skip' } as const;
export type VerificationLevel = (typeof VerificationLevel)[keyof typeof VerificationLevel];

/** The validations a level sets an action for. */
export const Validation = {
  INTEGRITY: 'integrity',
  AUTHENTICITY: 'authenticity',
  AUTHENTIC_TIMESTAMP: 'authenticTimestamp',
  EXPIRY: 'expiry',
  REVOCATION: 'revocation',
} as const;
export type Validation = (typeof Validation)[keyof typeof Validation];

/** What a level does when a validation fails: refuse, log and go on, or not check at all. */
export type ValidationAction = 'enforce' | 'log' | 'skip';

/** A statement's `signatureVerification`: its level with `override` applied. */
export interface SignatureVerification {
  readonly level: VerificationLevel;
  /** Every validation's action after `override` (skip: every one is `skip`). */
  readonly actions: Readonly<Record<Validation, ValidationAction>>;
  /** `verifyTimestamp`: `always` (default) or `afterCertExpiry`. */
  readonly verifyTimestamp: 'always' | 'afterCertExpiry';
}

/** Trust store types (trust-store-trust-policy.md "Trust Store"). */
export type TrustStoreType = 'ca' | 'signingAuthority' | 'tsa';

/** A named trust store as a statement names it: `ca:acme` is { type: 'ca', name: 'acme' }. */
export interface TrustStoreRef {
  readonly type: TrustStoreType;
  readonly name: string;
}

/** One attribute of an X.509 distinguished name: `C=US` is { type: 'C', value: 'US' }. */
export interface DnAttribute {
  readonly type: string;
  readonly value: string;
}

/** A `trustedIdentities` entry `x509.subject: <DN>`: the leaf's subject must contain every attribute. */
export interface TrustedIdentity {
  /** The entry as written, for messages. */
  readonly text: string;
  readonly attributes: readonly DnAttribute[];
}

/** One statement of `trustPolicies`. */
export interface TrustPolicyStatement {
  readonly name: string;
  /** `host[:port]/repository` exact, or `*` alone (the default statement). */
  readonly registryScopes: readonly string[];
  readonly signatureVerification: SignatureVerification;
  /** Empty only for level skip. */
  readonly trustStores: readonly TrustStoreRef[];
  /** `*` trusts every identity the trust stores vouch for; empty only for level skip. */
  readonly trustedIdentities: '*' | readonly TrustedIdentity[];
}

/** A trustpolicy.json document (version "1.0"), checked as notation checks it. */
export interface TrustPolicyDocument {
  readonly version: '1.0';
  readonly statements: readonly TrustPolicyStatement[];
}

/** One trust store's certificates. */
export interface TrustStore {
  readonly type: TrustStoreType;
  readonly name: string;
  readonly certificates: readonly X509Certificate[];
}

/** `${type}:${name}`, the key of NotationSpec.trustStores. */
export function trustStoreKey(ref: TrustStoreRef): string {
  return `${ref.type}:${ref.name}`;
}

/** The compiled Notation authority (docs/policy.md "notation"). Plain data, shared by every review. */
export interface NotationSpec {
  readonly kind: typeof TrustKind.NOTATION;
  readonly trustPolicy: TrustPolicyDocument;
  /** Every trust store a statement names, by trustStoreKey; a named store that is missing is refused when compiled. */
  readonly trustStores: ReadonlyMap<string, TrustStore>;
  readonly registry: { readonly insecure: boolean; readonly caBundle: string | undefined };
  /** Everything above that decides an answer, as one string (KindVerifier.specKey). */
  readonly key: string;
}
