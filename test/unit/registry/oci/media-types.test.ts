import { MANIFEST_ACCEPT, MANIFEST_MEDIA_TYPES, contentType, isMediaType } from '../../../../src/registry/oci/media-types.js';
import { MediaType } from '../../../../src/registry/oci/index.js';

describe('media types', () => {
  it('asks for OCI and Docker manifests and indexes, and nothing of schema 1', () => {
    expect([...MANIFEST_MEDIA_TYPES].sort()).toEqual([MediaType.DOCKER_MANIFEST, MediaType.DOCKER_MANIFEST_LIST, MediaType.OCI_INDEX, MediaType.OCI_MANIFEST].sort());
    expect(MANIFEST_ACCEPT.split(', ').sort()).toEqual([...MANIFEST_MEDIA_TYPES].sort());
    expect(MANIFEST_ACCEPT).not.toContain('prettyjws');
  });

  it.each([
    ['application/vnd.oci.image.index.v1+json', 'application/vnd.oci.image.index.v1+json'],
    // Parameters are ignored (distribution-spec "Pulling manifests"); media types are case-insensitive.
    ['application/vnd.oci.image.index.v1+json; charset=utf-8', 'application/vnd.oci.image.index.v1+json'],
    ['  Application/VND.OCI.Image.Index.v1+JSON ', 'application/vnd.oci.image.index.v1+json'],
    [['application/json', 'text/html'], 'application/json'],
    ['', undefined],
    [undefined, undefined],
  ])('Content-Type %p → %p', (header, type) => {
    expect(contentType(header)).toBe(type);
  });

  it('checks RFC 6838 names', () => {
    for (const ok of ['application/vnd.dev.sigstore.bundle.v0.3+json', 'application/vnd.cncf.notary.signature', 'text/plain', 'a/b']) expect(isMediaType(ok)).toBe(true);
    for (const bad of ['application', '/json', 'application/', 'application/vnd x', 'application/ä', '-a/b', `a/${'b'.repeat(128)}`, 'a/b/c']) expect(isMediaType(bad)).toBe(false);
  });
});
