// A RegistryClient over recorded bytes: it serves exactly what a registry would (manifests by
// tag or digest, blobs by digest, referrers of a digest), with the byte limits and digest checks
// the interface promises, so the cosign verifier can be tested on real recorded registry
// contents without a network. Requests are counted, so tests can see what was fetched.
import { createHash } from 'node:crypto';
import type { Descriptor, FetchedManifest, RegistryClient, RegistryConnection } from '../../src/registry/oci/types.js';
import { TrustError } from '../../src/trust/index.js';

export const sha256Digest = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export interface RegistryContents {
  /** `repository` → tag → manifest digest. */
  readonly tags: Map<string, Map<string, string>>;
  /** digest → manifest bytes and media type (any repository: one registry). */
  readonly manifests: Map<string, { bytes: Buffer; mediaType: string }>;
  readonly blobs: Map<string, Buffer>;
}

export class MemoryRegistry implements RegistryClient {
  readonly contents: RegistryContents = { tags: new Map(), manifests: new Map(), blobs: new Map() };
  readonly requests: string[] = [];
  /** The last connection used, to check what the verifier asked for. */
  lastConnection: RegistryConnection | undefined;
  /**
   * Blobs never arrive (a stalled registry): the call waits for the connection's signal and then
   * fails with TIMEOUT, as the real client does when its deadline passes.
   */
  stallBlobs = false;

  putBlob(bytes: Buffer): Descriptor & { bytes: Buffer } {
    const digest = sha256Digest(bytes);
    this.contents.blobs.set(digest, bytes);
    return { mediaType: 'application/octet-stream', digest, size: bytes.length, bytes };
  }

  /** Stores a manifest (its JSON text as given) and tags it when `tag` is set. */
  putManifest(repository: string, bytes: Buffer, tag?: string): string {
    const digest = sha256Digest(bytes);
    const mediaType = (JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType ?? 'application/vnd.oci.image.manifest.v1+json';
    this.contents.manifests.set(digest, { bytes, mediaType });
    if (tag !== undefined) this.tag(repository, tag, digest);
    return digest;
  }

  tag(repository: string, tag: string, digest: string): void {
    const tags = this.contents.tags.get(repository) ?? new Map<string, string>();
    tags.set(tag, digest);
    this.contents.tags.set(repository, tags);
  }

  resolveTag(conn: RegistryConnection, repository: string, tag: string): Promise<string | undefined> {
    this.note(conn, `resolve ${repository}:${tag}`);
    return Promise.resolve(this.contents.tags.get(repository)?.get(tag));
  }

  manifest(conn: RegistryConnection, repository: string, tagOrDigest: string, maxBytes: number): Promise<FetchedManifest | undefined> {
    this.note(conn, `manifest ${repository}@${tagOrDigest}`);
    const digest = tagOrDigest.startsWith('sha256:') ? tagOrDigest : this.contents.tags.get(repository)?.get(tagOrDigest);
    const found = digest === undefined ? undefined : this.contents.manifests.get(digest);
    if (!found || digest === undefined) return Promise.resolve(undefined);
    if (found.bytes.length > maxBytes) return Promise.reject(new TrustError('TOO_LARGE', `manifest ${digest} is larger than ${maxBytes} bytes`));
    return Promise.resolve({ digest, mediaType: found.mediaType, bytes: found.bytes });
  }

  blob(conn: RegistryConnection, repository: string, digest: string, maxBytes: number): Promise<Buffer> {
    this.note(conn, `blob ${repository}@${digest}`);
    if (this.stallBlobs) {
      return new Promise((_resolve, reject) => {
        const fail = () => reject(new TrustError('TIMEOUT', `blob ${digest}: no answer before the deadline`));
        if (conn.signal?.aborted) fail();
        else conn.signal?.addEventListener('abort', fail, { once: true });
      });
    }
    const bytes = this.contents.blobs.get(digest);
    if (!bytes) return Promise.reject(new TrustError('REGISTRY_ERROR', `blob ${digest} not found`));
    if (bytes.length > maxBytes) return Promise.reject(new TrustError('TOO_LARGE', `blob ${digest} is larger than ${maxBytes} bytes`));
    if (sha256Digest(bytes) !== digest) return Promise.reject(new TrustError('HASH_MISMATCH', `blob ${digest} does not hash to its digest`));
    return Promise.resolve(bytes);
  }

  /**
   * As a registry without the referrers API is read (the index tagged `sha256-<hex>`, the
   * referrers tag schema, as cosign writes it to docker-registry) when that tag exists, else as
   * the referrers API answers (every manifest whose subject is `digest`); filtered by artifactType.
   */
  referrers(conn: RegistryConnection, repository: string, digest: string, artifactType: string, max: number): Promise<readonly Descriptor[]> {
    this.note(conn, `referrers ${repository}@${digest}`);
    const found: Descriptor[] = [];
    const schemaTag = this.contents.tags.get(repository)?.get(digest.replace(':', '-'));
    if (schemaTag !== undefined) {
      const index = JSON.parse(this.contents.manifests.get(schemaTag)!.bytes.toString('utf8')) as { manifests?: Descriptor[] };
      found.push(...(index.manifests ?? []).filter((d) => d.artifactType === artifactType));
    } else {
      for (const [d, { bytes, mediaType }] of this.contents.manifests) {
        const m = JSON.parse(bytes.toString('utf8')) as { subject?: { digest?: string }; artifactType?: string; config?: { mediaType?: string } };
        const type = m.artifactType ?? m.config?.mediaType;
        if (m.subject?.digest === digest && type === artifactType) found.push({ mediaType, digest: d, size: bytes.length, artifactType: type });
      }
    }
    if (found.length > max) return Promise.reject(new TrustError('TOO_LARGE', `more than ${max} referrers of ${digest}`));
    return Promise.resolve(found);
  }

  /** Loads what a real registry served (test/fixtures/cosign/keyed/*.json `registryContents`). */
  load(repository: string, recorded: { tags: Record<string, string>; manifests: Record<string, { mediaType: string; bytes: string }>; blobs: Record<string, string> }): void {
    for (const [digest, m] of Object.entries(recorded.manifests)) this.contents.manifests.set(digest, { mediaType: m.mediaType, bytes: Buffer.from(m.bytes, 'base64') });
    for (const [digest, b] of Object.entries(recorded.blobs)) this.contents.blobs.set(digest, Buffer.from(b, 'base64'));
    for (const [tag, digest] of Object.entries(recorded.tags)) this.tag(repository, tag, digest);
  }

  private note(conn: RegistryConnection, what: string): void {
    this.lastConnection = conn;
    this.requests.push(what);
  }
}
