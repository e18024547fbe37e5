// `trustgate inspect IMAGE --kind notation`: what Notation signatures an image carries, as found,
// without a trust policy: envelope, signing scheme, the signer's subject and chain, signing time,
// expiry, what the payload names. Nothing here is verified (a subject is read, not trusted;
// the signature is not checked); verify says whether a trust policy would admit the image.
import { effectiveTag, printable, type ImageReference } from '../../reference/index.js';
import type { RegistryClient, RegistryConnection } from '../../registry/oci/types.js';
import { inOrder } from '../in-order.js';
import { digestOf } from '../registry-kind.js';
import { readCertificate } from './certificates.js';
import { readEnvelope } from './check.js';
import { discoverSignatures, type FoundSignature } from './discover.js';
import { asObject, readJson } from './json.js';
import { FETCH_CONCURRENCY } from './limits.js';

export interface NotationSignatureReport {
  readonly manifestDigest: string;
  readonly envelope: 'jws' | 'cose' | undefined;
  readonly signingScheme: string | undefined;
  /** The chain as the envelope carries it, leaf first: subjects and validity. */
  readonly chain: readonly { readonly subject: string; readonly notBefore: string; readonly notAfter: string }[];
  readonly signingTime: string | undefined;
  readonly expiry: string | undefined;
  /** The digest the payload names. */
  readonly signedDigest: string | undefined;
  readonly timestamped: boolean;
  readonly signingAgent: string | undefined;
  /** Why it could not be read, if it could not. */
  readonly problem?: string;
}

export interface NotationReport {
  readonly image: string;
  readonly digest: string;
  readonly tag: string | undefined;
  readonly signatures: readonly NotationSignatureReport[];
}

export async function inspectNotation(client: RegistryClient, conn: RegistryConnection, ref: ImageReference): Promise<NotationReport> {
  const tag = ref.digest === undefined ? effectiveTag(ref) : ref.tag;
  const digest = await digestOf(client, conn, ref);
  const signatures: NotationSignatureReport[] = [];
  for await (const sig of inOrder(await discoverSignatures(client, conn, ref.repository, digest), FETCH_CONCURRENCY)) signatures.push(describe(sig));
  return { image: ref.name, digest, tag, signatures };
}

function describe(sig: FoundSignature): NotationSignatureReport {
  const none = { envelope: undefined, signingScheme: undefined, chain: [], signingTime: undefined, expiry: undefined, signedDigest: undefined, timestamped: false, signingAgent: undefined };
  if ('unreadable' in sig) return { manifestDigest: sig.manifestDigest, ...none, problem: `${sig.unreadable.code}: ${sig.unreadable.reason}` };
  const read = readEnvelope(sig.envelope, sig.mediaType);
  if (!read.ok) return { manifestDigest: sig.manifestDigest, ...none, problem: `${read.code}: ${read.reason}` };
  const e = read.envelope;
  const chain = e.certificates.map((der, i) => {
    const c = readCertificate(der, i);
    return 'code' in c ? { subject: `(${c.reason})`, notBefore: '', notAfter: '' } : { subject: c.subject, notBefore: new Date(c.notBefore).toISOString(), notAfter: new Date(c.notAfter).toISOString() };
  });
  const named = asObject(asObject(readJson(e.payload))?.targetArtifact)?.digest;
  return {
    manifestDigest: sig.manifestDigest,
    envelope: e.format,
    signingScheme: e.signingScheme,
    chain,
    signingTime: new Date(e.signingTime).toISOString(),
    expiry: e.expiry === undefined ? undefined : new Date(e.expiry).toISOString(),
    signedDigest: typeof named === 'string' ? named.slice(0, 140) : undefined,
    timestamped: e.timestampToken !== undefined,
    signingAgent: e.signingAgent,
  };
}

/**
 * The report as text for the CLI (the JSON is the report itself). Everything in it but the image
 * reference comes from the registry unverified (subjects, the payload's digest, the unsigned
 * signing agent, problems quoting them): each goes through printable(), so terminal control
 * sequences are shown escaped and cannot rewrite what the operator reads.
 */
export function formatNotationReport(r: NotationReport): string {
  const p = (text: string): string => printable(text, 512);
  const lines = [`${p(r.image)}${r.tag === undefined ? '' : `:${p(r.tag)}`}@${p(r.digest)}`, `${r.signatures.length} Notation signature${r.signatures.length === 1 ? '' : 's'}`];
  for (const s of r.signatures) {
    lines.push(`- ${p(s.manifestDigest)}`);
    if (s.problem !== undefined) {
      lines.push(`  unreadable: ${p(s.problem)}`);
      continue;
    }
    lines.push(`  envelope: ${p(s.envelope ?? '?')}, scheme: ${p(s.signingScheme ?? '?')}${s.timestamped ? ', timestamped' : ''}`);
    lines.push(`  signer: ${p(s.chain[0]?.subject ?? '?')}`);
    for (const c of s.chain.slice(1)) lines.push(`    issued by: ${p(c.subject)}`);
    lines.push(`  signed: ${p(s.signingTime ?? '?')}${s.expiry === undefined ? '' : `, expires: ${p(s.expiry)}`}`);
    const names = s.signedDigest === undefined ? 'nothing readable' : s.signedDigest === r.digest ? 'this image' : `ANOTHER image, ${p(s.signedDigest)}`;
    lines.push(`  payload names: ${names}`);
    if (s.signingAgent !== undefined) lines.push(`  signing agent: ${p(s.signingAgent)}`);
  }
  return lines.join('\n');
}
