// The registry credentials `check` and `pin` verify with: the docker config of whoever runs them
// (--docker-config, else docker's default), looked up once per registry the manifests name,
// before any verification starts. They are the caller's own, so they go where serve sends the
// cluster's credentials (kubernetes.credentialsSecret) and nowhere else (docs/adr/0005,
// src/admission/credentials.ts): connections the policies' ClusterImagePolicies chose for the
// image's own registry host, never a connection an ImagePolicy chose (its own server or CA). A
// credential is found by the image's registry host only: an image on another host, whatever the
// manifest calls it, gets nothing. Pods' imagePullSecrets are not read (not even with --kubeconfig).
import { containerImages, credentialLookup, isReviewedKind, type CredentialLookup } from '../../src/admission/index.js';
import { parseReference } from '../../src/reference/index.js';
import type { Credentials } from '../../src/registry/credentials.js';
import { dockerCredentials, usesHelper, type DockerConfig, type HelperGet } from '../../src/registry/docker-config.js';
import { UsageError } from './errors.js';
import { MANIFEST_LIMITS, type Manifest } from './manifests.js';

/**
 * Registries whose credentials are asked of a credential helper (a process each). A manifest is
 * input from a pull request: a thousand made-up registries must not become a thousand processes.
 */
export const MAX_HELPER_REGISTRIES = 64;
/** Helpers run at once. */
const HELPERS_AT_ONCE = 4;

/**
 * The distinct registries of the images of every reviewed object; images that do not parse are
 * decide()'s to refuse. Counted first, as evaluateManifests counts: past MANIFEST_LIMITS.images
 * no registry is looked at.
 */
export function registriesOf(manifests: readonly Manifest[]): string[] {
  const images: string[] = [];
  for (const m of manifests) {
    if (!isReviewedKind(m.kind)) continue;
    try {
      for (const { image } of containerImages(m.kind, m.object)) images.push(image);
    } catch {
      // malformed: decide() refuses the object (MALFORMED_OBJECT)
    }
  }
  if (images.length > MANIFEST_LIMITS.images) throw new UsageError(`the manifests name ${images.length} images, more than ${MANIFEST_LIMITS.images}`);
  const registries = new Set<string>();
  for (const image of new Set(images)) {
    try {
      registries.add(parseReference(image).registry);
    } catch {
      // INVALID_REFERENCE: decide()'s to report
    }
  }
  return [...registries];
}

/** Each registry's credentials from the docker config, by canonical registry name. */
export async function credentialsFor(config: DockerConfig | undefined, registries: readonly string[], get?: HelperGet): Promise<CredentialLookup> {
  const found = new Map<string, Credentials>();
  if (config !== undefined) {
    const helped = registries.filter((r) => usesHelper(config, r));
    if (helped.length > MAX_HELPER_REGISTRIES) {
      throw new UsageError(`the manifests name ${helped.length} registries whose credentials the docker config (${config.source}) keeps in a credential helper; check asks a helper about at most ${MAX_HELPER_REGISTRIES}`);
    }
    let next = 0;
    const worker = async () => {
      while (next < registries.length) {
        const registry = registries[next++]!;
        const credentials = await dockerCredentials(config, [registry], get);
        if (credentials) found.set(registry, credentials);
      }
    };
    await Promise.all(Array.from({ length: Math.min(HELPERS_AT_ONCE, registries.length) }, worker));
  }
  // The cluster's place, not the namespace's: no connection an ImagePolicy chose ever carries them.
  return credentialLookup({ namespace: new Map(), cluster: found });
}
