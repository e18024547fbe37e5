// Manifests, indexes and descriptors as the image spec defines them (manifest.md, image-index.md,
// descriptor.md), read from bytes a registry sent: bounded before parsing, every field checked,
// nothing cast. A problem names the field path; a list reports its first few problems only.
import { checkJsonShape } from '../../shared/json-shape.js';
import { TrustError } from '../../shared/trust-error.js';
import { isDigestSyntax, isVerifiableDigest } from './digest.js';
import type { RegistryLimits } from './limits.js';
import { MANIFEST_MEDIA_TYPES, isMediaType, shown } from './media-types.js';
import type { Descriptor } from './types.js';

export interface ImageIndex {
  readonly mediaType: string | undefined;
  readonly artifactType: string | undefined;
  readonly manifests: readonly Descriptor[];
  readonly subject: Descriptor | undefined;
  readonly annotations: Readonly<Record<string, string>> | undefined;
}

export interface ImageManifest {
  readonly mediaType: string | undefined;
  readonly artifactType: string | undefined;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly subject: Descriptor | undefined;
  readonly annotations: Readonly<Record<string, string>> | undefined;
}

type Limits = Pick<RegistryLimits, 'maxJsonDepth' | 'maxJsonValues'>;

const MAX_PROBLEMS = 5;

/** JSON of a registry document, its shape bounded before JSON.parse runs. */
export function parseRegistryJson(bytes: Uint8Array, limits: Limits, what: string): unknown {
  const shape = checkJsonShape(bytes, { maxDepth: limits.maxJsonDepth, maxValues: limits.maxJsonValues });
  if (!shape.ok && shape.reason === 'too-many-values') throw new TrustError('TOO_LARGE', `${what}: more than ${limits.maxJsonValues} JSON values`);
  if (!shape.ok) throw new TrustError('REGISTRY_ERROR', `${what}: JSON nested deeper than ${limits.maxJsonDepth} levels`);
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
  } catch {
    throw new TrustError('REGISTRY_ERROR', `${what}: not valid JSON`);
  }
}

/** An image index (or Docker manifest list, or referrers response). */
export function readIndex(bytes: Uint8Array, limits: Limits, what: string): ImageIndex {
  const doc = readObject(parseRegistryJson(bytes, limits, what), what);
  const problems = new Problems();
  const common = readCommon(doc, problems);
  const manifests = readDescriptors(doc.manifests, 'manifests', problems);
  problems.throwIfAny(what);
  return { ...common, manifests: manifests ?? [] };
}

/** An image manifest (OCI or Docker schema 2): its config, layers and subject. */
export function readImageManifest(bytes: Uint8Array, limits: Limits, what: string): ImageManifest {
  const doc = readObject(parseRegistryJson(bytes, limits, what), what);
  const problems = new Problems();
  const common = readCommon(doc, problems);
  const config = readDescriptor(doc.config, 'config', problems);
  const layers = readDescriptors(doc.layers, 'layers', problems);
  problems.throwIfAny(what);
  return { ...common, config: config!, layers: layers ?? [] };
}

/**
 * The media type of a manifest document, checked: what the Content-Type names (else, with no
 * Content-Type, the document's own `mediaType`) must be a manifest or index type the client
 * asked for; schemaVersion must be 2; and a `mediaType` field must agree with the Content-Type
 * (distribution-spec "Pulling manifests": clients "SHOULD reject unless the mediaType field's
 * value matches the type specified by the Content-Type header").
 */
export function manifestMediaType(bytes: Uint8Array, served: string | undefined, limits: Limits, what: string): string {
  if (served !== undefined && !MANIFEST_MEDIA_TYPES.has(served)) {
    throw new TrustError('REGISTRY_ERROR', `${what}: served as ${shown(served)}, which is not an image manifest or index`);
  }
  const doc = readObject(parseRegistryJson(bytes, limits, what), what);
  if (doc.schemaVersion !== 2) throw new TrustError('REGISTRY_ERROR', `${what}: schemaVersion is not 2`);
  const declared = doc.mediaType;
  if (declared !== undefined && typeof declared !== 'string') throw new TrustError('REGISTRY_ERROR', `${what}: mediaType is not a string`);
  if (served === undefined) {
    if (declared === undefined || !MANIFEST_MEDIA_TYPES.has(declared)) throw new TrustError('REGISTRY_ERROR', `${what}: served without a Content-Type and names no manifest media type`);
    return declared;
  }
  if (declared !== undefined && declared !== served) throw new TrustError('REGISTRY_ERROR', `${what}: served as ${shown(served)} but its mediaType is ${shown(declared)}`);
  return served;
}

/** One descriptor (descriptor.md), or undefined with its problems recorded under `path`. */
export function readDescriptor(value: unknown, path: string, problems: Problems): Descriptor | undefined {
  if (!isObject(value)) {
    problems.add(`${path}: expected an object`);
    return undefined;
  }
  const before = problems.count;
  const { mediaType, digest, size, artifactType } = value;
  if (typeof mediaType !== 'string' || !isMediaType(mediaType)) problems.add(`${path}.mediaType: expected a media type`);
  if (typeof digest !== 'string' || !isDigestSyntax(digest)) problems.add(`${path}.digest: expected a digest`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) problems.add(`${path}.size: expected a non-negative integer`);
  if (artifactType !== undefined && (typeof artifactType !== 'string' || !isMediaType(artifactType))) problems.add(`${path}.artifactType: expected a media type`);
  const annotations = readAnnotations(value.annotations, `${path}.annotations`, problems);
  if (problems.count > before) return undefined;
  return {
    mediaType: mediaType as string,
    digest: digest as string,
    size: size as number,
    ...(artifactType !== undefined && { artifactType: artifactType as string }),
    ...(annotations && { annotations }),
  };
}

/** Descriptors whose content this client can verify: sha256 or sha512 (see digest.ts). */
export function requireVerifiable(descriptors: readonly Descriptor[], what: string): void {
  const bad = descriptors.find((d) => !isVerifiableDigest(d.digest));
  if (bad) throw new TrustError('REGISTRY_ERROR', `${what}: digest ${shown(bad.digest)} uses an algorithm trustgate cannot verify (sha256 and sha512 only)`);
}

/** Collects what is wrong with a document, and throws once with the first few. */
export class Problems {
  private readonly list: string[] = [];
  count = 0;

  add(problem: string): void {
    this.count++;
    if (this.list.length < MAX_PROBLEMS) this.list.push(problem);
  }

  throwIfAny(what: string): void {
    if (this.count === 0) return;
    const more = this.count > this.list.length ? ` (and ${this.count - this.list.length} more)` : '';
    throw new TrustError('REGISTRY_ERROR', `${what}: ${this.list.join('; ')}${more}`);
  }
}

function readCommon(doc: Record<string, unknown>, problems: Problems): Omit<ImageIndex, 'manifests'> {
  if (doc.schemaVersion !== 2) problems.add('schemaVersion: expected 2');
  const { mediaType, artifactType } = doc;
  if (mediaType !== undefined && (typeof mediaType !== 'string' || !isMediaType(mediaType))) problems.add('mediaType: expected a media type');
  if (artifactType !== undefined && (typeof artifactType !== 'string' || !isMediaType(artifactType))) problems.add('artifactType: expected a media type');
  const subject = doc.subject === undefined ? undefined : readDescriptor(doc.subject, 'subject', problems);
  return {
    mediaType: typeof mediaType === 'string' ? mediaType : undefined,
    artifactType: typeof artifactType === 'string' ? artifactType : undefined,
    subject,
    annotations: readAnnotations(doc.annotations, 'annotations', problems),
  };
}

function readDescriptors(value: unknown, path: string, problems: Problems): Descriptor[] | undefined {
  if (!Array.isArray(value)) {
    problems.add(`${path}: expected an array`);
    return undefined;
  }
  const out: Descriptor[] = [];
  value.forEach((item, i) => {
    const descriptor = readDescriptor(item, `${path}[${i}]`, problems);
    if (descriptor) out.push(descriptor);
  });
  return out;
}

function readAnnotations(value: unknown, path: string, problems: Problems): Readonly<Record<string, string>> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) {
    problems.add(`${path}: expected an object of strings`);
    return undefined;
  }
  // A null-prototype copy: a key like "__proto__" stays a key.
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') problems.add(`${path}[${shown(key)}]: expected a string`);
    else out[key] = v;
  }
  return out;
}

function readObject(value: unknown, what: string): Record<string, unknown> {
  if (!isObject(value)) throw new TrustError('REGISTRY_ERROR', `${what}: expected a JSON object`);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
