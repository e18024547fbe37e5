// Finding an image's Notation signatures (notation-go registry/repository.go ListSignatures,
// FetchSignatureBlob): referrers of the image with artifact type
// `application/vnd.cncf.notary.signature`, by the referrers API or else the referrers tag schema
// (the registry client does both, src/registry/oci/referrers.ts); each an image manifest with
// exactly one layer, the envelope, whose media type names its format. Every fetch is bounded
// (./limits.ts) and held from the registry client's shared byte budget; nothing here decides trust.
import type { RegistryClient, RegistryConnection } from '../../registry/oci/types.js';
import { MediaType } from '../../registry/oci/types.js';
import { isTrustError, TrustErrorCode } from '../errors.js';
import { NotationMediaType } from './envelope.js';
import { asObject, readJson } from './json.js';
import { MAX_ENVELOPE_BYTES, MAX_MANIFEST_BYTES, MAX_SIGNATURE_BYTES_PER_IMAGE, MAX_SIGNATURES } from './limits.js';

export type FoundSignature =
  | { readonly manifestDigest: string; readonly mediaType: string; readonly envelope: Buffer }
  /** Found but not fetched or not readable as a signature: counts as a failed one. */
  | { readonly manifestDigest: string; readonly unreadable: { readonly code: TrustErrorCode; readonly reason: string } };

/** Failures of one signature's fetch that leave the others worth trying. */
const PER_SIGNATURE: ReadonlySet<string> = new Set([TrustErrorCode.TOO_LARGE, TrustErrorCode.HASH_MISMATCH, TrustErrorCode.INVALID_METADATA, TrustErrorCode.REGISTRY_ERROR]);

/**
 * The signature manifests of `digest`, each to be fetched when its turn comes; together they may
 * read at most MAX_SIGNATURE_BYTES_PER_IMAGE (manifests and envelopes).
 */
export async function discoverSignatures(client: RegistryClient, conn: RegistryConnection, repository: string, digest: string): Promise<(() => Promise<FoundSignature>)[]> {
  const referrers = await client.referrers(conn, repository, digest, NotationMediaType.SIGNATURE, MAX_SIGNATURES);
  const bytes: ByteBudget = { remaining: MAX_SIGNATURE_BYTES_PER_IMAGE };
  return referrers.map((d) => () => fetchSignature(client, conn, repository, d.digest, d.mediaType, bytes));
}

/** Bytes one image's signature fetches may still read; fetches in flight reserve their limit. */
export interface ByteBudget {
  remaining: number;
}

export async function fetchSignature(client: RegistryClient, conn: RegistryConnection, repository: string, manifestDigest: string, descriptorType: string, bytes: ByteBudget = { remaining: MAX_SIGNATURE_BYTES_PER_IMAGE }): Promise<FoundSignature> {
  const unreadable = (code: TrustErrorCode, reason: string): FoundSignature => ({ manifestDigest, unreadable: { code, reason } });
  const spent = (): FoundSignature => unreadable(TrustErrorCode.TOO_LARGE, `the ${MAX_SIGNATURE_BYTES_PER_IMAGE} bytes this image's signatures may read are spent`);
  // notation-go getSignatureBlobDesc: an OCI image manifest (or the retired artifact manifest,
  // which OCI 1.1 registries no longer serve) whose layers are exactly one envelope.
  if (descriptorType !== MediaType.OCI_MANIFEST) return unreadable(TrustErrorCode.SIGNATURE_INVALID, `the signature manifest is ${JSON.stringify(descriptorType.slice(0, 80))}, not an OCI image manifest`);
  try {
    // Reserve the most a fetch may read before it starts (fetches run concurrently), then give back what it did not.
    const manifestLimit = Math.min(MAX_MANIFEST_BYTES, bytes.remaining);
    if (manifestLimit <= 0) return spent();
    bytes.remaining -= manifestLimit;
    // A fetch that fails keeps its whole reservation: failures an attacker causes cost the budget too.
    const manifest = await client.manifest(conn, repository, manifestDigest, manifestLimit);
    bytes.remaining += manifestLimit - (manifest?.bytes.length ?? 0);
    if (!manifest) return unreadable(TrustErrorCode.REGISTRY_ERROR, 'the signature manifest is gone (404)');
    const layers = asObject(readJson(manifest.bytes))?.layers;
    if (!Array.isArray(layers) || layers.length !== 1) return unreadable(TrustErrorCode.SIGNATURE_INVALID, `the signature manifest must have exactly one envelope layer, it has ${Array.isArray(layers) ? layers.length : 'none'}`);
    const layer = asObject(layers[0]);
    if (!layer || typeof layer.mediaType !== 'string' || typeof layer.digest !== 'string' || typeof layer.size !== 'number') return unreadable(TrustErrorCode.SIGNATURE_INVALID, 'the envelope layer is not a descriptor');
    if (layer.size > MAX_ENVELOPE_BYTES) return unreadable(TrustErrorCode.TOO_LARGE, `an envelope of ${layer.size} bytes, more than ${MAX_ENVELOPE_BYTES}`);
    const blobLimit = Math.min(MAX_ENVELOPE_BYTES, bytes.remaining);
    if (layer.size > blobLimit) return spent();
    bytes.remaining -= blobLimit;
    const envelope = await client.blob(conn, repository, layer.digest, blobLimit);
    bytes.remaining += blobLimit - envelope.length;
    return { manifestDigest, mediaType: layer.mediaType, envelope };
  } catch (e) {
    if (isTrustError(e) && PER_SIGNATURE.has(e.code)) return unreadable(e.code, e.message.slice(0, 160));
    throw e;
  }
}
