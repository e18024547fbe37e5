// `trustgate inspect IMAGE --kind cosign`: what signatures an image carries, as found, before any
// policy: format, the key or identity that claims to have signed, what the payload names, the
// log entry. Nothing here is verified (a certificate's identity is read, not trusted); verify
// says whether a policy would admit the image.
import type { X509Certificate } from '@sigstore/core';
import { effectiveTag, type ImageReference } from '../../reference/index.js';
import type { RegistryClient, RegistryConnection } from '../../registry/oci/types.js';
import { inOrder } from '../in-order.js';
import { digestOf } from '../registry-kind.js';
import { discoverSignatures } from './discover.js';
import { FETCH_CONCURRENCY } from './limits.js';
import { asObject, readJson } from './json.js';
import { LegacyAnnotation, type FoundSignature } from './signature.js';
import { sigstoreBundle, sigstoreCore } from './sigstore-lib.js';

export interface CosignSignatureReport {
  readonly format: 'legacy' | 'bundle';
  readonly manifestDigest: string;
  readonly layer?: number;
  /** `key` (no certificate), or the certificate's identity as it claims it. */
  readonly signer: { readonly key: true } | { readonly subject: string | undefined; readonly issuer: string | undefined };
  /** The digest the signed payload or statement names. */
  readonly signedDigest: string | undefined;
  readonly predicateType?: string;
  readonly tlog: { readonly logIndex: number; readonly integratedTime: string } | undefined;
  /** Why it could not be read, if it could not. */
  readonly problem?: string;
}

export interface CosignReport {
  readonly image: string;
  readonly digest: string;
  readonly tag: string | undefined;
  readonly signatures: readonly CosignSignatureReport[];
}

export async function inspectCosign(client: RegistryClient, conn: RegistryConnection, ref: ImageReference): Promise<CosignReport> {
  const tag = ref.digest === undefined ? effectiveTag(ref) : ref.tag;
  const digest = await digestOf(client, conn, ref);
  const found = await discoverSignatures(client, conn, ref.repository, digest);
  const signatures: CosignSignatureReport[] = [];
  for await (const sig of inOrder(found.signatures, FETCH_CONCURRENCY)) signatures.push(describe(sig));
  return { image: ref.name, digest, tag, signatures };
}

function describe(sig: FoundSignature): CosignSignatureReport {
  const base = { format: sig.format, manifestDigest: sig.manifestDigest, ...(sig.layer !== undefined && { layer: sig.layer }) };
  const unknown = { signer: { subject: undefined, issuer: undefined }, signedDigest: undefined, tlog: undefined };
  if ('unreadable' in sig) return { ...base, ...unknown, problem: `${sig.unreadable.code}: ${sig.unreadable.reason}` };
  try {
    return sig.format === 'legacy' ? { ...base, ...legacy(sig.payload, sig.annotations) } : { ...base, ...bundle(sig.bundle) };
  } catch (e) {
    return { ...base, ...unknown, problem: e instanceof Error ? e.message.slice(0, 160) : 'unreadable' };
  }
}

function legacy(payload: Buffer, annotations: Readonly<Record<string, string>>): Omit<CosignSignatureReport, 'format' | 'manifestDigest'> {
  const named = asObject(asObject(asObject(readJson(payload))?.critical)?.image)?.['docker-manifest-digest'];
  const pem = annotations[LegacyAnnotation.CERTIFICATE];
  const rekor = asObject(asObject(readJson(Buffer.from(annotations[LegacyAnnotation.BUNDLE] ?? '', 'utf8')))?.Payload);
  return {
    signer: pem === undefined ? { key: true } : identity(sigstoreCore().X509Certificate.parse(pem)),
    signedDigest: typeof named === 'string' ? named : undefined,
    tlog: typeof rekor?.logIndex === 'number' && typeof rekor.integratedTime === 'number' ? { logIndex: rekor.logIndex, integratedTime: new Date(rekor.integratedTime * 1000).toISOString() } : undefined,
  };
}

function bundle(bytes: Buffer): Omit<CosignSignatureReport, 'format' | 'manifestDigest'> {
  const b = sigstoreBundle().bundleFromJSON(readJson(bytes));
  const material = b.verificationMaterial.content;
  const der = material.$case === 'x509CertificateChain' ? material.x509CertificateChain.certificates[0]?.rawBytes : material.$case === 'certificate' ? material.certificate.rawBytes : undefined;
  const statement = b.content.$case === 'dsseEnvelope' ? asObject(readJson(b.content.dsseEnvelope.payload)) : undefined;
  const subject = Array.isArray(statement?.subject) ? asObject(asObject(statement.subject[0])?.digest)?.sha256 : undefined;
  const entry = b.verificationMaterial.tlogEntries[0];
  return {
    signer: der ? identity(sigstoreCore().X509Certificate.parse(Buffer.from(der))) : { key: true },
    signedDigest: typeof subject === 'string' ? `sha256:${subject}` : undefined,
    ...(typeof statement?.predicateType === 'string' && { predicateType: statement.predicateType }),
    tlog: entry ? { logIndex: Number(entry.logIndex), integratedTime: new Date(Number(entry.integratedTime) * 1000).toISOString() } : undefined,
  };
}

function identity(cert: X509Certificate): { subject: string | undefined; issuer: string | undefined } {
  const v2 = cert.extension('1.3.6.1.4.1.57264.1.8');
  const issuer = v2 ? v2.valueObj.subs[0]?.value.toString('utf8') : cert.extension('1.3.6.1.4.1.57264.1.1')?.value.toString('utf8');
  return { subject: cert.subjectAltName, issuer };
}
