// Notation behind the trust-kind seam (src/trust/kind.ts): the trust policy statement for the
// repository is chosen, the image's digest resolved NOW (a tag's current digest; a pinned digest
// as written), its signatures found in its registry and checked one by one until one verifies
// (notation-go notation.go Verify: one is enough), and the pod is pinned to that digest.
import { effectiveTag, formatPinned, type ImageReference } from '../../reference/index.js';
import type { RegistryClient, RegistryConnection } from '../../registry/oci/types.js';
import { inOrder } from '../in-order.js';
import { connectionFor, digestOf, furthestCode, refusalListing, type SignatureFailure } from '../registry-kind.js';
import { TrustError, TrustErrorCode } from '../errors.js';
import { TrustKind, type KindVerifier, type NotationSignatureEvidence, type Verified, type VerifyContext } from '../kind.js';
import { readCertificate, type KeyBudget } from './certificates.js';
import { checkSignature, readEnvelope, type TargetDescriptor } from './check.js';
import { discoverSignatures, type FoundSignature } from './discover.js';
import { FETCH_CONCURRENCY, MAX_IMAGE_MANIFEST_BYTES, MAX_KEY_OPERATIONS, MAX_MESSAGE_LENGTH, MAX_PARSE_BYTES_PER_IMAGE, YIELD_AFTER_MS } from './limits.js';
import { selectStatement } from './select.js';
import type { NotationSpec, TrustPolicyStatement } from './types.js';

/** When failures differ, the code of the signature that got furthest names the denial. */
const FURTHEST: readonly TrustErrorCode[] = [
  TrustErrorCode.PAYLOAD_MISMATCH,
  TrustErrorCode.REVOCATION_UNAVAILABLE,
  TrustErrorCode.TIMESTAMP_INVALID,
  TrustErrorCode.SIGNATURE_EXPIRED,
  TrustErrorCode.IDENTITY_MISMATCH,
  TrustErrorCode.CERTIFICATE_INVALID,
  TrustErrorCode.UNSUPPORTED_SIGNATURE,
  TrustErrorCode.SIGNATURE_INVALID,
  TrustErrorCode.TOO_LARGE,
  TrustErrorCode.HASH_MISMATCH,
  TrustErrorCode.INVALID_METADATA,
  TrustErrorCode.REGISTRY_ERROR,
];

export class NotationVerifier implements KindVerifier<NotationSpec> {
  readonly kind = TrustKind.NOTATION;

  constructor(
    private readonly client: RegistryClient,
    /** The clock of expiry and certificate validity (tests). */
    private readonly now: () => number = Date.now,
  ) {}

  specKey(spec: NotationSpec): string {
    return spec.key;
  }

  endpoint(ref: ImageReference): string {
    return ref.registry;
  }

  async verify(ref: ImageReference, spec: NotationSpec, ctx: VerifyContext): Promise<Verified> {
    const statement = selectStatement(spec.trustPolicy, ref.registry, ref.repository);
    if (!statement) throw new TrustError(TrustErrorCode.NO_TRUST_POLICY, `no statement of the trust policy applies to ${ref.registry}/${ref.repository} (and none has registryScopes ["*"])`);
    const conn = connectionFor(ref, spec.registry, ctx);
    const digest = await digestOf(this.client, conn, ref);
    const base = { ref, digest, statement };
    // Level skip (trust-store-trust-policy.md): no signature is fetched or checked.
    if (statement.signatureVerification.level === 'skip') return answer(base, { unchecked: true, expires: Number.POSITIVE_INFINITY, signatures: [], logged: [] });

    const target = await this.describe(conn, ref, digest);
    const found = await discoverSignatures(this.client, conn, ref.repository, digest);
    if (found.length === 0) throw new TrustError(TrustErrorCode.NO_SIGNATURES, `${ref.name}@${digest} has no Notation signatures (no referrers of type application/vnd.cncf.notary.signature)`);

    const failures: SignatureFailure[] = [];
    const budget = { remaining: MAX_KEY_OPERATIONS, parseBytes: MAX_PARSE_BYTES_PER_IMAGE };
    let ranSince = performance.now();
    /** A turn for the event loop when the checks have run YIELD_AFTER_MS since the last. */
    const turn = async (): Promise<void> => {
      if (performance.now() - ranSince <= YIELD_AFTER_MS) return;
      await new Promise<void>((resolve) => setImmediate(resolve));
      ranSince = performance.now();
    };
    for await (const sig of inOrder(found, FETCH_CONCURRENCY)) {
      await turn();
      if (conn.signal?.aborted) throw new TrustError(TrustErrorCode.TIMEOUT, `${ref.name}@${digest}: the Notation verification ran out of time after ${failures.length} signatures`);
      const origin = `signature ${sig.manifestDigest.slice(0, 19)}…`;
      let read: ReturnType<typeof readEnvelope> | undefined;
      if (!('unreadable' in sig)) {
        // The chain is parsed here, a turn between certificates, so no signature holds the loop
        // for its whole chain; checkSignature then finds them in the certificate cache.
        read = readEnvelope(sig.envelope, sig.mediaType);
        for (const [i, der] of read.ok ? read.envelope.certificates.entries() : []) {
          await turn();
          if ('code' in readCertificate(der, i, budget)) break;
        }
        await turn();
      }
      const result = check(sig, statement, spec, target, this.now(), budget, read);
      if (!result.ok) {
        failures.push({ origin, code: result.code, reason: result.reason });
        continue;
      }
      const evidence: NotationSignatureEvidence = { ...result.evidence, manifestDigest: sig.manifestDigest };
      return answer(base, { unchecked: result.untrusted, expires: result.expires, signatures: [evidence], logged: result.logged });
    }
    throw refusal(ref, digest, failures);
  }

  /** The image's descriptor, as the payload must name it: the manifest's media type and size. */
  private async describe(conn: RegistryConnection, ref: ImageReference, digest: string): Promise<TargetDescriptor> {
    const manifest = await this.client.manifest(conn, ref.repository, digest, MAX_IMAGE_MANIFEST_BYTES);
    if (!manifest) throw new TrustError(TrustErrorCode.REGISTRY_ERROR, `${ref.name}@${digest} is not in the registry`);
    return { mediaType: manifest.mediaType, digest, size: manifest.bytes.length };
  }
}

function check(
  sig: FoundSignature,
  statement: TrustPolicyStatement,
  spec: NotationSpec,
  target: TargetDescriptor,
  now: number,
  budget: KeyBudget,
  read: ReturnType<typeof readEnvelope> | undefined,
): ReturnType<typeof checkSignature> {
  if ('unreadable' in sig) return { ok: false, ...sig.unreadable };
  return checkSignature({ envelope: sig.envelope, mediaType: sig.mediaType, statement, spec, target, now, budget, ...(read && { read }) });
}

function answer(
  base: { ref: ImageReference; digest: string; statement: TrustPolicyStatement },
  r: { unchecked: boolean; expires: number; signatures: NotationSignatureEvidence[]; logged: readonly string[] },
): Verified {
  const { ref, digest, statement } = base;
  const byTag = ref.tag !== undefined || ref.digest === undefined;
  return {
    kind: TrustKind.NOTATION,
    image: ref.name,
    reference: byTag ? formatPinned(ref, digest) : ref.written,
    digest,
    tag: byTag ? effectiveTag(ref) : undefined,
    unchecked: r.unchecked,
    expires: r.expires,
    evidence: {
      kind: TrustKind.NOTATION,
      registry: ref.registry,
      trustPolicy: statement.name,
      level: statement.signatureVerification.level,
      signatures: r.signatures,
      logged: r.logged.map((l) => l.slice(0, 300)).slice(0, 16),
    },
  };
}

function refusal(ref: ImageReference, digest: string, failures: readonly SignatureFailure[]): TrustError {
  const head = `${ref.name}@${digest}: none of its ${failures.length} Notation signature${failures.length === 1 ? '' : 's'} verified`;
  return refusalListing(furthestCode(FURTHEST, failures), head, failures, MAX_MESSAGE_LENGTH);
}
