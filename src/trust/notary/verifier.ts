// Notary v1 (Docker Content Trust) behind the seam every kind plugs into (src/trust/kind.ts):
// verifyImage and the TrustClient do the work; this names the trust server, keys the cache, and
// turns the answer into the generic Verified with Notary's evidence.
import { createHash } from 'node:crypto';
import type { ImageReference } from '../../reference/index.js';
import { defaultTrustServer } from '../../registry/index.js';
import type { TrustClient } from '../client.js';
import { TrustKind, type AuthoritySpec, type KindVerifier, type NotaryEvidence, type Verified, type VerifyContext } from '../kind.js';
import type { RootPins } from '../pins.js';
import type { SignerRequirement } from '../resolve.js';
import { verifyImage, type VerifiedImage } from '../verify-image.js';

/** How Notary verifies images under a policy: compiled from `spec.trust` or an authority's `notary`. */
export interface NotarySpec extends AuthoritySpec {
  readonly kind: typeof TrustKind.NOTARY;
  /** Notary server; undefined: docker's choice for the image's registry (or serve's config). */
  readonly server: string | undefined;
  readonly caBundle: string | undefined;
  readonly pins: RootPins;
  readonly signers: readonly SignerRequirement[];
  readonly allowUnsignedDigests: boolean;
  /** Set explicitly: no pins, the first root seen is trusted. A verify policy needs pins or this. */
  readonly trustOnFirstUse: boolean;
}

export class NotaryVerifier implements KindVerifier<NotarySpec> {
  readonly kind = TrustKind.NOTARY;

  /**
   * @param servers trust servers by registry host (config `trust.servers`), overriding docker's
   *   default choice for images whose policy names none.
   */
  constructor(
    private readonly client: TrustClient,
    private readonly servers: Readonly<Record<string, string>> = {},
  ) {}

  specKey(spec: NotarySpec): string {
    let key = specKeys.get(spec);
    if (key === undefined) {
      key = JSON.stringify([
        hash(spec.caBundle),
        [...spec.pins.keyIds].sort(),
        spec.pins.cas.map((c) => c.fingerprint256).sort(),
        spec.signers.map((s) => [s.role, [...(s.keys?.keyIds ?? [])].sort(), (s.keys?.cas ?? []).map((c) => c.fingerprint256).sort()]),
        spec.allowUnsignedDigests,
      ]);
      specKeys.set(spec, key);
    }
    return key;
  }

  endpoint(ref: ImageReference, spec: NotarySpec): string {
    return spec.server ?? this.servers[ref.registry] ?? defaultTrustServer(ref.registry);
  }

  async verify(ref: ImageReference, spec: NotarySpec, ctx: VerifyContext): Promise<Verified> {
    return notaryVerified(
      await verifyImage(this.client, ref, {
        server: this.endpoint(ref, spec),
        pins: spec.pins,
        signers: spec.signers,
        allowUnsignedDigests: spec.allowUnsignedDigests,
        caBundle: spec.caBundle,
        credentials: ctx.credentials,
        timeoutMs: ctx.timeoutMs,
        signal: ctx.signal,
      }),
    );
  }
}

/** The policy-dependent part of the cache key, once per compiled spec (it hashes PEM). */
const specKeys = new WeakMap<NotarySpec, string>();

function hash(text: string | undefined): string {
  return text === undefined ? '' : createHash('sha256').update(text).digest('hex').slice(0, 32);
}

/** Notary's answer as every kind's: what to run, and the roots and roles it rests on. */
export function notaryVerified(v: VerifiedImage): Verified {
  const evidence: NotaryEvidence = { kind: TrustKind.NOTARY, trustServer: v.trustServer, rootKeyId: v.rootKeyId, trustOnFirstUse: v.trustOnFirstUse, signedTags: v.signedTags, signedBy: v.signedBy };
  return { kind: TrustKind.NOTARY, image: v.image, reference: v.reference, digest: v.digest, tag: v.tag, unchecked: v.unchecked, expires: v.expires, evidence };
}
