// trustgate's Notation verifier on signatures notation-go made and pushed (test/tools/notation-tool),
// on both registries and in both envelopes, with the real registry client: each verdict beside
// notation-go's own (notationVerify) for the same image and trust policy.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { X509Certificate, createHash } from 'node:crypto';
import { parseReference } from '../../src/reference/index.js';
import { OciRegistryClient } from '../../src/registry/oci/client.js';
import { TrustKind } from '../../src/trust/kind.js';
import { readCbor } from '../../src/trust/notation/cbor.js';
import { NotationVerifier } from '../../src/trust/notation/verifier.js';
import { cbor, type Cbor } from '../support/notation-pki.js';
import type { NotationSpec, TrustPolicyStatement, TrustStore } from '../../src/trust/notation/types.js';
import { notationAttach, notationEnvelope, notationPki, notationSign, shortLivedLeaf, notationTrustPolicy, notationVerify, startNotationTsa, writeNotationConfig, type NotationEnvelope, type NotationPki, type NotationTsa } from '../support/notation.js';
import { pushImage, startDockerRegistry, startReferrersRegistry, type RegistryServer } from '../support/registries.js';
import { testTools } from '../support/test-tools.js';

testTools();

let dir: string;
let docker: RegistryServer;
let referrers: RegistryServer;
let pki: NotationPki;
let tsa: NotationTsa;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-notation-verifier-'));
  [docker, referrers, pki] = await Promise.all([startDockerRegistry(dir), startReferrersRegistry(dir), notationPki()]);
  tsa = await startNotationTsa(dir);
});

afterAll(async () => {
  await Promise.all([docker?.stop(), referrers?.stop(), tsa?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

const pem = (file: string) => new X509Certificate(readFileSync(file));
function trustgateSpec(stores: Record<string, string>, st: Partial<TrustPolicyStatement> = {}): NotationSpec {
  const trustStores = new Map<string, TrustStore>();
  for (const [key, file] of Object.entries(stores)) {
    const [type, name] = key.split(':') as [TrustStore['type'], string];
    trustStores.set(key, { type, name, certificates: [pem(file)] });
  }
  const statement: TrustPolicyStatement = {
    name: 'acme',
    registryScopes: ['*'],
    signatureVerification: { level: 'strict', actions: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'enforce', expiry: 'enforce', revocation: 'enforce' }, verifyTimestamp: 'always' },
    trustStores: Object.keys(stores).map((k) => ({ type: k.split(':')[0] as TrustStore['type'], name: k.split(':')[1]! })),
    trustedIdentities: [{ text: 'x509.subject: C=US, ST=WA, O=Acme Rockets', attributes: [{ type: 'C', value: 'US' }, { type: 'ST', value: 'WA' }, { type: 'O', value: 'Acme Rockets' }] }],
    ...st,
  };
  return { kind: TrustKind.NOTATION, trustPolicy: { version: '1.0', statements: [statement] }, trustStores, registry: { insecure: true, caBundle: undefined }, key: createHash('sha256').update(JSON.stringify(Object.keys(stores))).digest('hex') };
}

const client = new OciRegistryClient();
const verify = (ref: string, spec: NotationSpec) => new NotationVerifier(client).verify(parseReference(ref), spec, { credentials: undefined, signal: new AbortController().signal, timeoutMs: 30_000 });

let n = 0;
describe.each<[string, NotationEnvelope, () => RegistryServer]>([
  ['docker-registry', 'jws', () => docker],
  ['docker-registry', 'cose', () => docker],
  ['referrers-registry', 'jws', () => referrers],
  ['referrers-registry', 'cose', () => referrers],
])('%s, %s envelope', (_k, envelope, registry) => {
  test('a notation-go signature by each acme leaf verifies, as notation-go says', async () => {
    for (const signer of [pki.p256, pki.p384, pki.rsa3072]) {
      const image = await pushImage(registry(), `team/app${n++}`, '1.0', `content ${n}`, dir);
      await notationSign(image, signer, registry(), { envelope, expirySeconds: 3600 });
      const config = await writeNotationConfig(path.join(dir, `good${n}`), notationTrustPolicy());
      expect((await notationVerify(image, config, registry())).verified).toBe(true);
      const v = await verify(image.ref, trustgateSpec({ 'ca:acme': pki.rootCa }));
      expect(v).toMatchObject({ unchecked: false, digest: image.digest });
      expect(v.evidence).toMatchObject({ signatures: [{ envelope, signingScheme: 'notary.x509' }] });
    }
  });

  test('a timestamped signature verifies to the tsa store, as notation-go says; not to another', async () => {
    const image = await pushImage(registry(), `team/ts${n++}`, '1.0', `content ${n}`, dir);
    await notationSign(image, pki.p256, registry(), { envelope, timestamp: tsa });
    const config = await writeNotationConfig(path.join(dir, `tsa${n}`), notationTrustPolicy({ trustStores: ['ca:acme', 'tsa:acme-tsa'] }));
    expect((await notationVerify(image, config, registry())).verified).toBe(true);
    const v = await verify(image.ref, trustgateSpec({ 'ca:acme': pki.rootCa, 'tsa:acme-tsa': pki.tsaRoot }));
    expect(v).toMatchObject({ unchecked: false, evidence: { signatures: [{ signedAt: expect.any(Number) }] } });
    // The timestamp proves the time: nothing expires with the certificates.
    expect(v.expires).toBe(Number.POSITIVE_INFINITY);
    // A tsa store holding another root: the token does not chain to it.
    await expect(verify(image.ref, trustgateSpec({ 'ca:acme': pki.rootCa, 'tsa:acme-tsa': pki.unrelatedCa }))).rejects.toMatchObject({ code: 'TIMESTAMP_INVALID' });
    // Without the tsa store, the chain valid now is enough, as in notation-go.
    await expect(verify(image.ref, trustgateSpec({ 'ca:acme': pki.rootCa }))).resolves.toMatchObject({ unchecked: false });
  });

  test('a countersignature moved from another signature is refused (TIMESTAMP_INVALID): it timestamps other bytes', async () => {
    const a = await pushImage(registry(), `team/mv${n++}`, '1.0', `content ${n}`, dir);
    const b = await pushImage(registry(), `team/mv${n++}`, '1.0', `content ${n}`, dir);
    const stamped = await notationEnvelope(a, pki.p256, registry(), { envelope, timestamp: tsa });
    const plain = await notationEnvelope(b, pki.p256, registry(), { envelope });
    const moved = envelope === 'jws' ? moveJwsToken(stamped, plain) : moveCoseToken(stamped, plain);
    await notationAttach(b, moved, registry(), { mediaType: envelope === 'jws' ? 'application/jose+json' : 'application/cose' });
    const config = await writeNotationConfig(path.join(dir, `mv${n}`), notationTrustPolicy({ trustStores: ['ca:acme', 'tsa:acme-tsa'] }));
    expect((await notationVerify(b, config, registry())).verified).toBe(false);
    const r = verify(b.ref, trustgateSpec({ 'ca:acme': pki.rootCa, 'tsa:acme-tsa': pki.tsaRoot }));
    await expect(r).rejects.toMatchObject({ code: 'TIMESTAMP_INVALID', message: expect.stringContaining('other bytes') });
  });

  test('a tsa store but no countersignature: refused (TIMESTAMP_INVALID), as notation-go refuses', async () => {
    const image = await pushImage(registry(), `team/nots${n++}`, '1.0', `content ${n}`, dir);
    await notationSign(image, pki.p256, registry(), { envelope });
    const config = await writeNotationConfig(path.join(dir, `nots${n}`), notationTrustPolicy({ trustStores: ['ca:acme', 'tsa:acme-tsa'] }));
    expect((await notationVerify(image, config, registry())).verified).toBe(false);
    await expect(verify(image.ref, trustgateSpec({ 'ca:acme': pki.rootCa, 'tsa:acme-tsa': pki.tsaRoot }))).rejects.toMatchObject({ code: 'TIMESTAMP_INVALID' });
  });
});

describe('the attack set and the levels, beside notation-go (referrers registry)', () => {
  type Level = 'strict' | 'permissive' | 'audit';
  const ACTIONS = {
    strict: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'enforce', expiry: 'enforce', revocation: 'enforce' },
    permissive: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' },
    audit: { integrity: 'enforce', authenticity: 'log', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' },
  } as const;
  const FILES = (): Record<string, string> => ({ 'ca:acme': pki.rootCa, 'ca:unrelated': pki.unrelatedCa, 'ca:self-signed': pki.selfSigned.cert, 'signingAuthority:acme': pki.rootCa });
  const ORG = (o: string) => ({ text: `x509.subject: C=US, ST=WA, O=${o}`, attributes: [{ type: 'C', value: 'US' }, { type: 'ST', value: 'WA' }, { type: 'O', value: o }] });

  interface Case {
    readonly signer: () => NotationPki['p256'];
    readonly sign?: Parameters<typeof notationSign>[3];
    readonly store?: string;
    readonly org?: string;
    readonly level?: Level;
    readonly wait?: number;
    /** trustgate's answer: verified (unchecked or not), or the refusal code. */
    readonly expect: string;
    /** notation-go's verdict where it differs on purpose (docs/adr/0011-notation-verification.md). */
    readonly reference?: boolean;
  }
  const cases: [string, Case][] = [
    ['a chain from an unrelated CA', { signer: () => pki.unrelated, expect: 'CERTIFICATE_INVALID' }],
    ['the acme CA but an unrelated trust store', { signer: () => pki.p256, store: 'ca:unrelated', expect: 'CERTIFICATE_INVALID' }],
    ['another organisation', { signer: () => pki.otherOrg, expect: 'IDENTITY_MISMATCH' }],
    ['another organisation under audit', { signer: () => pki.otherOrg, level: 'audit', expect: 'unchecked' }],
    ['an unrelated CA under permissive', { signer: () => pki.unrelated, level: 'permissive', expect: 'CERTIFICATE_INVALID' }],
    // notation-go v1.3.2 verifies it (no plugin named, nothing reads the attribute); the
    // specification says an unknown critical attribute fails, and trustgate follows it.
    ['an unknown critical attribute', { signer: () => pki.p256, sign: { criticalHeaders: { 'com.example.unknown': 'x' } }, expect: 'UNSUPPORTED_SIGNATURE', reference: true }],
    ['the signingAuthority scheme', { signer: () => pki.p256, sign: { signingScheme: 'notary.x509.signingAuthority' }, store: 'signingAuthority:acme', expect: 'verified' }],
    ['the signingAuthority scheme against a ca store', { signer: () => pki.p256, sign: { signingScheme: 'notary.x509.signingAuthority' }, expect: 'CERTIFICATE_INVALID' }],
    ['a leaf naming a CRL, strict', { signer: () => pki.crl, expect: 'REVOCATION_UNAVAILABLE' }],
    ['a leaf naming a CRL, permissive', { signer: () => pki.crl, level: 'permissive', expect: 'verified' }],
    ['an expired signature, strict', { signer: () => pki.p256, sign: { expirySeconds: 1 }, wait: 2200, expect: 'SIGNATURE_EXPIRED' }],
    ['an expired signature, permissive', { signer: () => pki.p256, sign: { expirySeconds: 1 }, wait: 2200, level: 'permissive', expect: 'verified' }],
    ['a self-signed leaf in its own store', { signer: () => pki.selfSigned, store: 'ca:self-signed', org: 'Acme Rockets', expect: 'verified' }],
  ];

  test.each(cases)('%s: notation-go and trustgate agree', async (_name, c) => {
    for (const envelope of ['jws', 'cose'] as const) {
      const image = await pushImage(referrers, `team/case${n++}`, '1.0', `content ${n}`, dir);
      await notationSign(image, c.signer(), referrers, { envelope, ...c.sign });
      if (c.wait) await new Promise((r) => setTimeout(r, c.wait));
      const store = c.store ?? 'ca:acme';
      const org = c.org ?? 'Acme Rockets';
      const config = await writeNotationConfig(path.join(dir, `case${n}`), notationTrustPolicy({ trustStores: [store], trustedIdentities: [ORG(org).text], signatureVerification: { level: c.level ?? 'strict' } }));
      const reference = await notationVerify(image, config, referrers);
      expect(reference.verified).toBe(c.reference ?? (c.expect === 'verified' || c.expect === 'unchecked'));
      const spec = trustgateSpec({ [store]: FILES()[store]! }, { trustedIdentities: [ORG(org)], signatureVerification: { level: c.level ?? 'strict', actions: ACTIONS[c.level ?? 'strict'], verifyTimestamp: 'always' } });
      const answer = verify(image.ref, spec);
      if (c.expect === 'verified' || c.expect === 'unchecked') await expect(answer).resolves.toMatchObject({ unchecked: c.expect === 'unchecked' });
      else await expect(answer).rejects.toMatchObject({ code: c.expect });
    }
  });
});

test('an expired signing certificate: refused without a timestamp (TIMESTAMP_INVALID), verified with one, as notation-go says', async () => {
  const leaf = await shortLivedLeaf(4);
  const plain = await pushImage(referrers, `team/exp${n++}`, '1.0', `content ${n}`, dir);
  const stamped = await pushImage(referrers, `team/exp${n++}`, '1.0', `content ${n}`, dir);
  await notationSign(plain, leaf, referrers, { envelope: 'cose' });
  await notationSign(stamped, leaf, referrers, { envelope: 'jws', timestamp: tsa });
  await new Promise((r) => setTimeout(r, Math.max(0, leaf.notAfter.getTime() - Date.now()) + 500));
  const caOnly = await writeNotationConfig(path.join(dir, `exp${n}`), notationTrustPolicy());
  const withTsa = await writeNotationConfig(path.join(dir, `exptsa${n}`), notationTrustPolicy({ trustStores: ['ca:acme', 'tsa:acme-tsa'] }));
  expect((await notationVerify(plain, caOnly, referrers)).verified).toBe(false);
  expect((await notationVerify(stamped, withTsa, referrers)).verified).toBe(true);
  await expect(verify(plain.ref, trustgateSpec({ 'ca:acme': pki.rootCa }))).rejects.toMatchObject({ code: 'TIMESTAMP_INVALID' });
  await expect(verify(stamped.ref, trustgateSpec({ 'ca:acme': pki.rootCa, 'tsa:acme-tsa': pki.tsaRoot }))).resolves.toMatchObject({ unchecked: false });
});

/** The unprotected timestamp header of one JWS envelope put into another. */
function moveJwsToken(from: Buffer, to: Buffer): Buffer {
  const token = (JSON.parse(from.toString()) as { header: Record<string, unknown> }).header['io.cncf.notary.timestampSignature'];
  const doc = JSON.parse(to.toString()) as { header: Record<string, unknown> };
  doc.header['io.cncf.notary.timestampSignature'] = token;
  return Buffer.from(JSON.stringify(doc));
}

/** The same for COSE, through the reader and the test's CBOR writer. */
function moveCoseToken(from: Buffer, to: Buffer): Buffer {
  const label = 'io.cncf.notary.timestampSignature';
  const read = (b: Buffer) => (readCbor(b, [18, 1]) as unknown as { value: [Buffer, Map<number | string, unknown>, Buffer, Buffer] }).value;
  const token = read(from)[1].get(label) as Buffer;
  const [prot, unprot, payload, signature] = read(to);
  unprot.set(label, token);
  return cbor({ tag: 18, value: [prot, unprot as Map<number | string, Cbor>, payload, signature] });
}
