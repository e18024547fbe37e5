import { DEFAULT_REGISTRY } from '../reference/index.js';

/** Docker Hub's Notary server; docker uses it for docker.io images (registry/config.go). */
export const DOCKER_HUB_TRUST_SERVER = 'https://notary.docker.io';

/** Where docker looks for a registry's trust data when DOCKER_CONTENT_TRUST_SERVER is unset. */
export function defaultTrustServer(registry: string): string {
  return registry === DEFAULT_REGISTRY ? DOCKER_HUB_TRUST_SERVER : `https://${registry}`;
}
