// cosign behind the trust-kind seam (src/trust/kind.ts): the image's digest is resolved NOW (a
// tag's current digest; a pinned digest as written), its signatures are found in its registry,
// each is checked until `minSignatures` verify, and the pod is pinned to that digest — never to
// a digest a signature names, so a later push to the tag cannot change what runs.
import { effectiveTag, formatPinned, type ImageReference } from '../../reference/index.js';
import type { RegistryClient } from '../../registry/oci/types.js';
import { TrustError, TrustErrorCode } from '../errors.js';
import { TrustKind, type CosignSignatureEvidence, type KindVerifier, type Verified, type VerifyContext } from '../kind.js';
import { checkBundle } from './check-bundle.js';
import { checkLegacy } from './check-legacy.js';
import { inOrder } from '../in-order.js';
import { connectionFor, digestOf, furthestCode, refusalListing, type SignatureFailure } from '../registry-kind.js';
import { discoverSignatures } from './discover.js';
import type { KeyBudget } from './keys.js';
import { FETCH_CONCURRENCY, MAX_KEY_OPERATIONS, MAX_MATCH_STEPS, MAX_MESSAGE_LENGTH } from './limits.js';
import { describeOrigin, type FoundSignature, type SignatureCheck } from './signature.js';
import type { CosignSpec } from './spec.js';

/**
 * When failures differ, the code of the signature that got furthest names the denial: a
 * signature by the right signer for another image says more than a stranger's.
 */
const FURTHEST: readonly TrustErrorCode[] = [
  TrustErrorCode.PAYLOAD_MISMATCH,
  TrustErrorCode.IDENTITY_MISMATCH,
  TrustErrorCode.TLOG_INVALID,
  TrustErrorCode.CERTIFICATE_INVALID,
  TrustErrorCode.SIGNATURE_INVALID,
  TrustErrorCode.TOO_LARGE,
  TrustErrorCode.HASH_MISMATCH,
  TrustErrorCode.INVALID_METADATA,
  TrustErrorCode.REGISTRY_ERROR,
];

export class CosignVerifier implements KindVerifier<CosignSpec> {
  readonly kind = TrustKind.COSIGN;

  constructor(private readonly client: RegistryClient) {}

  specKey(spec: CosignSpec): string {
    return spec.key;
  }

  endpoint(ref: ImageReference): string {
    return ref.registry;
  }

  async verify(ref: ImageReference, spec: CosignSpec, ctx: VerifyContext): Promise<Verified> {
    const conn = connectionFor(ref, spec.registry, ctx);
    const digest = await digestOf(this.client, conn, ref);
    const found = await discoverSignatures(this.client, conn, ref.repository, digest);
    if (found.signatures.length === 0) throw new TrustError(TrustErrorCode.NO_SIGNATURES, `${ref.name}@${digest} has no cosign signatures: ${found.looked}`);

    const verified: CosignSignatureEvidence[] = [];
    const failures: SignatureFailure[] = [];
    // Public-key operations (and full keyless checks) for this image, across all its signatures.
    const budget = newBudget();
    // Signatures already fetched resolve as microtasks: without a yield now and then, checking
    // 64 of them would hold the event loop (every other review, /healthz) for their whole sum.
    let ranSince = performance.now();
    for await (const sig of inOrder(found.signatures, FETCH_CONCURRENCY)) {
      if (performance.now() - ranSince > YIELD_AFTER_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        ranSince = performance.now();
      }
      if (conn.signal?.aborted) throw new TrustError(TrustErrorCode.TIMEOUT, `${ref.name}@${digest}: the cosign verification ran out of time after ${failures.length + verified.length} signatures`);
      const result = checkSignature(sig, spec, digest, budget);
      if (!result.ok) failures.push({ origin: describeOrigin(sig), code: result.code, reason: result.reason });
      // minSignatures counts signers: the same key or identity signing twice (or one signature
      // copied into two layers or referrers) is one.
      else if (!verified.some((v) => signerOf(v) === signerOf(result.evidence))) verified.push({ ...result.evidence, manifestDigest: sig.manifestDigest });
      if (verified.length >= spec.minSignatures) break;
    }
    if (verified.length < spec.minSignatures) throw refusal(ref, digest, spec, verified.length, failures);

    const byTag = ref.tag !== undefined || ref.digest === undefined;
    return {
      kind: TrustKind.COSIGN,
      image: ref.name,
      reference: byTag ? formatPinned(ref, digest) : ref.written,
      digest,
      tag: byTag ? effectiveTag(ref) : undefined,
      unchecked: false,
      // A verified signature does not expire (the log proves when a certificate signed); how
      // long a tag's digest is trusted is the verification cache's TTL.
      expires: Number.POSITIVE_INFINITY,
      evidence: { kind: TrustKind.COSIGN, registry: ref.registry, signatures: verified },
    };
  }

}

/** Who made a verified signature: the key, or the certificate's issuer and subject. */
function signerOf(e: CosignSignatureEvidence): string {
  return e.keyId !== undefined ? `key ${e.keyId}` : `identity ${e.identity?.issuer ?? ''} ${e.identity?.subject ?? ''}`;
}

/** Checks one found signature (pure: bytes, spec and digest in, verdict out). */
/** Milliseconds of checks run before the event loop gets a turn. */
const YIELD_AFTER_MS = 10;

/** One image's share of public-key operations and identity-pattern steps. */
function newBudget(): KeyBudget {
  return { remaining: MAX_KEY_OPERATIONS, matchSteps: MAX_MATCH_STEPS };
}

export function checkSignature(sig: FoundSignature, spec: CosignSpec, digest: string, budget: KeyBudget = newBudget()): SignatureCheck {
  if ('unreadable' in sig) return { ok: false, ...sig.unreadable };
  return sig.format === 'legacy' ? checkLegacy(sig, spec, digest, budget) : checkBundle(sig, spec, digest, budget);
}

function refusal(ref: ImageReference, digest: string, spec: CosignSpec, count: number, failures: readonly SignatureFailure[]): TrustError {
  const code = count > 0 ? TrustErrorCode.THRESHOLD_NOT_MET : furthestCode(FURTHEST, failures);
  const head = count > 0
    ? `${ref.name}@${digest}: cosign signatures of ${count} of the ${spec.minSignatures} distinct signers required verified`
    : `${ref.name}@${digest}: none of its ${failures.length} cosign signature${failures.length === 1 ? '' : 's'} verified`;
  return refusalListing(code, head, failures, MAX_MESSAGE_LENGTH);
}
