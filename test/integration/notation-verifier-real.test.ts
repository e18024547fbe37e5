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
import { NotationVerifier } from '../../src/trust/notation/verifier.js';
import type { NotationSpec, TrustPolicyStatement, TrustStore } from '../../src/trust/notation/types.js';
import { notationPki, notationSign, notationTrustPolicy, notationVerify, startNotationTsa, writeNotationConfig, type NotationEnvelope, type NotationPki, type NotationTsa } from '../support/notation.js';
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

  test('a timestamped signature: verified by notation-go; refused by trustgate (RFC 3161 not verified yet)', async () => {
    const image = await pushImage(registry(), `team/ts${n++}`, '1.0', `content ${n}`, dir);
    await notationSign(image, pki.p256, registry(), { envelope, timestamp: tsa });
    const config = await writeNotationConfig(path.join(dir, `tsa${n}`), notationTrustPolicy({ trustStores: ['ca:acme', 'tsa:acme-tsa'] }));
    expect((await notationVerify(image, config, registry())).verified).toBe(true);
    const v = verify(image.ref, trustgateSpec({ 'ca:acme': pki.rootCa, 'tsa:acme-tsa': pki.tsaRoot }));
    await expect(v).rejects.toMatchObject({ code: 'TIMESTAMP_INVALID' });
    // Without the tsa store, the chain valid now is enough, as in notation-go.
    await expect(verify(image.ref, trustgateSpec({ 'ca:acme': pki.rootCa }))).resolves.toMatchObject({ unchecked: false });
  });
});
