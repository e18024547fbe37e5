// The seam every kind of trust plugs into (docs/adr/0009-trust-kinds.md): Notary v1 (Docker
// Content Trust), cosign (Sigstore) and, later, Notation. The webhook, its cache and its
// policies see only what is here; each kind's verifier lives in src/trust/<kind>/.
import type { ImageReference } from '../reference/index.js';
import type { Credentials } from '../registry/credentials.js';

/** The kinds of trust, a fixed set: they are metric labels and annotation values. */
export const TrustKind = { NOTARY: 'notary', COSIGN: 'cosign', NOTATION: 'notation' } as const;
export type TrustKind = (typeof TrustKind)[keyof typeof TrustKind];

export const TRUST_KINDS: readonly TrustKind[] = Object.values(TrustKind);

/** What a Notary v1 verification rests on. */
export interface NotaryEvidence {
  readonly kind: typeof TrustKind.NOTARY;
  readonly trustServer: string;
  /** Canonical ID of the root key that signed the root. */
  readonly rootKeyId: string | undefined;
  readonly trustOnFirstUse: boolean;
  /** Tags signed with the digest. */
  readonly signedTags: readonly string[];
  /** The roles whose signatures decided it (`targets`, `targets/releases`, …). */
  readonly signedBy: readonly string[];
}

/** One cosign signature that verified. */
export interface CosignSignatureEvidence {
  /** `legacy`: a layer of the `sha256-<hex>.sig` tag; `bundle`: a Sigstore bundle referrer. */
  readonly format: 'legacy' | 'bundle';
  /** The manifest that carried it. */
  readonly manifestDigest: string;
  /** Keyed: the SHA-256 of the public key's SPKI DER, hex. */
  readonly keyId?: string;
  /** Keyless: the certificate's identity (SAN) and its OIDC issuer. */
  readonly identity?: { readonly subject: string; readonly issuer: string };
  /** The transparency-log entry that proved the signing time, when one was checked. */
  readonly tlog?: { readonly logIndex: number; readonly integratedTime: number };
}

export interface CosignEvidence {
  readonly kind: typeof TrustKind.COSIGN;
  readonly registry: string;
  readonly signatures: readonly CosignSignatureEvidence[];
}

export interface NotationEvidence {
  readonly kind: typeof TrustKind.NOTATION;
  readonly registry: string;
  /** Subjects of the signing certificates that verified. */
  readonly signers: readonly string[];
  readonly level: string;
}

export type Evidence = NotaryEvidence | CosignEvidence | NotationEvidence;

/** What every kind's verification proves about an image: what to run and why it may run. */
export interface Verified {
  readonly kind: TrustKind;
  /** Normalised name. */
  readonly image: string;
  /** The reference as written, pinned: `name:tag@sha256:…`, or `name@sha256:…` for digests. */
  readonly reference: string;
  readonly digest: string;
  /** The tag looked up; undefined for `name@digest`. */
  readonly tag: string | undefined;
  /** Admitted without any signature being looked at (Notary's allowUnsignedDigests). */
  readonly unchecked: boolean;
  /** When the evidence behind this answer stops being good (ms since epoch); caches never keep it longer. */
  readonly expires: number;
  readonly evidence: Evidence;
}

/** What a verification is given besides the image and the authority. */
export interface VerifyContext {
  /** Credentials for the image's registry (and its trust server), chosen per docs/adr/0005. */
  readonly credentials: Credentials | undefined;
  /** Aborted when the review's deadline passes: stop fetching. */
  readonly signal: AbortSignal;
  /** The whole verification, every fetch included. */
  readonly timeoutMs: number;
}

/**
 * One kind's verifier. `S` is the compiled authority spec of that kind (src/policy/types.ts).
 * Failures are thrown as TrustError with a code of the denial-code registry.
 */
export interface KindVerifier<S> {
  readonly kind: TrustKind;
  /**
   * Everything of the spec that decides the answer, as a string: part of the verification cache
   * key beside the image and the credentials. Two specs with the same key must give the same
   * answer for every image. Computed once per compiled spec (memoise on the object).
   */
  specKey(spec: S): string;
  /** The server the verification talks to for `ref` (trust server or registry), for fair share and cache keys. */
  endpoint(ref: ImageReference, spec: S): string;
  verify(ref: ImageReference, spec: S, ctx: VerifyContext): Promise<Verified>;
}
