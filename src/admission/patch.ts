// JSONPatch (RFC 6902) for pinned images; nothing else in the object changes.
import { ContainerType, type ContainerImage } from './workloads.js';

export interface PatchOperation {
  readonly op: 'replace' | 'add';
  readonly path: string;
  readonly value: unknown;
}

export const ORIGINAL_IMAGES_ANNOTATION = 'trustgate.dev/original-images';

/** The kinds of trust that verified the pinned images: `notary`, `cosign`, `notary,cosign`. */
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
 * `volume:<name>` for an image volume → image as written), and the kinds of trust that verified
 * them in another (`verifiedBy`, when given), adding the annotations map when the object has
 * none. Container names are DNS labels, so `volume:` never collides with one.
 */
export function pinPatch(
  object: Record<string, unknown>,
  pins: readonly { pointer: string; container: string; from: string; to: string }[],
  verifiedBy?: string,
): PatchOperation[] {
  if (pins.length === 0) return [];
  const ops: PatchOperation[] = [];
  const byContainer: Record<string, string> = Object.create(null) as Record<string, string>; // a name cannot reach the prototype
  for (const p of pins) {
    ops.push({ op: 'replace', path: p.pointer, value: p.to });
    byContainer[p.container] = p.from;
  }
  const originals = JSON.stringify(byContainer);
  const metadata = object.metadata;
  const annotations = typeof metadata === 'object' && metadata !== null ? (metadata as Record<string, unknown>).annotations : undefined;
  if (typeof metadata !== 'object' || metadata === null) {
    ops.push({ op: 'add', path: '/metadata', value: { annotations: added(originals, verifiedBy) } });
  } else if (typeof annotations !== 'object' || annotations === null) {
    ops.push({ op: 'add', path: '/metadata/annotations', value: added(originals, verifiedBy) });
  } else {
    // `add` replaces an existing member too (RFC 6902 4.1), e.g. on reinvocation.
    if (verifiedBy !== undefined) ops.push({ op: 'add', path: VERIFIED_BY_POINTER, value: verifiedBy });
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
