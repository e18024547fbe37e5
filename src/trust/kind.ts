// The seam every kind of trust plugs into (docs/adr/0009-trust-kinds.md): Notary v1 (Docker
// Content Trust), cosign (Sigstore) and, later, Notation. The webhook, its cache and its
// policies see only what is here; each kind's verifier lives in src/trust/<kind>/.
import type { ImageReference } from '../reference/index.js';
import type { Credentials } from '../registry/credentials.js';
import type { Guard } from '../shared/guard.js';

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

/** One Notation signature that verified (src/trust/notation/). */
export interface NotationSignatureEvidence {
  /** `jws`: application/jose+json; `cose`: application/cose. */
  readonly envelope: 'jws' | 'cose';
  /** The signature manifest (a referrer, or found by the tag schema). */
  readonly manifestDigest: string;
  /** `notary.x509` or `notary.x509.signingAuthority`. */
  readonly signingScheme: string;
  /** The signing (leaf) certificate's subject, as an RFC 4514 string. */
  readonly signer: string;
  /** SHA-256 of the leaf certificate's DER, hex: who signed, for minSignatures-style counting. */
  readonly certificate: string;
  /** The signing time the signature claims (ms since epoch), or the TSA's when timestamped. */
  readonly signedAt: number | undefined;
  /** The signature's own expiry (ms since epoch), when it has one. */
  readonly expiry: number | undefined;
}

export interface NotationEvidence {
  readonly kind: typeof TrustKind.NOTATION;
  readonly registry: string;
  /** The trust policy statement that applied (its `name`). */
  readonly trustPolicy: string;
  /** Its level: `strict`, `permissive`, `audit` or `skip`. */
  readonly level: string;
  readonly signatures: readonly NotationSignatureEvidence[];
  /**
   * Checks the level only logs that failed (trust-store-trust-policy.md: a `log` action): e.g.
   * `expiry: …` under permissive. The decision log carries them; they never refuse.
   */
  readonly logged: readonly string[];
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
  /**
   * Set only on an answer reused while its server could not be asked (an outage): the
   * verification cache's (src/admission/verification-cache.ts, docs/adr/0014). Absent otherwise.
   */
  readonly stale?: StaleAnswer;
}

/** Why an answer was not refreshed, and until when it may stand in. */
export interface StaleAnswer {
  /** The outage's code: TIMEOUT, UNREACHABLE or SERVER_ERROR. */
  readonly code: string;
  /** ms since epoch: the earliest expiry of its evidence, or the `cache.staleForSeconds` bound. */
  readonly until: number;
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

/**
 * A compiled authority spec: what one kind's verifier needs, checked and parsed once when the
 * policy is. It carries its kind, so the verification cache dispatches on it
 * (src/admission/verifier.ts). Plain data: compiled once, shared by every review.
 */
export interface AuthoritySpec {
  readonly kind: TrustKind;
}

/**
 * How one kind reads its authority in a policy: `spec.authorities[i].<kind>` (and, for Notary,
 * v1alpha1's `spec.trust`). Registered in src/policy/authorities.ts beside the other kinds.
 */
export interface AuthorityParser<S extends AuthoritySpec> {
  readonly kind: TrustKind;
  /**
   * Checks and compiles the kind's object found at `path` (`spec.authorities[1].cosign`),
   * reporting every problem on `g` with its field path; undefined when there is any. A verify
   * policy's authority must be anchored (name whose keys it trusts): refuse one that is not.
   */
  parse(g: Guard, value: unknown, path: string): S | undefined;
  /**
   * Whether the spec chooses its own connection (a server, or a CA for the default one): in an
   * ImagePolicy such an authority carries only the namespace's own credentials (docs/adr/0005).
   */
  choosesConnection(spec: S): boolean;
  /**
   * Pinned keys, certificates and roots in the raw, unparsed object: what counts against a
   * namespace's budget (NAMESPACE_BUDGET.keys). Must not parse anything: it runs before parsing.
   */
  rawKeyCount(value: unknown): number;
  /**
   * What the raw object costs once compiled, for the namespace budget (src/policy/budget.ts):
   * keys as rawKeyCount, pattern states, and trusted roots by content (shared ones count once).
   * Must not parse anything. A kind without it costs its rawKeyCount in keys only.
   */
  rawCost?(value: unknown): AuthorityCost;
}

/** What an authority costs once compiled (AuthorityParser.rawCost). */
export interface AuthorityCost {
  readonly keys: number;
  /** Program states of its identity patterns (upper bound, estimated from their text). */
  readonly patternStates: number;
  /** Trusted roots it names: by content digest (`id`), with their length in characters. */
  readonly trustedRoots: readonly { readonly id: string; readonly bytes: number }[];
}
