// JSONPatch (RFC 6902) for pinned images; nothing else in the object changes.
import { ContainerType, type ContainerImage } from './workloads.js';

export interface PatchOperation {
  readonly op: 'replace' | 'add' | 'remove';
  readonly path: string;
  readonly value: unknown;
}

export const ORIGINAL_IMAGES_ANNOTATION = 'trustgate.dev/original-images';

/**
 * The kinds of trust that verified EVERY image of the object: `notary`, `cosign`,
 * `notary,cosign`; empty when images were verified but no one kind verified them all. Written
 * by /mutate on every object it reviews, whether or not it pins anything: the annotation is
 * trustgate's, so a value the object arrives with is replaced, or removed when nothing verified.
 */
export const VERIFIED_BY_ANNOTATION = 'trustgate.dev/verified-by';

/** RFC 6901: "~" and "/" in a key become "~0" and "~1". */
export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The key of an image in the original-images annotation. */
export function originalKey(image: Pick<ContainerImage, 'type' | 'name'>): string {
  return image.type === ContainerType.VOLUME ? `volume:${image.name}` : image.name;
}

/**
 * Replaces each image and records the originals in an annotation (container name, or
 * `volume:<name>` for an image volume → image as written), and sets the verified-by annotation
 * (`verifiedBy`: a string sets it, null removes one the object arrived with, undefined leaves
 * it alone), adding the annotations map when the object has none. Container names are DNS
 * labels, so `volume:` never collides with one. An object already as wanted gets no operation.
 */
export function pinPatch(
  object: Record<string, unknown>,
  pins: readonly { pointer: string; container: string; from: string; to: string }[],
  verifiedBy?: string | null,
): PatchOperation[] {
  const metadata = object.metadata;
  const annotations = typeof metadata === 'object' && metadata !== null ? (metadata as Record<string, unknown>).annotations : undefined;
  const map = typeof annotations === 'object' && annotations !== null ? (annotations as Record<string, unknown>) : undefined;
  const current = map !== undefined && Object.hasOwn(map, VERIFIED_BY_ANNOTATION) ? map[VERIFIED_BY_ANNOTATION] : undefined;
  // The label to write: none when it is already what it should be.
  const label = typeof verifiedBy === 'string' && current !== verifiedBy ? verifiedBy : undefined;
  const ops: PatchOperation[] = [];
  if (verifiedBy === null && current !== undefined) ops.push({ op: 'remove', path: VERIFIED_BY_POINTER, value: undefined });
  if (pins.length === 0) {
    if (label === undefined) return ops;
    if (typeof metadata !== 'object' || metadata === null) ops.push({ op: 'add', path: '/metadata', value: { annotations: { 'trustgate.dev/verified-by': label } } });
    else if (map === undefined) ops.push({ op: 'add', path: '/metadata/annotations', value: { 'trustgate.dev/verified-by': label } });
    else ops.push({ op: 'add', path: VERIFIED_BY_POINTER, value: label });
    return ops;
  }
  const byContainer: Record<string, string> = Object.create(null) as Record<string, string>; // a name cannot reach the prototype
  for (const p of pins) {
    ops.push({ op: 'replace', path: p.pointer, value: p.to });
    byContainer[p.container] = p.from;
  }
  const originals = JSON.stringify(byContainer);
  if (typeof metadata !== 'object' || metadata === null) {
    ops.push({ op: 'add', path: '/metadata', value: { annotations: added(originals, label) } });
  } else if (map === undefined) {
    ops.push({ op: 'add', path: '/metadata/annotations', value: added(originals, label) });
  } else {
    // `add` replaces an existing member too (RFC 6902 4.1), e.g. on reinvocation.
    if (label !== undefined) ops.push({ op: 'add', path: VERIFIED_BY_POINTER, value: label });
    ops.push({ op: 'add', path: ORIGINAL_IMAGES_POINTER, value: originals });
  }
  return ops;
}

const ORIGINAL_IMAGES_POINTER = `/metadata/annotations/${escapePointer(ORIGINAL_IMAGES_ANNOTATION)}`;
const VERIFIED_BY_POINTER = `/metadata/annotations/${escapePointer(VERIFIED_BY_ANNOTATION)}`;

/**
 * The annotations to add when the object has none. Keys written out, not computed: V8 builds a
 * literal of known keys from a template, a computed one key by key (this is on every pin).
 */
function added(originals: string, verifiedBy: string | undefined): Record<string, string> {
  return verifiedBy === undefined
    ? { 'trustgate.dev/original-images': originals }
    : { 'trustgate.dev/verified-by': verifiedBy, 'trustgate.dev/original-images': originals };
}
