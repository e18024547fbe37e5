// Where each reviewed kind keeps its pod spec, and the images in it: every container's, and every
// image volume's (core/v1 ImageVolumeSource, `volumes[].image.reference`), which the kubelet
// pulls exactly like a container image and mounts into the pod. No other typed PodSpec field of
// Kubernetes 1.37 names an OCI image (k8s.io/api core/v1: `rbd.image` is a Ceph block device;
// a CSI driver's `volumeAttributes` are the driver's own and not read here).
import { printable } from '../reference/index.js';
import type { ReviewRequest } from './review.js';

/** Where in the pod spec an image is named; an image volume is reviewed like a container. */
export const ContainerType = { INIT: 'initContainers', APP: 'containers', EPHEMERAL: 'ephemeralContainers', VOLUME: 'volumes' } as const;
export type ContainerType = (typeof ContainerType)[keyof typeof ContainerType];

export interface ContainerImage {
  readonly type: ContainerType;
  readonly index: number;
  /** The container's or the volume's name. */
  readonly name: string;
  /** The image exactly as written in the object. */
  readonly image: string;
  /** JSON Pointer of the image field, for the patch. */
  readonly pointer: string;
}

/** Pod spec locations by kind (apps/v1, batch/v1, v1). */
const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

export function isReviewedKind(kind: string): boolean {
  return Object.hasOwn(POD_SPEC_PATHS, kind);
}

export function isPod(req: ReviewRequest): boolean {
  return req.kind.kind === 'Pod';
}

/**
 * Whether a controller made and owns the object (an ownerReference with `controller: true`): a
 * ReplicaSet of a Deployment, a Job of a CronJob. Such an object's template is its owner's, and
 * its owner compares them (the Deployment controller finds its ReplicaSet by an equal template):
 * pinning the copy and not the owner makes the owner make another, and another. An ownerReference
 * decides only whether a template is pinned, never whether its images are verified.
 */
export function hasController(object: Record<string, unknown> | undefined): boolean {
  const metadata = object?.metadata;
  const owners = isObject(metadata) ? metadata.ownerReferences : undefined;
  return Array.isArray(owners) && owners.some((owner) => isObject(owner) && owner.controller === true);
}

export class WorkloadError extends Error {
  readonly code = 'MALFORMED_OBJECT' as const;
}

/** The object's pod spec, or undefined when it has none. */
export function podSpecOf(kind: string, object: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  let spec: unknown = object;
  for (const segment of POD_SPEC_PATHS[kind] ?? ['-']) spec = isObject(spec) ? spec[segment] : undefined;
  return isObject(spec) ? spec : undefined;
}

/** Every image of the object's pod spec: containers in init, app, ephemeral order, then image volumes. */
export function containerImages(kind: string, object: Record<string, unknown> | undefined): ContainerImage[] {
  const segments = POD_SPEC_PATHS[kind];
  if (!segments) throw new WorkloadError(`trustgate does not review ${printable(kind, 60)} objects`);
  let spec: unknown = object;
  for (const segment of segments) spec = isObject(spec) ? spec[segment] : undefined;
  if (!isObject(spec)) throw new WorkloadError(`${kind} has no pod spec at ${segments.join('.')}`);
  const pointer = `/${segments.join('/')}`;
  const out: ContainerImage[] = [];
  for (const type of [ContainerType.INIT, ContainerType.APP, ContainerType.EPHEMERAL]) {
    const list = spec[type];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) throw new WorkloadError(`${pointer}/${type} is not a list`);
    list.forEach((container: unknown, index) => {
      const where = `${pointer}/${type}/${index}`;
      if (!isObject(container)) throw new WorkloadError(`${where} is not an object`);
      if (typeof container.image !== 'string') throw new WorkloadError(`${where}/image is missing`);
      const name = typeof container.name === 'string' ? container.name : `#${index}`;
      out.push({ type, index, name, image: container.image, pointer: `${where}/image` });
    });
  }
  out.push(...volumeImages(spec, pointer, kind === 'Pod'));
  return out;
}

/**
 * The image volumes of a pod spec. A template may leave `reference` empty for config management
 * to fill in (the API allows it outside pods); the pods made from it are reviewed themselves.
 */
function volumeImages(spec: Record<string, unknown>, pointer: string, isPodSpec: boolean): ContainerImage[] {
  const list = spec.volumes;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new WorkloadError(`${pointer}/volumes is not a list`);
  const out: ContainerImage[] = [];
  list.forEach((volume: unknown, index) => {
    const where = `${pointer}/volumes/${index}`;
    if (!isObject(volume)) throw new WorkloadError(`${where} is not an object`);
    const source = volume.image;
    if (source === undefined || source === null) return;
    if (!isObject(source)) throw new WorkloadError(`${where}/image is not an object`);
    const reference = source.reference;
    if ((reference === undefined || reference === null || reference === '') && !isPodSpec) return;
    if (reference === undefined || reference === null || reference === '') throw new WorkloadError(`${where}/image/reference is missing`);
    if (typeof reference !== 'string') throw new WorkloadError(`${where}/image/reference is not a string`);
    const name = typeof volume.name === 'string' ? volume.name : `#${index}`;
    out.push({ type: ContainerType.VOLUME, index, name, image: reference, pointer: `${where}/image/reference` });
  });
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
