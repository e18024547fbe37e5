// What the OCI registry client offers the trust kinds that keep their signatures in the registry
// (cosign, Notation). The OCI distribution specification (spec.md) and image specification
// (manifest.md, image-index.md, descriptor.md) define every field here.
import type { Credentials } from '../credentials.js';

export const MediaType = {
  OCI_MANIFEST: 'application/vnd.oci.image.manifest.v1+json',
  OCI_INDEX: 'application/vnd.oci.image.index.v1+json',
  DOCKER_MANIFEST: 'application/vnd.docker.distribution.manifest.v2+json',
  DOCKER_MANIFEST_LIST: 'application/vnd.docker.distribution.manifest.list.v2+json',
  OCI_EMPTY: 'application/vnd.oci.empty.v1+json',
} as const;

/** An OCI content descriptor (image-spec descriptor.md), as read and checked. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A manifest's bytes, checked against the digest it was asked for (or that the registry named). */
export interface FetchedManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly bytes: Buffer;
}

/** How to reach one registry: given by the policy authority and the cluster config. */
export interface RegistryConnection {
  /** Canonical registry name (src/reference/host.ts), e.g. `registry.example.com:5000`. */
  readonly registry: string;
  /** Plain HTTP: only when a user marked the registry insecure. */
  readonly insecure: boolean;
  /** PEM CA certificates for the registry's TLS, else the system's. */
  readonly caBundle: string | undefined;
  readonly credentials: Credentials | undefined;
  readonly signal: AbortSignal | undefined;
  /** Each call of the client as a whole: its requests, token exchange, redirects and pages. */
  readonly timeoutMs: number;
}

/**
 * Every failure is a TrustError (UNREACHABLE, TIMEOUT, TOO_LARGE, AUTH_FAILED, HASH_MISMATCH,
 * SERVER_ERROR, REGISTRY_ERROR; INVALID_OPTION for a name, tag or digest that is none).
 * Implemented by OciRegistryClient (client.ts).
 */
export interface RegistryClient {
  /** The digest a tag points to now (HEAD, else GET), undefined when the tag does not exist. */
  resolveTag(conn: RegistryConnection, repository: string, tag: string): Promise<string | undefined>;
  /** A manifest by tag or digest, at most `maxBytes`; undefined when unknown (404). */
  manifest(conn: RegistryConnection, repository: string, tagOrDigest: string, maxBytes: number): Promise<FetchedManifest | undefined>;
  /** A blob by digest, at most `maxBytes`, its digest checked. */
  blob(conn: RegistryConnection, repository: string, digest: string, maxBytes: number): Promise<Buffer>;
  /**
   * The referrers of `digest` with `artifactType`, from the referrers API (all pages, bounded),
   * else from the referrers tag schema (`sha256-<hex>`) when the registry lacks the API.
   * At most `max` descriptors; more is an error, never a silent cut.
   */
  referrers(conn: RegistryConnection, repository: string, digest: string, artifactType: string, max: number): Promise<readonly Descriptor[]>;
}
