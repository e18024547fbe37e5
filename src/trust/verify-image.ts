import { formatPinned, type ImageReference } from '../reference/index.js';
import type { Credentials } from '../registry/index.js';
import type { TrustClient } from './client.js';
import type { MetadataFetcher } from './fetcher.js';
import type { RootPins } from './pins.js';
import { resolveReference, type SignerRequirement } from './resolve.js';

export interface VerifyImageOptions {
  readonly server: string;
  readonly pins: RootPins;
  readonly signers: readonly SignerRequirement[];
  /** Admit `name@digest` without looking at trust data, as docker does. */
  readonly allowUnsignedDigests: boolean;
  readonly caBundle: string | undefined;
  readonly credentials: Credentials | undefined;
  readonly timeoutMs: number;
  /** Aborted when nobody waits for the answer any more (the review's deadline): fetching stops. */
  readonly signal?: AbortSignal;
  readonly fetcher?: MetadataFetcher;
}

/** A verified image: what to run and why it may run (Notary's view; notaryVerified makes it the generic Verified). */
export interface VerifiedImage {
  /** Normalised name (the GUN). */
  readonly image: string;
  /** The reference as written, pinned: `name:tag@sha256:…`, or `name@sha256:…` for digests. */
  readonly reference: string;
  readonly digest: string;
  /** The tag looked up; undefined for `name@digest`. */
  readonly tag: string | undefined;
  /** Tags signed with this digest. */
  readonly signedTags: readonly string[];
  readonly signedBy: readonly string[];
  /** Canonical ID of the root key that signed the root. */
  readonly rootKeyId: string | undefined;
  readonly trustOnFirstUse: boolean;
  readonly trustServer: string;
  /** The digest was admitted without trust data (allowUnsignedDigests). */
  readonly unchecked: boolean;
  /** When the metadata behind this answer expires (ms since epoch); Infinity when unchecked. */
  readonly expires: number;
}

/** Verifies one image reference; throws TrustError with the reason when it may not run. */
export async function verifyImage(client: TrustClient, ref: ImageReference, options: VerifyImageOptions): Promise<VerifiedImage> {
  if (ref.digest !== undefined && ref.tag === undefined && options.allowUnsignedDigests) {
    return {
      image: ref.name,
      reference: ref.written,
      digest: ref.digest,
      tag: undefined,
      signedTags: [],
      signedBy: [],
      rootKeyId: undefined,
      trustOnFirstUse: false,
      trustServer: options.server,
      unchecked: true,
      expires: Number.POSITIVE_INFINITY,
    };
  }
  const repo = await client.loadRepository({
    server: options.server,
    gun: ref.name,
    pins: options.pins,
    roles: { all: false, roles: options.signers.map((s) => s.role) },
    caBundle: options.caBundle,
    credentials: options.credentials,
    timeoutMs: options.timeoutMs,
    ...(options.signal && { signal: options.signal }),
    ...(options.fetcher && { fetcher: options.fetcher }),
  });
  const resolution = resolveReference(repo, ref, options.signers);
  const byTag = ref.tag !== undefined || ref.digest === undefined;
  return {
    image: ref.name,
    reference: byTag ? formatPinned(ref, resolution.digest) : ref.written,
    digest: resolution.digest,
    tag: byTag ? resolution.tags[0] : undefined,
    signedTags: resolution.tags,
    signedBy: resolution.signedBy,
    rootKeyId: repo.root.signers[0]?.canonicalId,
    trustOnFirstUse: repo.root.trustOnFirstUse,
    trustServer: options.server,
    unchecked: false,
    expires: repo.expires,
  };
}
