export { parseDockerConfig, findCredentials, normaliseHost, credentialsFingerprint, CredentialsError, type Credentials } from './credentials.js';
export { defaultTrustServer, DOCKER_HUB_TRUST_SERVER } from './trust-server.js';
export { dockerCredentials, helperGet, parseDockerConfigFile, type DockerConfig, type HelperGet } from './docker-config.js';
