// Media types the client asks for and accepts (image-spec media-types.md; Docker's image manifest
// v2 schema 2). Docker's schema 1 (signed JWS manifests) is never accepted: nothing that signs
// images today writes it, and its digest is not the digest of the bytes served.
import { MediaType } from './types.js';

/** What a manifest request may return: image manifests and indexes, OCI and Docker. */
export const MANIFEST_MEDIA_TYPES: ReadonlySet<string> = new Set([
  MediaType.OCI_MANIFEST,
  MediaType.OCI_INDEX,
  MediaType.DOCKER_MANIFEST,
  MediaType.DOCKER_MANIFEST_LIST,
]);

/** The Accept header of every manifest request (distribution-spec "Pulling manifests"). */
export const MANIFEST_ACCEPT = [...MANIFEST_MEDIA_TYPES].join(', ');

/** RFC 6838 section 4.2 restricted-name, for type and subtype alike. */
const RESTRICTED_NAME = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

/**
 * The media type of a Content-Type header without its parameters, lowercased (media types are
 * case-insensitive); undefined when the header is absent or empty. distribution-spec: "The
 * client SHOULD ignore parameters on the Content-Type header".
 */
export function contentType(header: string | string[] | undefined): string | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.split(';')[0]?.trim().toLowerCase();
  return value ? value : undefined;
}

/** `type/subtype` as RFC 6838 names them (image-spec descriptor.md requires it of mediaType). */
export function isMediaType(text: string): boolean {
  const slash = text.indexOf('/');
  return slash > 0 && RESTRICTED_NAME.test(text.slice(0, slash)) && RESTRICTED_NAME.test(text.slice(slash + 1));
}

/** An attacker-chosen string fit for an error message: quoted, escaped, cut short. */
export function shown(text: string): string {
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text);
}
