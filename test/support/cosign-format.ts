// Signatures in exactly the layout cosign writes them, made with node:crypto keys, for tests that
// need a variation the real CLI will not produce (another image's digest in a payload, a
// tampered layer, 33 signatures). The formats, from cosign's source:
// - legacy: tag `sha256-<hex>.sig` → OCI manifest, one layer per signature, media type
//   application/vnd.dev.cosign.simplesigning.v1+json, blob = the payload of sigstore's
//   pkg/signature/payload (Cosign.MarshalJSON), annotation dev.cosignproject.cosign/signature =
//   base64 of the signature over the payload bytes (pkg/oci/static/signature.go);
// - bundle: an OCI manifest with `subject` = the image and artifactType = its layer's media type
//   application/vnd.dev.sigstore.bundle.v0.3+json, the layer the bundle JSON, a DSSE envelope of
//   an in-toto statement with predicateType https://sigstore.dev/cosign/sign/v1
//   (pkg/oci/remote/write.go WriteAttestationNewBundleFormat).
// test/fixtures/cosign/keyed holds real cosign output; test/unit/trust/cosign/format.test.ts
// checks that these have its shape.
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { MemoryRegistry } from './memory-registry.js';

export const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';

export function simpleSigningPayload(dockerReference: string, digest: string, type = 'cosign container image signature'): Buffer {
  return Buffer.from(JSON.stringify({ critical: { identity: { 'docker-reference': dockerReference }, image: { 'docker-manifest-digest': digest }, type }, optional: null }));
}

/** The digest cosign's signers sign over for each key type (sigstore LoadDefaultSignerVerifier). */
export function signBytes(key: KeyObject, data: Buffer): Buffer {
  if (key.asymmetricKeyType === 'ed25519') return sign(null, data, key);
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return sign(curve === 'secp384r1' ? 'sha384' : curve === 'secp521r1' ? 'sha512' : 'sha256', data, key);
}

export interface LegacyOptions {
  readonly payload?: Buffer;
  readonly annotations?: Record<string, string>;
  /** Replace the signature (after signing). */
  readonly signature?: Buffer;
}

/** Adds a signature layer to the image's `.sig` manifest, as `cosign sign` appends one. */
export function signLegacy(registry: MemoryRegistry, repository: string, dockerReference: string, digest: string, key: KeyObject, options: LegacyOptions = {}): void {
  const payload = options.payload ?? simpleSigningPayload(dockerReference, digest);
  const signature = options.signature ?? signBytes(key, payload);
  const blob = registry.putBlob(payload);
  const layer = {
    mediaType: SIMPLE_SIGNING,
    size: blob.size,
    digest: blob.digest,
    annotations: { 'dev.cosignproject.cosign/signature': signature.toString('base64'), ...options.annotations },
  };
  addLegacyLayer(registry, repository, digest, layer);
}

export function addLegacyLayer(registry: MemoryRegistry, repository: string, digest: string, layer: unknown): void {
  const tag = `${digest.replace(':', '-')}.sig`;
  const existing = registry.contents.tags.get(repository)?.get(tag);
  const previous = existing ? (JSON.parse(registry.contents.manifests.get(existing)!.bytes.toString('utf8')) as { layers: unknown[] }).layers : [];
  const config = registry.putBlob(Buffer.from('{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":[]},"config":{}}'));
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: config.size, digest: config.digest },
    layers: [...previous, layer],
  };
  registry.putManifest(repository, Buffer.from(JSON.stringify(manifest)), tag);
}

/** The in-toto statement as cosign v3.1 writes it: no subject name, empty annotations. */
export function cosignStatement(digest: string, predicateType = 'https://sigstore.dev/cosign/sign/v1'): Buffer {
  return Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ digest: { sha256: digest.slice(7) }, annotations: {} }], predicateType, predicate: {} }));
}

export function pae(payloadType: string, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(payloadType)} ${payloadType} ${payload.length} `), payload]);
}

export interface BundleOptions {
  readonly statement?: Buffer;
  readonly payloadType?: string;
  /** Replace the bundle JSON object before it is stored. */
  readonly edit?: (bundle: Record<string, unknown>) => void;
}

/** Attaches a keyed v0.3 bundle (no log entry, as `--tlog-upload=false`) as a referrer. */
export function signBundle(registry: MemoryRegistry, repository: string, digest: string, key: KeyObject, options: BundleOptions = {}): string {
  const payloadType = options.payloadType ?? 'application/vnd.in-toto+json';
  const statement = options.statement ?? cosignStatement(digest);
  const signature = signBytes(key, pae(payloadType, statement));
  const bundle: Record<string, unknown> = {
    mediaType: BUNDLE_V03,
    verificationMaterial: { publicKey: { hint: createHash('sha256').update(key.export({ type: 'pkcs8', format: 'der' })).digest('base64') } },
    dsseEnvelope: { payload: statement.toString('base64'), payloadType, signatures: [{ sig: signature.toString('base64') }] },
  };
  options.edit?.(bundle);
  return attachBundle(registry, repository, digest, Buffer.from(JSON.stringify(bundle)));
}

export function attachBundle(registry: MemoryRegistry, repository: string, digest: string, bundleBytes: Buffer, subjectSize = 1024): string {
  const blob = registry.putBlob(bundleBytes);
  const empty = registry.putBlob(Buffer.from('{}'));
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: BUNDLE_V03,
    config: { mediaType: 'application/vnd.oci.empty.v1+json', size: empty.size, digest: empty.digest, artifactType: BUNDLE_V03 },
    layers: [{ mediaType: BUNDLE_V03, size: blob.size, digest: blob.digest }],
    annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope', 'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1', 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
    subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', size: subjectSize, digest },
  };
  return registry.putManifest(repository, Buffer.from(JSON.stringify(manifest)));
}

/** An image manifest in the registry, tagged; returns its digest. */
export function pushImage(registry: MemoryRegistry, repository: string, tag: string, content: string): string {
  const layer = registry.putBlob(Buffer.from(content));
  const config = registry.putBlob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } })));
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: config.size, digest: config.digest },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', size: layer.size, digest: layer.digest }],
  };
  return registry.putManifest(repository, Buffer.from(JSON.stringify(manifest)), tag);
}

export type KeyType = 'ecdsa-p256' | 'ecdsa-p384' | 'ecdsa-p521' | 'ecdsa-secp256k1' | 'rsa-1024' | 'rsa-2048' | 'rsa-4096' | 'ed25519';

/** A key pair of `type`, and its public key as the PEM a policy holds (cosign.pub). */
export function keyPair(type: KeyType): { privateKey: KeyObject; publicKey: KeyObject; pem: string } {
  const { privateKey, publicKey } = type.startsWith('ecdsa')
    ? generateKeyPairSync('ec', { namedCurve: { 'ecdsa-p256': 'P-256', 'ecdsa-p384': 'P-384', 'ecdsa-p521': 'P-521' }[type as string] ?? 'secp256k1' })
    : type.startsWith('rsa')
      ? generateKeyPairSync('rsa', { modulusLength: Number(type.slice(4)) })
      : generateKeyPairSync('ed25519');
  return { privateKey, publicKey, pem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}
