export { OciRegistryClient, type OciRegistryClientOptions } from './client.js';
export { MediaType, type Descriptor, type FetchedManifest, type RegistryClient, type RegistryConnection } from './types.js';
export { readImageManifest, readIndex, type ImageIndex, type ImageManifest } from './document.js';
export { referrersTag, sha256Digest, isSha256Digest } from './digest.js';
export { nextLink } from './link.js';
export { DEFAULT_REGISTRY_LIMITS, DEFAULT_REGISTRY_CLIENT_BOUNDS, type RegistryLimits, type RegistryClientBounds } from './limits.js';
