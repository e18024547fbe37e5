import { manifestMediaType, readImageManifest, readIndex } from '../../../../src/registry/oci/document.js';
import { DEFAULT_REGISTRY_LIMITS, MediaType } from '../../../../src/registry/oci/index.js';

const L = DEFAULT_REGISTRY_LIMITS;
const D = `sha256:${'ab'.repeat(32)}`;
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const descriptor = { mediaType: MediaType.OCI_MANIFEST, digest: D, size: 10 };

describe('readIndex', () => {
  it('reads descriptors with artifactType and annotations, dropping unknown fields', () => {
    const index = readIndex(json({ schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: [{ ...descriptor, artifactType: 'application/x.sig', annotations: { a: 'b' }, urls: ['x'], platform: {} }] }), L, 'i');
    expect(index.mediaType).toBe(MediaType.OCI_INDEX);
    expect(index.manifests).toEqual([{ ...descriptor, artifactType: 'application/x.sig', annotations: { a: 'b' } }]);
  });

  it('keeps "__proto__" an annotation key, not a prototype', () => {
    const index = readIndex(Buffer.from(`{"schemaVersion":2,"manifests":[{"mediaType":"a/b","digest":"${D}","size":1,"annotations":{"__proto__":"x"}}]}`), L, 'i');
    const annotations = index.manifests[0]!.annotations!;
    expect(Object.keys(annotations)).toEqual(['__proto__']);
    expect(annotations.__proto__).toBe('x');
  });

  it.each([
    [{ schemaVersion: 2, manifests: [{ ...descriptor, size: -1 }] }, 'manifests[0].size'],
    [{ schemaVersion: 2, manifests: [{ ...descriptor, size: 1.5 }] }, 'manifests[0].size'],
    [{ schemaVersion: 2, manifests: [{ ...descriptor, size: 2 ** 60 }] }, 'manifests[0].size'],
    [{ schemaVersion: 2, manifests: [{ ...descriptor, size: '10' }] }, 'manifests[0].size'],
    [{ schemaVersion: 2, manifests: [{ ...descriptor, digest: 'sha256' }] }, 'manifests[0].digest'],
    [{ schemaVersion: 2, manifests: [{ ...descriptor, mediaType: 'json' }] }, 'manifests[0].mediaType'],
    [{ schemaVersion: 2, manifests: [{ ...descriptor, artifactType: 7 }] }, 'manifests[0].artifactType'],
    [{ schemaVersion: 2, manifests: [{ ...descriptor, annotations: { a: 1 } }] }, 'manifests[0].annotations["a"]'],
    [{ schemaVersion: 2, manifests: [null] }, 'manifests[0]: expected an object'],
    [{ schemaVersion: 2, manifests: {} }, 'manifests: expected an array'],
    [{ schemaVersion: 2 }, 'manifests: expected an array'],
    [{ schemaVersion: 1, manifests: [] }, 'schemaVersion'],
    [[], 'expected a JSON object'],
  ])('refuses %j naming %s', (doc, path) => {
    expect(() => readIndex(json(doc), L, 'idx')).toThrow(expect.objectContaining({ code: 'REGISTRY_ERROR', message: expect.stringContaining(path) }));
  });

  it('reports the first five problems of a long list and how many more', () => {
    const manifests = Array.from({ length: 8 }, () => ({ ...descriptor, size: -1 }));
    expect(() => readIndex(json({ schemaVersion: 2, manifests }), L, 'idx')).toThrow(/manifests\[4\]\.size: expected a non-negative integer \(and 3 more\)$/);
  });

  it('bounds JSON before parsing: too deep is REGISTRY_ERROR, too many values TOO_LARGE', () => {
    const deep = Buffer.from(`{"schemaVersion":2,"manifests":[],"x":${'['.repeat(40)}${']'.repeat(40)}}`);
    expect(() => readIndex(deep, L, 'idx')).toThrow(expect.objectContaining({ code: 'REGISTRY_ERROR', message: expect.stringContaining('deeper than 32') }));
    const many = Buffer.from(`{"schemaVersion":2,"manifests":[],"x":[${'0,'.repeat(200_000)}0]}`);
    expect(() => readIndex(many, L, 'idx')).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
    expect(() => readIndex(Buffer.from('{"schemaVersion":2,'), L, 'idx')).toThrow(expect.objectContaining({ code: 'REGISTRY_ERROR', message: 'idx: not valid JSON' }));
  });
});

describe('readImageManifest', () => {
  it('reads config, layers and subject', () => {
    const doc = { schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, artifactType: 'application/x.sig', config: { ...descriptor, mediaType: MediaType.OCI_EMPTY }, layers: [descriptor], subject: descriptor };
    expect(readImageManifest(json(doc), L, 'm')).toMatchObject({ artifactType: 'application/x.sig', config: { mediaType: MediaType.OCI_EMPTY }, layers: [descriptor], subject: descriptor });
  });

  it('refuses a manifest without a config', () => {
    expect(() => readImageManifest(json({ schemaVersion: 2, layers: [] }), L, 'm')).toThrow(/config: expected an object/);
  });
});

describe('manifestMediaType', () => {
  const oci = json({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config: descriptor, layers: [] });
  const bare = json({ schemaVersion: 2, config: descriptor, layers: [] });

  it('is the Content-Type, when the document agrees or names none', () => {
    expect(manifestMediaType(oci, MediaType.OCI_MANIFEST, L, 'm')).toBe(MediaType.OCI_MANIFEST);
    expect(manifestMediaType(bare, MediaType.OCI_MANIFEST, L, 'm')).toBe(MediaType.OCI_MANIFEST);
    // No Content-Type: the document's own.
    expect(manifestMediaType(oci, undefined, L, 'm')).toBe(MediaType.OCI_MANIFEST);
  });

  it.each([
    [oci, 'application/json', 'not an image manifest or index'],
    [oci, 'application/vnd.docker.distribution.manifest.v1+prettyjws', 'not an image manifest or index'],
    [oci, MediaType.OCI_INDEX, 'but its mediaType is'],
    [bare, undefined, 'without a Content-Type'],
    [json({ schemaVersion: 1, mediaType: MediaType.OCI_MANIFEST }), MediaType.OCI_MANIFEST, 'schemaVersion'],
  ])('refuses %s served as %p', (bytes, served, message) => {
    expect(() => manifestMediaType(bytes, served, L, 'm')).toThrow(expect.objectContaining({ code: 'REGISTRY_ERROR', message: expect.stringContaining(message) }));
  });
});
