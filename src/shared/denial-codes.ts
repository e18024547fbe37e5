// Every code a user can see — a denial's, a CLI refusal's, an HTTP refusal's — in one typed
// registry: who raises it, what fixes it, and whether a verification cache may keep it.
// messages.ts words fixes from here; test/unit/docs/error-codes.test.ts reads this registry to
// check that docs/troubleshooting.md explains every code. A leaf module: every layer may use it.

/**
 * Who raises a code. `trust`: any kind of trust (network, limits, options); `signatures`: the
 * kinds whose signatures live in the registry beside the image (cosign, Notation); a kind's name:
 * only that kind's verifier (the values of TrustKind in src/trust/kind.ts); `admission`: the decision;
 * `request`: the HTTP layer, before any review; `cli`: the command line only.
 */
export type CodeOwner = 'trust' | 'signatures' | 'notary' | 'cosign' | 'notation' | 'admission' | 'request' | 'cli';

/**
 * What a verification cache does with a refusal (src/admission/verification-cache.ts):
 * `negative`: kept for the negative TTL, so a broken image does not hammer its server;
 * `unpublished`: cured by publishing (a signature not pushed yet): never kept, else a freshly
 * signed image stays refused for the negative TTL; `transient`: says as much about this
 * process's load as about the image (another namespace's flood can starve a lookup of a healthy
 * server): never kept; `none`: not a verification's answer.
 */
export type CodeCaching = 'negative' | 'unpublished' | 'transient' | 'none';

export interface CodeInfo {
  readonly owner: CodeOwner;
  /** The fix a denial line ends with; undefined for codes no denial carries. */
  readonly fix: string | undefined;
  readonly caching: CodeCaching;
}

/** A code's entry; its owner stays a literal type, so TrustCode can pick the trust codes. */
const entry = <O extends CodeOwner>(owner: O, fix: string | undefined, caching: CodeCaching) => ({ owner, fix, caching }) as const;
const trust = (fix: string, caching: CodeCaching = 'negative') => entry('trust', fix, caching);
const notary = (fix: string, caching: CodeCaching = 'negative') => entry('notary', fix, caching);
const signatures = (fix: string, caching: CodeCaching = 'negative') => entry('signatures', fix, caching);
const cosign = (fix: string, caching: CodeCaching = 'negative') => entry('cosign', fix, caching);
const notation = (fix: string, caching: CodeCaching = 'negative') => entry('notation', fix, caching);
const admission = (fix: string | undefined) => entry('admission', fix, 'none');
const request = entry('request', undefined, 'none');

export const DENIAL_CODES = {
  // Any kind of trust.
  TIMEOUT: trust('the trust server or registry is slow or unreachable; retry, and check its health', 'transient'),
  UNREACHABLE: trust('check the trust server address and its CA (policy trust.server, trust.caBundle)'),
  SERVER_ERROR: trust('check the trust server\'s logs'),
  AUTH_FAILED: trust('give the pod an imagePullSecret that can read the repository, or fix the credentials'),
  INVALID_OPTION: trust('fix the policy\'s trust settings'),
  TOO_LARGE: trust('the trust server sent more than any real repository needs; suspect it'),

  // Notary v1 (Docker Content Trust).
  NO_TRUST_DATA: notary('sign the image (docker trust sign) or check the policy\'s trust server', 'unpublished'),
  TAG_NOT_SIGNED: notary('sign this tag (docker trust sign IMAGE:TAG) or deploy a signed tag', 'unpublished'),
  DIGEST_NOT_SIGNED: notary('use the signed digest (trustgate verify IMAGE:TAG prints it) or sign this one', 'unpublished'),
  SIGNER_MISSING: notary('have the required signer sign this tag, or change the policy\'s signers', 'unpublished'),
  SIGNER_KEY_MISMATCH: notary('check the signer\'s keys (trustgate inspect IMAGE) against the policy\'s pins'),
  ROOT_KEY_MISMATCH: notary('check the repository\'s root key (trustgate inspect IMAGE) against the policy\'s rootKeys'),
  INVALID_ROOT_CERTIFICATE: notary('the publisher must rotate the root key; check this node\'s clock'),
  EXPIRED: notary('the publisher must re-sign (an expired timestamp means the Notary server is not re-signing)'),
  THRESHOLD_NOT_MET: notary('treat as tampering unless the publisher changed keys'),
  HASH_MISMATCH: notary('treat as tampering or a broken trust server'),
  ROLLBACK: notary('the trust server is serving stale metadata; find out why'),
  DELEGATION_LIMIT: notary('simplify the repository\'s delegations or require a shallower signer'),
  INVALID_METADATA: notary('the trust server does not serve Notary v1 metadata; check the policy\'s trust server'),
  UNSUPPORTED_KEY: notary('the publisher must sign with standard Notary keys'),
  TRUST_STATE_FULL: notary('trustgate holds trust-on-first-use records for trustState.maxRecords repositories; raise it, or pin these repositories\' root keys (rootKeys)', 'transient'),
  TRUST_STATE_UNAVAILABLE: notary('trustgate could not record the repository\'s first trusted root (API server or state file unavailable, or too many new repositories at once); retry', 'transient'),

  // Signatures kept in the registry beside the image: cosign (src/trust/cosign/) and Notation
  // (src/trust/notation/). The same failure has the same code whichever kind found it.
  NO_SIGNATURES: signatures('sign the image (cosign sign or notation sign, IMAGE@DIGEST) or check the policy\'s authority', 'unpublished'),
  SIGNATURE_INVALID: signatures('no signature verifies with the policy\'s keys or certificates: check them (trustgate inspect IMAGE --kind cosign|notation) or re-sign'),
  PAYLOAD_MISMATCH: signatures('the signed payload names another image or digest; treat as tampering, or sign this digest'),
  IDENTITY_MISMATCH: signatures('the signing certificate\'s identity is not one the policy trusts; check the authority\'s identities (cosign) or trustedIdentities (Notation)'),
  CERTIFICATE_INVALID: signatures('the signing certificate does not chain to the trusted root or trust store, or was not valid when it signed; check them'),
  REGISTRY_ERROR: signatures('the registry answered with an error or unusable content; check the registry and its logs'),

  // cosign (Sigstore) only.
  TLOG_INVALID: cosign('the transparency-log entry is missing or does not verify; sign with the log, or turn the check off explicitly for keys signed offline'),

  // Notation (the Notary Project) only: src/trust/notation/.
  NO_TRUST_POLICY: notation('no statement of the authority\'s trust policy has a registryScope for this repository; add it, or a statement for "*"'),
  UNSUPPORTED_SIGNATURE: notation('the signature uses what the Notary Project specification does not define (an unknown critical attribute, signing scheme, envelope or algorithm); re-sign with notation'),
  SIGNATURE_EXPIRED: notation('the signature\'s expiry has passed; the publisher must re-sign (notation sign --expiry), or override expiry in the trust policy'),
  TIMESTAMP_INVALID: notation('the signing certificate is not valid now and no trusted timestamp proves it was when it signed; re-sign, or add the TSA\'s root to a tsa trust store'),
  REVOCATION_UNAVAILABLE: notation('a certificate names CRL or OCSP servers, which trustgate does not query; at level strict that refuses: use permissive, or override revocation to log or skip'),

  // Admission.
  INVALID_REFERENCE: admission('write the image as docker accepts it (lowercase, sha256 digests)'),
  POLICY_DENIED: admission('this image is denied by policy; use an allowed image or ask the cluster admins'),
  POLICY_REFUSED: admission('fix the policy: kubectl get imagepolicy/clusterimagepolicy NAME -o jsonpath={.status.message} says why it was refused'),
  NO_POLICY: admission('ask the cluster admins for a policy that covers this image'),
  TOO_MANY_IMAGES: admission('split the workload: no real pod names this many distinct images'),
  TOO_MANY_PULL_SECRETS: admission('list at most 64 imagePullSecrets; one dockerconfigjson secret can hold many registries'),
  DIGEST_CONFLICT: admission('policies or authorities resolve the tag to different digests; align their trust servers, or sign the same digest with every kind'),
  NOT_PINNED: admission('another mutating webhook rewrote the image after trustgate pinned it; stop it changing images, or deploy IMAGE:TAG@DIGEST'),
  UNSUPPORTED_KIND: admission(undefined),
  MALFORMED_OBJECT: admission(undefined),

  // The HTTP layer: refused before any review (src/server).
  CLIENT_CERT_REQUIRED: request,
  CLIENT_NOT_ALLOWED: request,
  REVIEW_TOO_COMPLEX: request,
  OVERLOADED: request,

  // The command line only.
  INVALID_CREDENTIALS: entry('cli', undefined, 'none'),
} as const satisfies Readonly<Record<string, CodeInfo>>;

export type DenialCode = keyof typeof DENIAL_CODES;

/** The codes a trust verification may fail with: `trust` and every kind's. */
export type TrustCode = { [C in DenialCode]: (typeof DENIAL_CODES)[C]['owner'] extends 'trust' | 'signatures' | 'notary' | 'cosign' | 'notation' ? C : never }[DenialCode];

export const DENIAL_CODE_NAMES: readonly DenialCode[] = Object.freeze(Object.keys(DENIAL_CODES) as DenialCode[]);

export function isDenialCode(code: string): code is DenialCode {
  return Object.hasOwn(DENIAL_CODES, code);
}

/** Codes of these owners, in registry order. */
export function codesOf(...owners: CodeOwner[]): DenialCode[] {
  return DENIAL_CODE_NAMES.filter((c) => owners.includes(DENIAL_CODES[c].owner));
}

/** Whether a verification cache may keep a refusal with this code (for the negative TTL). */
export function isCacheableRefusal(code: string): boolean {
  return isDenialCode(code) && DENIAL_CODES[code].caching === 'negative';
}
