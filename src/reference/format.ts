import { DEFAULT_TAG, type ImageReference } from './parse.js';

/** The tag that is looked up: no tag means `latest`, as docker does. */
export function effectiveTag(ref: ImageReference): string {
  return ref.tag ?? DEFAULT_TAG;
}

/** Normalised string: `docker.io/library/alpine:3.19`, plus `@sha256:…` when present. */
export function formatNormalized(ref: ImageReference): string {
  const tag = ref.tag === undefined ? '' : `:${ref.tag}`;
  const digest = ref.digest === undefined ? '' : `@${ref.digest}`;
  return `${ref.name}${tag}${digest}`;
}

/**
 * The reference as written, pinned to a digest: `alpine:3.19@sha256:…`. The tag is kept (or
 * `latest` made explicit) so people can still read which tag the digest was signed for.
 */
export function formatPinned(ref: ImageReference, digest: string): string {
  return `${ref.writtenName}:${effectiveTag(ref)}@${digest}`;
}
