// The OCI distribution client (distribution-spec spec.md, "Pull" and "Content Discovery"): tags
// to digests, manifests and blobs checked against their digests, and referrers. What it returns
// has been verified to be the content its digest names; what the content means is the caller's.
import { TrustError } from '../../shared/trust-error.js';
import { checkDigest, isSha256Digest, isVerifiableDigest, matchesDigest, sha256Digest } from './digest.js';
import { manifestMediaType } from './document.js';
import type { MetadataBudget } from '../../shared/metadata-budget.js';
import { DEFAULT_REGISTRY_CLIENT_BOUNDS, DEFAULT_REGISTRY_LIMITS, type RegistryClientBounds, type RegistryClientSizes, type RegistryLimits } from './limits.js';
import { MANIFEST_ACCEPT, contentType } from './media-types.js';
import { listReferrers } from './referrers.js';
import { unexpectedStatus } from './status.js';
import { RegistryTransport, type Call } from './transport.js';
import type { Descriptor, FetchedManifest, RegistryClient, RegistryConnection } from './types.js';

export interface OciRegistryClientOptions {
  readonly limits?: Partial<RegistryLimits>;
  readonly bounds?: Partial<RegistryClientBounds>;
  /** The clock of token expiry. */
  readonly now?: () => number;
  /** A byte budget shared with other clients (the Notary client's), instead of one of its own (bounds.budget). */
  readonly budget?: MetadataBudget;
}

/** distribution-spec "Pulling manifests": the repository name grammar, 255 characters at most. */
const NAME_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
/** distribution-spec "Pulling manifests": a tag. */
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

export class OciRegistryClient implements RegistryClient {
  private readonly limits: RegistryLimits;
  private readonly transport: RegistryTransport;

  constructor(options: OciRegistryClientOptions = {}) {
    this.limits = { ...DEFAULT_REGISTRY_LIMITS, ...options.limits };
    this.transport = new RegistryTransport(this.limits, { ...DEFAULT_REGISTRY_CLIENT_BOUNDS, ...options.bounds }, options.now ?? Date.now, options.budget);
  }

  /** Entries each bounded structure holds now (metrics, tests). */
  sizes(): RegistryClientSizes {
    return this.transport.sizes();
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.transport.close();
  }

  /**
   * HEAD with the manifest Accept types; its `Docker-Content-Digest` is the answer when it is a
   * sha256 digest. Without one (registries of earlier spec versions need not send it), the
   * manifest is fetched and its bytes hashed. Either way the digest is only the registry's word
   * for what the tag names now: whatever is fetched by it is checked against it.
   */
  async resolveTag(conn: RegistryConnection, repository: string, tag: string): Promise<string | undefined> {
    checkName(repository);
    checkTag(tag);
    const what = `tag ${tag} of ${repository}`;
    return await this.transport.call(conn, repository, what, async (call) => {
      const head = await this.transport.send(call, { method: 'HEAD', path: manifestPath(repository, tag), accept: MANIFEST_ACCEPT, maxBytes: 0, what });
      if (head.status === 404) return undefined;
      if (head.status !== 200) throw unexpectedStatus(head, what);
      const named = head.headers['docker-content-digest'];
      if (typeof named === 'string' && isSha256Digest(named)) return named;
      return (await this.fetchManifest(call, tag, this.limits.resolveBytes))?.digest;
    });
  }

  async manifest(conn: RegistryConnection, repository: string, tagOrDigest: string, maxBytes: number): Promise<FetchedManifest | undefined> {
    checkName(repository);
    checkReference(tagOrDigest);
    return await this.transport.call(conn, repository, `manifest ${tagOrDigest} of ${repository}`, (call) => this.fetchManifest(call, tagOrDigest, maxBytes));
  }

  /**
   * The manifest, within one call (the referrers tag-schema fallback shares its caller's), and
   * what `use` makes of it while its bytes are held from the budget.
   */
  async fetchManifest<T = FetchedManifest | undefined>(
    call: Call,
    reference: string,
    maxBytes: number,
    use: (manifest: FetchedManifest | undefined) => T = (m) => m as T,
  ): Promise<T> {
    const what = `manifest ${reference} of ${call.repository}`;
    return this.transport.fetch(call, { method: 'GET', path: manifestPath(call.repository, reference), accept: MANIFEST_ACCEPT, maxBytes, what }, (res) => {
      if (res.status === 404) return use(undefined);
      if (res.status !== 200) throw unexpectedStatus(res, what);
      // The digest first, before any parsing (image-spec descriptor.md, "Verification").
      let digest = reference;
      if (reference.includes(':')) checkDigest(res.body, reference, what);
      else digest = digestOfTagged(res.body, res.headers['docker-content-digest'], what);
      const mediaType = manifestMediaType(res.body, contentType(res.headers['content-type']), this.limits, what);
      return use({ digest, mediaType, bytes: res.body });
    });
  }

  async blob(conn: RegistryConnection, repository: string, digest: string, maxBytes: number): Promise<Buffer> {
    checkName(repository);
    checkVerifiable(digest);
    const what = `blob ${digest} of ${repository}`;
    return await this.transport.call(conn, repository, what, (call) =>
      this.transport.fetch(call, { method: 'GET', path: `/v2/${repository}/blobs/${digest}`, maxBytes, what }, (res) => {
        if (res.status === 404) throw new TrustError('REGISTRY_ERROR', `${what} is not in the registry`);
        if (res.status !== 200) throw unexpectedStatus(res, what);
        checkDigest(res.body, digest, what);
        return res.body;
      }),
    );
  }

  async referrers(conn: RegistryConnection, repository: string, digest: string, artifactType: string, max: number): Promise<readonly Descriptor[]> {
    checkName(repository);
    checkVerifiable(digest);
    return await this.transport.call(conn, repository, `referrers of ${digest} in ${repository}`, (call) =>
      listReferrers({ call, transport: this.transport, limits: this.limits, digest, artifactType, max, fetchIndex: (tag, maxBytes, use) => this.fetchManifest(call, tag, maxBytes, use) }),
    );
  }
}

function manifestPath(repository: string, reference: string): string {
  return `/v2/${repository}/manifests/${reference}`;
}

/**
 * A manifest fetched by tag is named by the sha256 of its bytes. A Docker-Content-Digest the
 * registry sent must name those same bytes (distribution-spec: "if it is used, the client MUST
 * verify the value matches the returned manifest"); one of an algorithm this client cannot
 * check is ignored, as the spec allows.
 */
function digestOfTagged(bytes: Buffer, header: string | string[] | undefined, what: string): string {
  if (typeof header === 'string' && isVerifiableDigest(header) && !matchesDigest(bytes, header)) {
    throw new TrustError('HASH_MISMATCH', `${what}: the registry names it ${header}, but the bytes it served are ${sha256Digest(bytes)}`);
  }
  return sha256Digest(bytes);
}

function checkName(repository: string): void {
  if (repository.length > 255 || !NAME_RE.test(repository)) {
    throw new TrustError('INVALID_OPTION', `repository ${JSON.stringify(repository.slice(0, 100))} is not a repository name`);
  }
}

function checkTag(tag: string): void {
  if (!TAG_RE.test(tag)) throw new TrustError('INVALID_OPTION', `${JSON.stringify(tag.slice(0, 140))} is not a tag`);
}

function checkVerifiable(digest: string): void {
  if (!isVerifiableDigest(digest)) throw new TrustError('INVALID_OPTION', `${JSON.stringify(digest.slice(0, 140))} is not a sha256 or sha512 digest`);
}

function checkReference(reference: string): void {
  if (reference.includes(':')) checkVerifiable(reference);
  else checkTag(reference);
}
