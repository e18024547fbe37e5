// The recorded keyless cosign signatures of test/fixtures/cosign (README there: where each came
// from and what `cosign verify` says of it), put back in a MemoryRegistry the way cosign stores
// them: the legacy `.sig` manifest and its payload blob, a bundle as an OCI referrer.
import { readFileSync } from 'node:fs';
import { attachBundle } from './cosign-format.js';
import { MemoryRegistry } from './memory-registry.js';

const DIR = 'test/fixtures/cosign';
const read = (file: string): Buffer => readFileSync(`${DIR}/${file}`);

export const TRUSTED_ROOT = read('trusted_root.public-good.json').toString('utf8');

/** The public-good root without the Fulcio CA that issued every certificate here (from 2022-04-13). */
export function rootWithoutCurrentFulcio(): string {
  const root = JSON.parse(TRUSTED_ROOT) as { certificateAuthorities: { validFor: { start: string } }[] };
  root.certificateAuthorities = root.certificateAuthorities.filter((ca) => !ca.validFor.start.startsWith('2022-04-13'));
  return JSON.stringify(root);
}

/** The public-good root without its Rekor log. */
export function rootWithoutRekor(): string {
  const root = JSON.parse(TRUSTED_ROOT) as { tlogs: unknown[] };
  root.tlogs = [];
  return JSON.stringify(root);
}

export const LEGACY = {
  registry: 'us-central1-docker.pkg.dev',
  repository: 'cosign-test-383122/repo1/securebuild',
  name: 'us-central1-docker.pkg.dev/cosign-test-383122/repo1/securebuild',
  digest: 'sha256:83ab2ba6689713f2d68104cd208feadfebdd6bc881c455dcb55d2b45ac3a0753',
  identity: 'cosign@cosign-test-383122.iam.gserviceaccount.com',
  issuer: 'https://accounts.google.com',
  kmsKey: read('legacy-keyless/kms_pub.pem').toString('utf8'),
  logIndex: 17475493,
  integratedTime: 1680993151,
  payload: read('legacy-keyless/payload.json'),
  manifest: read('legacy-keyless/signature-manifest.json'),
} as const;

/**
 * The legacy recording in a registry: its `.sig` manifest (edited by `edit`, if given) tagged for
 * `forDigest` (the recorded image's digest unless said), and the payload blob.
 */
export function legacyRegistry(options: { forDigest?: string; edit?: (manifest: { layers: { annotations: Record<string, string> }[] }) => void } = {}): MemoryRegistry {
  const registry = new MemoryRegistry();
  registry.putBlob(LEGACY.payload);
  const manifest = JSON.parse(LEGACY.manifest.toString('utf8')) as { layers: { annotations: Record<string, string> }[] };
  options.edit?.(manifest);
  const bytes = options.edit ? Buffer.from(JSON.stringify(manifest)) : LEGACY.manifest;
  registry.putManifest(LEGACY.repository, bytes, `${(options.forDigest ?? LEGACY.digest).replace(':', '-')}.sig`);
  return registry;
}

export const ATTESTATION = {
  registry: '127.0.0.1:60943',
  repository: 'repo',
  name: '127.0.0.1:60943/repo',
  digest: 'sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4',
  identity: 'cody@soyland.com',
  issuer: 'https://github.com/login/oauth',
  bundle: read('bundle-attestation/bundle.sigstore.json'),
} as const;

export const MESSAGE = {
  bundle: read('bundle-message/bundle.sigstore.json'),
  identity: 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main',
  issuer: 'https://token.actions.githubusercontent.com',
} as const;

/** A recorded bundle attached as a referrer of `digest`, as cosign attaches it. */
export function bundleRegistry(bundle: Buffer, repository: string, digest: string): MemoryRegistry {
  const registry = new MemoryRegistry();
  attachBundle(registry, repository, digest, bundle);
  return registry;
}
