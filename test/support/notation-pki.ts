// Certificates, envelopes and registry contents for the Notation verifier's unit and security
// tests, made here (node:crypto for keys and signatures, a small DER and CBOR writer for what
// node:crypto cannot make): each test can shape exactly the certificate or envelope it attacks
// with (a repeated subject attribute, a lying CBOR length, an exponent openssl will not use).
// The verdicts of well-formed ones are notation-go's (test/support/notation.ts checks them
// against the reference); these are for the malformed and hostile ones.
import { createHash, createPublicKey, constants, generateKeyPairSync, sign, X509Certificate, type KeyObject } from 'node:crypto';
import type { MemoryRegistry } from './memory-registry.js';
import { TrustKind } from '../../src/trust/kind.js';
import type { NotationSpec, SignatureVerification, TrustedIdentity, TrustPolicyStatement, TrustStore, Validation, ValidationAction, VerificationLevel } from '../../src/trust/notation/types.js';

// ---- DER ----
export function tlv(tag: number, ...body: Buffer[]): Buffer {
  const b = Buffer.concat(body);
  const n = b.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : n < 0x10000 ? Buffer.from([0x82, n >> 8, n & 0xff]) : Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, b]);
}
const seq = (...b: Buffer[]) => tlv(0x30, ...b);
const set = (...b: Buffer[]) => tlv(0x31, ...b);
export function oid(s: string): Buffer {
  const [a, b, ...rest] = s.split('.').map(Number);
  const out = [a! * 40 + b!];
  for (const n of rest) {
    const parts = [n & 0x7f];
    for (let v = n >>> 7; v > 0; v >>>= 7) parts.unshift((v & 0x7f) | 0x80);
    out.push(...parts);
  }
  return tlv(0x06, Buffer.from(out));
}
function int(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let b = Buffer.from(hex, 'hex');
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}
function time(ms: number): Buffer {
  const d = new Date(ms);
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2), 'ascii')) : tlv(0x18, Buffer.from(iso, 'ascii'));
}
function bits(named: readonly number[]): Buffer {
  const max = Math.max(...named);
  const bytes = Buffer.alloc(Math.floor(max / 8) + 1);
  for (const n of named) bytes[n >> 3]! |= 0x80 >> (n & 7);
  return tlv(0x03, Buffer.from([bytes.length * 8 - (max + 1)]), bytes);
}

/** An RDN: one or more [type, value] (`O`, `C`, … or a dotted OID). */
export type Rdn = readonly (readonly [string, string])[];
const ATTR: Record<string, string> = { C: '2.5.4.6', ST: '2.5.4.8', L: '2.5.4.7', O: '2.5.4.10', OU: '2.5.4.11', CN: '2.5.4.3', SERIALNUMBER: '2.5.4.5' };
function name(rdns: readonly Rdn[]): Buffer {
  return seq(...rdns.map((rdn) => set(...rdn.map(([t, v]) => seq(oid(ATTR[t] ?? t), tlv(t === 'C' ? 0x13 : 0x0c, Buffer.from(v, 'utf8')))))));
}
/** `O=acme,CN=x` style for tests: one attribute per RDN. */
export function dn(s: string): Rdn[] {
  return s.split(',').map((p) => {
    const [t, v] = p.split('=');
    return [[t!.trim(), v!.trim()]];
  });
}

export interface CertOptions {
  readonly subject: readonly Rdn[];
  readonly key: KeyObject;
  /** The issuer and its private key; the certificate signs itself when absent. */
  readonly issuer?: { readonly cert: Cert; readonly key: KeyObject };
  readonly ca?: boolean;
  readonly pathLen?: number;
  /** Key usage bits (RFC 5280); default: CA certSign+cRLSign, leaf digitalSignature. */
  readonly keyUsage?: readonly number[] | 'none';
  readonly keyUsageCritical?: boolean;
  readonly basicConstraints?: 'none';
  readonly eku?: readonly string[];
  /** A CRL distribution point: true for http://crl.example/ca.crl, or this URL. */
  readonly crl?: boolean | string;
  readonly notBefore?: number;
  readonly notAfter?: number;
  /** The SPKI to put in the certificate instead of `key`'s public key (keys openssl will not make). */
  readonly spki?: Buffer;
}

export interface Cert {
  readonly der: Buffer;
  readonly x509: X509Certificate;
  readonly subjectDer: Buffer;
}

let serial = 1n;
export function makeCert(o: CertOptions): Cert {
  const subject = name(o.subject);
  const signer = o.issuer?.key ?? o.key;
  const issuerName = o.issuer ? o.issuer.cert.subjectDer : subject;
  const algId = signer.asymmetricKeyType === 'rsa' ? seq(oid('1.2.840.113549.1.1.11'), tlv(0x05)) : seq(oid('1.2.840.10045.4.3.2'));
  const exts: Buffer[] = [];
  if (o.basicConstraints !== 'none') {
    const body = o.ca ? [tlv(0x01, Buffer.from([0xff])), ...(o.pathLen !== undefined ? [int(BigInt(o.pathLen))] : [])] : [];
    exts.push(seq(oid('2.5.29.19'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, seq(...body))));
  }
  if (o.keyUsage !== 'none') {
    const ku = o.keyUsage ?? (o.ca ? [5, 6] : [0]);
    exts.push(seq(oid('2.5.29.15'), ...(o.keyUsageCritical === false ? [] : [tlv(0x01, Buffer.from([0xff]))]), tlv(0x04, bits(ku))));
  }
  if (o.eku) exts.push(seq(oid('2.5.29.37'), tlv(0x04, seq(...o.eku.map(oid)))));
  if (o.crl) exts.push(seq(oid('2.5.29.31'), tlv(0x04, seq(seq(tlv(0xa0, tlv(0xa0, tlv(0x86, Buffer.from(typeof o.crl === 'string' ? o.crl : 'http://crl.example/ca.crl')))))))));
  const now = Date.now();
  const spki = o.spki ?? createPublicKey(o.key).export({ type: 'spki', format: 'der' });
  const tbs = seq(
    tlv(0xa0, int(2n)),
    int(serial++),
    algId,
    issuerName,
    seq(time(o.notBefore ?? now - 3600_000), time(o.notAfter ?? now + 365 * 86400_000)),
    subject,
    spki,
    tlv(0xa3, seq(...exts)),
  );
  const signature = sign('sha256', tbs, signer);
  const der = seq(tbs, algId, tlv(0x03, Buffer.from([0]), signature));
  return { der, x509: new X509Certificate(der), subjectDer: subject };
}

export const ec = (curve = 'P-256'): KeyObject => generateKeyPairSync('ec', { namedCurve: curve }).privateKey;
export const rsa = (bits = 2048): KeyObject => generateKeyPairSync('rsa', { modulusLength: bits }).privateKey;

/** Root → intermediate → leaf, the usual shape of a Notation chain. */
export interface Pki {
  readonly root: Cert;
  readonly rootKey: KeyObject;
  readonly intermediate: Cert;
  readonly intermediateKey: KeyObject;
  readonly leaf: Cert;
  readonly leafKey: KeyObject;
}

export function makePki(o: { leafSubject?: readonly Rdn[]; leafKey?: KeyObject; leaf?: Partial<CertOptions>; rootSubject?: string } = {}): Pki {
  const rootKey = ec();
  const root = makeCert({ subject: dn(o.rootSubject ?? 'C=US,ST=WA,O=Acme,CN=Acme Root'), key: rootKey, ca: true });
  const intermediateKey = ec();
  const intermediate = makeCert({ subject: dn('C=US,ST=WA,O=Acme,CN=Acme Intermediate'), key: intermediateKey, ca: true, pathLen: 0, issuer: { cert: root, key: rootKey } });
  const leafKey = o.leafKey ?? ec();
  const leaf = makeCert({ subject: o.leafSubject ?? dn('C=US,ST=WA,L=Seattle,O=Acme,OU=Build,CN=acme-signer'), key: leafKey, issuer: { cert: intermediate, key: intermediateKey }, ...o.leaf });
  return { root, rootKey, intermediate, intermediateKey, leaf, leafKey };
}

// ---- envelopes ----
export interface Target {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

export interface EnvelopeOptions {
  readonly target: Target;
  readonly chain: readonly Buffer[];
  readonly key: KeyObject;
  readonly alg?: string;
  readonly scheme?: string;
  readonly signingTime?: number;
  readonly expiry?: number;
  /** Extra protected headers and whether each is listed critical. */
  readonly extra?: Record<string, { value: unknown; critical: boolean }>;
  readonly payload?: Buffer;
  readonly contentType?: string;
  /** The payload the envelope carries in place of the one signed. */
  readonly carriedPayload?: Buffer;
  /** Replaces the signature after signing. */
  readonly tamper?: (signature: Buffer) => Buffer;
}

export function payloadOf(target: Target): Buffer {
  return Buffer.from(JSON.stringify({ targetArtifact: target }));
}

export function algOf(key: KeyObject): string {
  const d = key.asymmetricKeyDetails!;
  const rsaAlg: Record<number, string> = { 2048: 'PS256', 3072: 'PS384', 4096: 'PS512' };
  const ecAlg: Record<string, string> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };
  if (key.asymmetricKeyType === 'rsa') return rsaAlg[d.modulusLength!] ?? 'PS256';
  return ecAlg[d.namedCurve!] ?? 'ES256';
}

function signBytes(alg: string, key: KeyObject, data: Buffer): Buffer {
  const hash = `sha${alg.slice(2)}`;
  if (alg.startsWith('ES')) return sign(hash, data, { key, dsaEncoding: 'ieee-p1363' });
  return sign(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 });
}

export function makeJws(o: EnvelopeOptions): Buffer {
  const alg = o.alg ?? algOf(o.key);
  const scheme = o.scheme ?? 'notary.x509';
  const timeKey = scheme === 'notary.x509' ? 'io.cncf.notary.signingTime' : 'io.cncf.notary.authenticSigningTime';
  const crit = ['io.cncf.notary.signingScheme', ...(scheme === 'notary.x509' ? [] : [timeKey]), ...(o.expiry !== undefined ? ['io.cncf.notary.expiry'] : [])];
  const header: Record<string, unknown> = {
    alg,
    cty: o.contentType ?? 'application/vnd.cncf.notary.payload.v1+json',
    'io.cncf.notary.signingScheme': scheme,
    [timeKey]: new Date(o.signingTime ?? Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z'),
    ...(o.expiry !== undefined ? { 'io.cncf.notary.expiry': new Date(o.expiry).toISOString().replace(/\.\d+Z$/, 'Z') } : {}),
  };
  for (const [k, v] of Object.entries(o.extra ?? {})) {
    header[k] = v.value;
    if (v.critical) crit.push(k);
  }
  header.crit = crit;
  const prot = Buffer.from(JSON.stringify(header)).toString('base64url');
  const payload = (o.payload ?? payloadOf(o.target)).toString('base64url');
  let signature = signBytes(alg, o.key, Buffer.from(`${prot}.${payload}`));
  if (o.tamper) signature = o.tamper(signature);
  const carried = o.carriedPayload ? o.carriedPayload.toString('base64url') : payload;
  return Buffer.from(JSON.stringify({ payload: carried, protected: prot, header: { x5c: o.chain.map((c) => c.toString('base64')), 'io.cncf.notary.signingAgent': 'trustgate-test' }, signature: signature.toString('base64url') }));
}

// ---- CBOR (writer, for COSE envelopes) ----
export type Cbor = number | string | Buffer | readonly Cbor[] | Map<number | string, Cbor> | { tag: number; value: Cbor } | boolean;
function head(major: number, n: number): Buffer {
  const m = major << 5;
  if (n < 24) return Buffer.from([m | n]);
  if (n < 0x100) return Buffer.from([m | 24, n]);
  if (n < 0x10000) return Buffer.from([m | 25, n >> 8, n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = m | 26;
  b.writeUInt32BE(n, 1);
  return b;
}
export function cbor(v: Cbor): Buffer {
  if (typeof v === 'boolean') return Buffer.from([v ? 0xf5 : 0xf4]);
  if (typeof v === 'number') return v >= 0 ? head(0, v) : head(1, -1 - v);
  if (typeof v === 'string') return Buffer.concat([head(3, Buffer.byteLength(v)), Buffer.from(v)]);
  if (Buffer.isBuffer(v)) return Buffer.concat([head(2, v.length), v]);
  if (Array.isArray(v)) return Buffer.concat([head(4, v.length), ...v.map(cbor)]);
  if (v instanceof Map) return Buffer.concat([head(5, v.size), ...[...v].flatMap(([k, x]) => [cbor(k), cbor(x)])]);
  const t = v as { tag: number; value: Cbor };
  return Buffer.concat([head(6, t.tag), cbor(t.value)]);
}

const COSE_ALG: Record<string, number> = { PS256: -37, PS384: -38, PS512: -39, ES256: -7, ES384: -35, ES512: -36 };

export function makeCose(o: EnvelopeOptions): Buffer {
  const alg = o.alg ?? algOf(o.key);
  const scheme = o.scheme ?? 'notary.x509';
  const timeKey = scheme === 'notary.x509' ? 'io.cncf.notary.signingTime' : 'io.cncf.notary.authenticSigningTime';
  const crit: (string | number)[] = ['io.cncf.notary.signingScheme', ...(scheme === 'notary.x509' ? [] : [timeKey]), ...(o.expiry !== undefined ? ['io.cncf.notary.expiry'] : [])];
  const p = new Map<number | string, Cbor>([
    [1, COSE_ALG[alg] ?? -7],
    [3, o.contentType ?? 'application/vnd.cncf.notary.payload.v1+json'],
    ['io.cncf.notary.signingScheme', scheme],
    [timeKey, { tag: 1, value: Math.floor((o.signingTime ?? Date.now() - 60_000) / 1000) }],
  ]);
  if (o.expiry !== undefined) p.set('io.cncf.notary.expiry', { tag: 1, value: Math.floor(o.expiry / 1000) });
  for (const [k, v] of Object.entries(o.extra ?? {})) {
    p.set(k, v.value as Cbor);
    if (v.critical) crit.push(k);
  }
  p.set(2, crit);
  const prot = cbor(p);
  const payload = o.payload ?? payloadOf(o.target);
  const toSign = cbor(['Signature1', prot, Buffer.alloc(0), payload]);
  let signature = signBytes(alg, o.key, toSign);
  if (o.tamper) signature = o.tamper(signature);
  const unprot = new Map<number | string, Cbor>([[33, [...o.chain]], ['io.cncf.notary.signingAgent', 'trustgate-test']]);
  return cbor({ tag: 18, value: [prot, unprot, o.carriedPayload ?? payload, signature] });
}

// ---- registry contents ----
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const SIGNATURE_TYPE = 'application/vnd.cncf.notary.signature';

/** An image manifest in `repository`, tagged `tag`; its descriptor. */
export function pushImage(reg: MemoryRegistry, repository: string, tag: string, seed = 'image'): Target {
  const config = reg.putBlob(Buffer.from(JSON.stringify({ seed })));
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size }, layers: [] }));
  const digest = reg.putManifest(repository, bytes, tag);
  return { mediaType: OCI_MANIFEST, digest, size: bytes.length };
}

/** A signature manifest (as notation pushes it) carrying `envelope`, with `subject` as its subject. */
export function pushSignature(reg: MemoryRegistry, repository: string, subject: Target, envelope: Buffer, mediaType = 'application/jose+json'): string {
  const blob = reg.putBlob(envelope);
  const empty = reg.putBlob(Buffer.from('{}'));
  const bytes = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: SIGNATURE_TYPE,
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty.digest, size: 2 },
    layers: [{ mediaType, digest: blob.digest, size: blob.size }],
    subject,
  }));
  return reg.putManifest(repository, bytes);
}

// ---- policy ----
const LEVELS: Record<VerificationLevel, Record<Validation, ValidationAction>> = {
  strict: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'enforce', expiry: 'enforce', revocation: 'enforce' },
  permissive: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' },
  audit: { integrity: 'enforce', authenticity: 'log', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' },
  skip: { integrity: 'skip', authenticity: 'skip', authenticTimestamp: 'skip', expiry: 'skip', revocation: 'skip' },
};

export function verification(level: VerificationLevel = 'strict', override: Partial<Record<Validation, ValidationAction>> = {}, verifyTimestamp: 'always' | 'afterCertExpiry' = 'always'): SignatureVerification {
  return { level, actions: { ...LEVELS[level], ...override }, verifyTimestamp };
}

export function identity(text: string): TrustedIdentity {
  return { text, attributes: text.replace(/^x509\.subject:\s*/, '').split(',').map((p) => ({ type: p.split('=')[0]!.trim(), value: p.split('=')[1]!.trim() })) };
}

export function statement(o: Partial<TrustPolicyStatement> & { name?: string } = {}): TrustPolicyStatement {
  return {
    name: o.name ?? 'acme',
    registryScopes: o.registryScopes ?? ['*'],
    signatureVerification: o.signatureVerification ?? verification('strict'),
    trustStores: o.trustStores ?? [{ type: 'ca', name: 'acme' }],
    trustedIdentities: o.trustedIdentities ?? '*',
  };
}

export function spec(statements: readonly TrustPolicyStatement[], stores: Record<string, readonly Buffer[]>): NotationSpec {
  const trustStores = new Map<string, TrustStore>();
  for (const [key, certs] of Object.entries(stores)) {
    const [type, name] = key.split(':') as [TrustStore['type'], string];
    trustStores.set(key, { type, name, certificates: certs.map((c) => new X509Certificate(c)) });
  }
  const key = createHash('sha256').update(JSON.stringify({ statements, stores: Object.fromEntries(Object.entries(stores).map(([k, v]) => [k, v.map((c) => c.toString('base64'))])) })).digest('hex');
  return { kind: TrustKind.NOTATION, trustPolicy: { version: '1.0', statements }, trustStores, registry: { insecure: true, caBundle: undefined }, key };
}
