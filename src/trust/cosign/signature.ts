// What one cosign signature is, once found in the registry and before any check: both formats
// cosign writes are read into this, so the checks never fetch and never guess at a format.
import type { CosignSignatureEvidence } from '../kind.js';
import type { TrustErrorCode } from '../errors.js';

/** Annotations of a legacy signature layer (cosign pkg/oci/static/signature.go). */
export const LegacyAnnotation = {
  SIGNATURE: 'dev.cosignproject.cosign/signature',
  CERTIFICATE: 'dev.sigstore.cosign/certificate',
  CHAIN: 'dev.sigstore.cosign/chain',
  BUNDLE: 'dev.sigstore.cosign/bundle',
} as const;

/** Media types cosign writes (pkg/types, pkg/oci/remote/write.go). */
export const CosignMediaType = {
  SIMPLE_SIGNING: 'application/vnd.dev.cosign.simplesigning.v1+json',
  BUNDLE_V03: 'application/vnd.dev.sigstore.bundle.v0.3+json',
} as const;

/** In-toto predicate type of `cosign sign` in the bundle format (cosign v3). */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

/** Where a signature was found: for evidence and for messages. */
export interface SignatureOrigin {
  readonly format: 'legacy' | 'bundle';
  /** The signature manifest (`.sig` tag, or the referrer). */
  readonly manifestDigest: string;
  /** Legacy: the layer's index in that manifest. */
  readonly layer?: number;
}

export type FoundSignature =
  | (SignatureOrigin & { readonly format: 'legacy'; readonly payload: Buffer; readonly annotations: Readonly<Record<string, string>> })
  | (SignatureOrigin & { readonly format: 'bundle'; readonly bundle: Buffer })
  /** Found but not fetched or not readable as a signature: counts as a failed one. */
  | (SignatureOrigin & { readonly unreadable: { readonly code: TrustErrorCode; readonly reason: string } });

/** The outcome of checking one signature. */
export type SignatureCheck =
  | { readonly ok: true; readonly evidence: CosignSignatureEvidence }
  | { readonly ok: false; readonly code: TrustErrorCode; readonly reason: string };

export function describeOrigin(o: SignatureOrigin): string {
  const short = o.manifestDigest.slice(0, 19);
  return o.format === 'legacy' ? `.sig layer ${o.layer ?? 0} (${short})` : `bundle ${short}`;
}
