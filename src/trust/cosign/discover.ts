// Finding an image's cosign signatures in its repository, in both places cosign writes them:
// the legacy `sha256-<hex>.sig` tag (pkg/oci/remote/remote.go SignatureTag) and, in cosign v3's
// bundle format, OCI referrers of the image with the bundle's artifact type (GetBundles in
// pkg/cosign/verify.go; the registry client falls back to the referrers tag schema). Everything
// fetched is bounded (./limits.ts); nothing here decides trust.
import type { FetchedManifest, RegistryClient, RegistryConnection } from '../../registry/oci/types.js';
import { isTrustError, TrustError, TrustErrorCode } from '../errors.js';
import { asObject, readJson } from './json.js';
import { MAX_BUNDLE_BYTES, MAX_MANIFEST_BYTES, MAX_PAYLOAD_BYTES, MAX_SIGNATURES } from './limits.js';
import { CosignMediaType, type FoundSignature, type SignatureOrigin } from './signature.js';

/** The legacy signature tag of an image digest: `sha256:<hex>` → `sha256-<hex>.sig`. */
export function signatureTag(digest: string): string {
  return `${digest.replace(':', '-')}.sig`;
}

/**
 * Failures of one signature's fetch that leave the others worth trying; the rest (the registry
 * unreachable, slow, refusing our credentials, the review's deadline) end the verification.
 */
const PER_SIGNATURE: ReadonlySet<string> = new Set([TrustErrorCode.TOO_LARGE, TrustErrorCode.HASH_MISMATCH, TrustErrorCode.INVALID_METADATA, TrustErrorCode.REGISTRY_ERROR]);

export interface Discovered {
  /** Lazily fetched signatures, in the order they are to be checked. */
  readonly signatures: readonly (() => Promise<FoundSignature>)[];
  /** Where was looked, for a NO_SIGNATURES message. */
  readonly looked: string;
}

export async function discoverSignatures(client: RegistryClient, conn: RegistryConnection, repository: string, digest: string): Promise<Discovered> {
  const [legacy, referrers] = await Promise.all([
    client.manifest(conn, repository, signatureTag(digest), MAX_MANIFEST_BYTES),
    client.referrers(conn, repository, digest, CosignMediaType.BUNDLE_V03, MAX_SIGNATURES),
  ]);
  const bundles = referrers.map((d) => () => fetchBundle(client, conn, repository, d.digest));
  const layers = legacy ? legacyLayers(client, conn, repository, legacy) : [];
  return {
    // Bundles first: cosign v3 writes them by default, and `cosign verify` prefers them.
    signatures: [...bundles, ...layers],
    looked: `no bundle referrers (${CosignMediaType.BUNDLE_V03}) and ${legacy ? 'no signature layers in' : 'no'} tag ${signatureTag(digest)}`,
  };
}

function legacyLayers(client: RegistryClient, conn: RegistryConnection, repository: string, manifest: FetchedManifest): (() => Promise<FoundSignature>)[] {
  const doc = asObject(readJson(manifest.bytes));
  const origin = { format: 'legacy' as const, manifestDigest: manifest.digest };
  if (!doc || !Array.isArray(doc.layers)) {
    return [() => Promise.resolve(unreadable(origin, TrustErrorCode.SIGNATURE_INVALID, 'the .sig manifest is not an image manifest'))];
  }
  const layers: unknown[] = doc.layers;
  if (layers.length > MAX_SIGNATURES) {
    throw new TrustError(TrustErrorCode.TOO_LARGE, `tag ${manifest.digest.slice(0, 19)}… holds ${layers.length} signature layers, more than the ${MAX_SIGNATURES} examined`);
  }
  return layers.map((item, layer) => async (): Promise<FoundSignature> => {
    const at = { ...origin, layer };
    const d = asObject(item);
    const annotations = readAnnotations(d?.annotations);
    if (!d || d.mediaType !== CosignMediaType.SIMPLE_SIGNING || typeof d.digest !== 'string' || !annotations) {
      return unreadable(at, TrustErrorCode.SIGNATURE_INVALID, `not a simple-signing layer (${CosignMediaType.SIMPLE_SIGNING}) with annotations`);
    }
    if (typeof d.size !== 'number' || d.size > MAX_PAYLOAD_BYTES) return unreadable(at, TrustErrorCode.TOO_LARGE, `payload of ${String(d.size)} bytes, more than ${MAX_PAYLOAD_BYTES}`);
    const digest = d.digest;
    return perSignature(at, async () => ({ ...at, format: 'legacy', payload: await client.blob(conn, repository, digest, MAX_PAYLOAD_BYTES), annotations }));
  });
}

async function fetchBundle(client: RegistryClient, conn: RegistryConnection, repository: string, manifestDigest: string): Promise<FoundSignature> {
  const origin: SignatureOrigin = { format: 'bundle', manifestDigest };
  return perSignature(origin, async () => {
    const manifest = await client.manifest(conn, repository, manifestDigest, MAX_MANIFEST_BYTES);
    if (!manifest) return unreadable(origin, TrustErrorCode.REGISTRY_ERROR, 'the referrer manifest is gone (404)');
    const layers = asObject(readJson(manifest.bytes))?.layers;
    // cosign reads exactly one layer whose media type is a Sigstore bundle's.
    const layer = Array.isArray(layers) && layers.length === 1 ? asObject(layers[0]) : undefined;
    if (!layer || typeof layer.mediaType !== 'string' || !layer.mediaType.startsWith('application/vnd.dev.sigstore.bundle') || typeof layer.digest !== 'string') {
      return unreadable(origin, TrustErrorCode.SIGNATURE_INVALID, 'the referrer is not a manifest with exactly one Sigstore bundle layer');
    }
    if (typeof layer.size !== 'number' || layer.size > MAX_BUNDLE_BYTES) return unreadable(origin, TrustErrorCode.TOO_LARGE, `bundle of ${String(layer.size)} bytes, more than ${MAX_BUNDLE_BYTES}`);
    return { ...origin, format: 'bundle', bundle: await client.blob(conn, repository, layer.digest, MAX_BUNDLE_BYTES) };
  });
}

function readAnnotations(value: unknown): Record<string, string> | undefined {
  const o = asObject(value);
  if (!o || Object.values(o).some((v) => typeof v !== 'string')) return undefined;
  return o as Record<string, string>;
}

function unreadable(origin: SignatureOrigin, code: TrustErrorCode, reason: string): FoundSignature {
  return { ...origin, unreadable: { code, reason } };
}

async function perSignature(origin: SignatureOrigin, fetch: () => Promise<FoundSignature>): Promise<FoundSignature> {
  try {
    return await fetch();
  } catch (e) {
    if (isTrustError(e) && PER_SIGNATURE.has(e.code)) return unreadable(origin, e.code, e.message.slice(0, 160));
    throw e;
  }
}
