// Notation (Notary Project) signatures and the migration off Docker Content Trust on a real control
// plane: etcd, kube-apiserver and kube-controller-manager, the chart installed with helm, Debian's
// notary-server and docker-registry (signatures in the referrers tag schema), go-containerregistry's
// registry (the OCI 1.1 referrers API), notation-go v1.3 signing (test/tools/notation-tool) and
// trustgate serve on loopback. Every expected verdict is first confirmed by notation-go's own
// verifier (`notationVerify`); trustgate is asserted through the API server, as kubectl sees it.
// How a ref is resolved (labels, namespace, missing and deleted objects) is
// test/e2e/notation-trust-store-refs.test.ts's; here one policy's store is a labelled ConfigMap,
// to show a signature admitted through it and a rotation of it followed.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { trustgate } from '../support/cli.js';
import type { ControlPlane } from '../support/control-plane.js';
import { eventually } from '../support/eventually.js';
import { MigrationCluster } from '../support/migration-cluster.js';
import {
  notationPki, notationSign, notationTrustPolicy, notationVerify, writeNotationConfig,
  NOTATION_STORES, type NotationConfig, type NotationPki,
} from '../support/notation.js';
import { pushImage, type PushedImage as OciImage, type RegistryServer } from '../support/registries.js';
import type { PushedImage, TrustStack } from '../support/stack.js';

let c: MigrationCluster;
let cp: ControlPlane;
let stack: TrustStack;
let pki: NotationPki;
/** The trustpolicy.json and trust store directory notation-go (and `trustgate verify`) read. */
let config: NotationConfig;
/** The stack's docker-registry (plain HTTP, no referrers API: the referrers tag schema). */
let registry: RegistryServer;
/** go-containerregistry's registry with the OCI 1.1 referrers API (test/tools/referrers-registry). */
let referrers: RegistryServer;
let referred: OciImage;
let images: Record<string, PushedImage>;

const repo = (name: string) => c.repo(name);
const byDigest = (name: string, image: PushedImage) => c.byDigest(name, image);

/** A notary authority on the stack's notary-server, and a Notation authority trusting the acme root inline. */
const notaryAuthority = () => c.notaryAuthority();
const notationAuthority = () => ({
  name: 'acme-notation',
  notation: {
    trustPolicy: notationTrustPolicy(),
    trustStores: [{ name: NOTATION_STORES.acme, certificates: readFileSync(pki.rootCa, 'utf8') }],
    registry: { insecure: true },
  },
});

const clusterPolicies = () => [
  { name: 'notation-only', spec: { images: [`${stack.registry}/notation/**`], authorities: [notationAuthority()] } },
  { name: 'notation-referrers', spec: { images: [`${referrers.host}/**`], authorities: [notationAuthority()] } },
  { name: 'notation-configmap', spec: { images: [`${stack.registry}/refs/**`], authorities: [{ ...notationAuthority(), notation: { ...notationAuthority().notation, trustStores: [{ name: NOTATION_STORES.acme, configMapRef: { name: 'acme-ca' } }] } }] } },
  { name: 'migrate-any', spec: { images: [`${stack.registry}/migrate/**`], require: 'any', authorities: [notaryAuthority(), notationAuthority()] } },
];

const runPod = (name: string, image: string) => c.runPod(name, image);
const podField = (name: string, jsonpath: string) => c.podField(name, jsonpath);
const verifiedBy = (name: string) => c.verifiedBy(name);
const dctOnly = () => c.dctOnly();
const push = (name: string, tag: string, content: string) => c.push(name, tag, content);
const dctSign = (name: string, tag: string, image: PushedImage) => c.dctSign(name, tag, image);

/** notation-go's verdict on the reference as it is now: what every trustgate assertion below is checked against. */
async function notationSays(image: string, on: RegistryServer = registry) {
  return notationVerify(image, config, on);
}

/** `trustgate verify --kind notation` with the same trustpolicy.json and trust store directory. */
const trustgateVerify = (image: string) =>
  trustgate(['verify', image, '--kind', 'notation', '--trust-policy', config.trustPolicy, '--trust-store', config.trustStore, '--insecure-registry', '--output', 'json']);

/** The labelled ConfigMap `acme-ca` in trustgate's namespace, holding `caFile`'s PEM. */
async function setConfigMapCa(caFile: string): Promise<void> {
  await cp.kubectlOk(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1', kind: 'ConfigMap',
    metadata: { name: 'acme-ca', namespace: 'trustgate', labels: { 'trustgate.dev/trust-store': 'true' } },
    data: { 'ca.crt': readFileSync(caFile, 'utf8') },
  }));
}

beforeAll(async () => {
  [c, pki] = await Promise.all([MigrationCluster.start(), notationPki()]);
  ({ cp, stack, registry, images } = c);
  config = await writeNotationConfig(path.join(stack.dir, 'notation'), notationTrustPolicy());

  // Notation only, on docker-registry (the referrers tag schema): JWS by an RSA-3072 leaf, none,
  // the acme subject under an unrelated CA.
  await notationSign(byDigest('notation/app', await push('notation/app', 'jws', 'notation e2e: JWS-signed build')), pki.rsa3072, registry, { envelope: 'jws' });
  await push('notation/app', 'unsigned', 'notation e2e: never signed');
  await notationSign(byDigest('notation/app', await push('notation/app', 'unrelated', 'notation e2e: signed under another CA')), pki.unrelated, registry);
  // A tag signed, then moved to an unsigned push before anything looked at it.
  await notationSign(byDigest('notation/app', await push('notation/app', 'moved', 'notation e2e: signed, then replaced')), pki.p256, registry);
  images['notation/app:moved-signed'] = images['notation/app:moved']!;
  await push('notation/app', 'moved', 'notation e2e: the unsigned push over the signed tag');

  // Migration: DCT only, both, Notation only.
  await dctSign('migrate/dct', '1.0', await push('migrate/dct', '1.0', 'migration e2e: DCT only'));
  const both = await push('migrate/both', '1.0', 'migration e2e: DCT and Notation');
  await dctSign('migrate/both', '1.0', both);
  await notationSign(byDigest('migrate/both', both), pki.p256, registry, { envelope: 'cose' });
  await notationSign(byDigest('migrate/notation', await push('migrate/notation', '1.0', 'migration e2e: Notation only')), pki.p256, registry);

  // A COSE envelope found through the referrers API (not the tag schema) on a registry that has it.
  referrers = await c.startReferrers();
  referred = await pushImage(referrers, 'team/app', '1.0', 'notation e2e: COSE on the referrers API', stack.dir);
  await notationSign(referred.ref, pki.p256, referrers, { envelope: 'cose', storage: 'referrers' });
  // For the policy whose ca:acme store is a ConfigMap.
  await notationSign(byDigest('refs/app', await push('refs/app', '1.0', 'notation e2e: trusted through a ConfigMap')), pki.p256, registry);

  await c.startServe(clusterPolicies(), { kubernetes: 'trustStores: {namespace: trustgate}', beforeServe: () => setConfigMapCa(pki.rootCa) });
});

afterAll(async () => {
  await c?.stop();
});

describe('a Notation authority', () => {
  it('admits a JWS-signed image (referrers tag schema), pinned to the signed digest and annotated notation', async () => {
    const image = `${repo('notation/app')}:jws`;
    const reference = await notationSays(image);
    expect(reference).toMatchObject({ verified: true, digest: images['notation/app:jws']!.digest });
    expect(reference.signatures[0]?.mediaType).toBe('application/jose+json');
    const r = await runPod('notation-jws', image);
    expect(r.stderr).toBe('');
    expect(await podField('notation-jws', '{.spec.containers[0].image}')).toBe(`${image}@${images['notation/app:jws']!.digest}`);
    expect(await verifiedBy('notation-jws')).toBe('notation');
  });

  it('admits a COSE-signed image found through the OCI 1.1 referrers API, pinned to its digest', async () => {
    const reference = await notationSays(referred.tagged, referrers);
    expect(reference).toMatchObject({ verified: true, digest: referred.digest });
    expect(reference.signatures[0]?.mediaType).toBe('application/cose');
    expect((await runPod('notation-cose', referred.tagged)).stderr).toBe('');
    expect(await podField('notation-cose', '{.spec.containers[0].image}')).toBe(`${referred.tagged}@${referred.digest}`);
    expect(await verifiedBy('notation-cose')).toBe('notation');
  });

  it('refuses an unsigned image with NO_SIGNATURES in kubectl\'s error', async () => {
    const image = `${repo('notation/app')}:unsigned`;
    expect((await notationSays(image)).verified).toBe(false);
    const r = await runPod('notation-unsigned', image);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/admission webhook "mutate.trustgate.dev" denied the request: container "notation-unsigned" image ".*notation\/app:unsigned": .*NO_SIGNATURES/);
    expect((await cp.kubectl(['get', 'pod', 'notation-unsigned', '-n', 'enforced'])).code).not.toBe(0);
  });

  it('refuses an image signed under an unrelated CA with the code trustgate verify gives', async () => {
    const image = `${repo('notation/app')}:unrelated`;
    const reference = await notationSays(image);
    expect(reference.verified).toBe(false);
    expect(reference.error).toMatch(/authenticity|trust store|certificate/i);
    const cli = await trustgateVerify(image);
    expect(cli.code).toBe(1);
    const { code } = JSON.parse(cli.stdout) as { code: string };
    expect(['CERTIFICATE_INVALID', 'IDENTITY_MISMATCH']).toContain(code);
    const r = await runPod('notation-unrelated', image);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`notation/app:unrelated": ${code}: .*none of its 1 Notation signature verified: .*required by ClusterImagePolicy "notation-only"`));
  });

  it('verifies a tag at the digest it names now: moved to an unsigned push it is refused, the signed digest still admitted and pinned', async () => {
    const moved = `${repo('notation/app')}:moved`;
    const signed = images['notation/app:moved-signed']!;
    expect((await notationSays(moved)).verified).toBe(false);
    expect((await notationSays(byDigest('notation/app', signed))).verified).toBe(true);
    const refused = await runPod('notation-moved', moved);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/notation\/app:moved": .*NO_SIGNATURES/);
    expect(refused.stderr).toContain(images['notation/app:moved']!.digest);
    expect((await runPod('notation-by-digest', byDigest('notation/app', signed))).stderr).toBe('');
    expect(await podField('notation-by-digest', '{.spec.containers[0].image}')).toBe(byDigest('notation/app', signed));
    expect(await verifiedBy('notation-by-digest')).toBe('notation');
  });

  it('trustgate verify --kind notation gives notation-go\'s verdict and the digest the pod was pinned to', async () => {
    const image = `${repo('notation/app')}:jws`;
    expect((await notationSays(image)).verified).toBe(true);
    const ok = await trustgateVerify(image);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ kind: 'notation', digest: images['notation/app:jws']!.digest, level: 'strict', unchecked: false });
    expect(`${image}@${(JSON.parse(ok.stdout) as { digest: string }).digest}`).toBe(await podField('notation-jws', '{.spec.containers[0].image}'));
    const unsigned = `${repo('notation/app')}:unsigned`;
    expect((await notationSays(unsigned)).verified).toBe(false);
    const refused = await trustgateVerify(unsigned);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ verified: false, code: 'NO_SIGNATURES' });
  });
});

describe('a Notation trust store from a labelled ConfigMap', () => {
  it('admits an image whose chain ends in the ConfigMap\'s root, pinned; once the ConfigMap holds another root, its next pod is refused', async () => {
    const image = `${repo('refs/app')}:1.0`;
    expect((await notationSays(image)).verified).toBe(true);
    expect((await runPod('refs-1', image)).stderr).toBe('');
    expect(await podField('refs-1', '{.spec.containers[0].image}')).toBe(`${image}@${images['refs/app:1.0']!.digest}`);
    expect(await verifiedBy('refs-1')).toBe('notation');

    // notation-go's verdict with the unrelated CA as the ca:acme store: refused.
    const rotated = await writeNotationConfig(path.join(stack.dir, 'notation-rotated'), notationTrustPolicy(), [{ store: NOTATION_STORES.acme, certificates: [pki.unrelatedCa] }]);
    expect((await notationVerify(image, rotated, registry)).verified).toBe(false);
    await setConfigMapCa(pki.unrelatedCa);
    let n = 1;
    const refused = await eventually(() => runPod(`refs-${++n}`, image), (r) => r.code !== 0, 'a pod refused once the ConfigMap changed');
    expect(refused.stderr).toMatch(/refs\/app:1\.0": CERTIFICATE_INVALID: .*required by ClusterImagePolicy "notation-configmap"/);
  });
});

describe('migration mode: notary and Notation authorities in one policy', () => {
  it('require any admits an image signed only with DCT, annotates it notary and counts it DCT-only', async () => {
    const image = `${repo('migrate/dct')}:1.0`;
    expect((await notationSays(image)).verified).toBe(false);
    expect(await dctOnly()).toBe(0);
    const r = await runPod('migrate-dct', image);
    expect(r.stderr).toBe('');
    expect(await podField('migrate-dct', '{.spec.containers[0].image}')).toBe(`${image}@${images['migrate/dct:1.0']!.digest}`);
    expect(await verifiedBy('migrate-dct')).toBe('notary');
    expect(await dctOnly()).toBe(1);
  });

  it('an image signed with both is annotated notary,notation and not counted', async () => {
    const image = `${repo('migrate/both')}:1.0`;
    expect((await notationSays(image)).verified).toBe(true);
    expect((await runPod('migrate-both', image)).stderr).toBe('');
    expect(await podField('migrate-both', '{.spec.containers[0].image}')).toBe(`${image}@${images['migrate/both:1.0']!.digest}`);
    expect(await verifiedBy('migrate-both')).toBe('notary,notation');
    expect(await dctOnly()).toBe(1);
  });

  it('an image signed only with Notation is annotated notation and not counted', async () => {
    const image = `${repo('migrate/notation')}:1.0`;
    expect((await notationSays(image)).verified).toBe(true);
    expect((await runPod('migrate-notation', image)).stderr).toBe('');
    expect(await podField('migrate-notation', '{.spec.containers[0].image}')).toBe(`${image}@${images['migrate/notation:1.0']!.digest}`);
    expect(await verifiedBy('migrate-notation')).toBe('notation');
    expect(await dctOnly()).toBe(1);
  });

  it('once the DCT-only image is Notation-signed too, its next pod is verified by both and the count is zero', async () => {
    const image = `${repo('migrate/dct')}:1.0`;
    await notationSign(byDigest('migrate/dct', images['migrate/dct:1.0']!), pki.rsa3072, registry);
    expect((await notationSays(image)).verified).toBe(true);
    // NO_SIGNATURES is never cached (cured by publishing): the next review looks again.
    expect((await runPod('migrate-dct-2', image)).stderr).toBe('');
    expect(await verifiedBy('migrate-dct-2')).toBe('notary,notation');
    expect(await dctOnly()).toBe(0);
  });
});
