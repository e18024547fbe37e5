// cosign signatures and the migration off Docker Content Trust on a real control plane: etcd,
// kube-apiserver and kube-controller-manager, the chart installed with helm, Debian's
// notary-server and docker-registry, the real cosign CLI (keyed, offline: --tlog-upload=false),
// and trustgate serve on loopback. Every expected verdict is first confirmed by `cosign verify`;
// trustgate is asserted through the API server, as kubectl sees it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { trustgate } from '../support/cli.js';
import type { ControlPlane } from '../support/control-plane.js';
import { Cosign, type CosignKeyPair } from '../support/cosign.js';
import { MigrationCluster } from '../support/migration-cluster.js';
import { pushImage, type PushedImage as OciImage, type RegistryServer } from '../support/registries.js';
import { metricValue, type ServeProcess } from '../support/serve-process.js';
import type { PushedImage, TrustStack } from '../support/stack.js';

let c: MigrationCluster;
let cp: ControlPlane;
let stack: TrustStack;
let serve: ServeProcess | undefined;
let cosign: Cosign;
let key: CosignKeyPair;
/** The stack's docker-registry (plain HTTP, no referrers API) as cosign's helpers name it. */
let registry: RegistryServer;
/** go-containerregistry's registry with the OCI 1.1 referrers API (test/tools/referrers-registry). */
let referrers: RegistryServer;
let referred: OciImage;
let images: Record<string, PushedImage>;

const repo = (name: string) => c.repo(name);
const byDigest = (name: string, image: PushedImage) => c.byDigest(name, image);

/** A notary authority on the stack's notary-server, and a cosign authority with the test key. */
const notaryAuthority = () => c.notaryAuthority();
const cosignAuthority = () => ({ name: 'release-key', cosign: { keys: [readFileSync(key.pub, 'utf8')], tlog: { required: false }, registry: { insecure: true } } });

const clusterPolicies = () => [
  { name: 'cosign-only', spec: { images: [`${stack.registry}/cosign/**`], authorities: [cosignAuthority()] } },
  { name: 'migrate-any', spec: { images: [`${stack.registry}/migrate/**`], require: 'any', authorities: [notaryAuthority(), cosignAuthority()] } },
  { name: 'cosign-referrers', spec: { images: [`${referrers.host}/**`], authorities: [cosignAuthority()] } },
  { name: 'migrate-all', spec: { images: [`${stack.registry}/strict/**`], require: 'all', authorities: [notaryAuthority(), cosignAuthority()] } },
];

const runPod = (name: string, image: string) => c.runPod(name, image);
const podField = (name: string, jsonpath: string) => c.podField(name, jsonpath);
const verifiedBy = (name: string) => c.verifiedBy(name);
const dctOnly = () => c.dctOnly();
const push = (name: string, tag: string, content: string) => c.push(name, tag, content);
const dctSign = (name: string, tag: string, image: PushedImage) => c.dctSign(name, tag, image);

/** cosign's own verdict on the tag as it is now: what every trustgate assertion below is checked against. */
async function cosignSays(image: string): Promise<boolean> {
  return (await cosign.verifyWithKey(image, key.pub, registry)).verified;
}

beforeAll(async () => {
  c = await MigrationCluster.start();
  ({ cp, stack, registry, images } = c);
  cosign = Cosign.create(path.join(stack.dir, 'cosign'));
  key = await cosign.generateKeyPair('release');

  // cosign only: a legacy .sig tag, a v3 bundle (the referrers tag schema on this registry), none.
  await cosign.sign(byDigest('cosign/app', await push('cosign/app', '1.0', 'cosign e2e: legacy-signed build')), key, 'legacy', registry);
  await cosign.sign(byDigest('cosign/app', await push('cosign/app', '2.0', 'cosign e2e: bundle-signed build')), key, 'bundle', registry);
  await push('cosign/app', 'unsigned', 'cosign e2e: never signed');
  // A tag signed, then moved to an unsigned push before anything looked at it.
  await cosign.sign(byDigest('cosign/app', await push('cosign/app', 'moved', 'cosign e2e: signed, then replaced')), key, 'bundle', registry);
  images['cosign/app:moved-signed'] = images['cosign/app:moved']!;
  await push('cosign/app', 'moved', 'cosign e2e: the unsigned push over the signed tag');

  // Migration: DCT only, both, and DCT only under require: all.
  await dctSign('migrate/dct', '1.0', await push('migrate/dct', '1.0', 'migration e2e: DCT only'));
  const both = await push('migrate/both', '1.0', 'migration e2e: DCT and cosign');
  await dctSign('migrate/both', '1.0', both);
  await cosign.sign(byDigest('migrate/both', both), key, 'bundle', registry);
  await dctSign('strict/dct', '1.0', await push('strict/dct', '1.0', 'migration e2e: DCT only, under require all'));
  const strictBoth = await push('strict/both', '1.0', 'migration e2e: both, under require all');
  await dctSign('strict/both', '1.0', strictBoth);
  await cosign.sign(byDigest('strict/both', strictBoth), key, 'legacy', registry);

  // A v3 bundle found through the referrers API (not the tag schema) on a registry that has it.
  referrers = await c.startReferrers();
  referred = await pushImage(referrers, 'team/app', '1.0', 'cosign e2e: bundle on the referrers API', stack.dir);
  await cosign.sign(referred.ref, key, 'bundle', referrers);

  serve = await c.startServe(clusterPolicies());
});

afterAll(async () => {
  await c?.stop();
});

describe('a cosign authority', () => {
  it.each([
    ['a legacy .sig signature', '1.0'],
    ['a v3 bundle (referrers tag schema)', '2.0'],
  ])('admits an image with %s, pinned to the signed digest and annotated cosign', async (_format, tag) => {
    const image = `${repo('cosign/app')}:${tag}`;
    expect(await cosignSays(image)).toBe(true);
    const name = `cosign-${tag.replace('.', '-')}`;
    const r = await runPod(name, image);
    expect(r.stderr).toBe('');
    expect(await podField(name, '{.spec.containers[0].image}')).toBe(`${image}@${images[`cosign/app:${tag}`]!.digest}`);
    expect(await verifiedBy(name)).toBe('cosign');
  });

  it('admits an image whose bundle is found through the OCI 1.1 referrers API, pinned to its digest', async () => {
    expect((await cosign.verifyWithKey(referred.tagged, key.pub, referrers)).verified).toBe(true);
    expect((await runPod('cosign-referrers', referred.tagged)).stderr).toBe('');
    expect(await podField('cosign-referrers', '{.spec.containers[0].image}')).toBe(`${referred.tagged}@${referred.digest}`);
    expect(await verifiedBy('cosign-referrers')).toBe('cosign');
  });

  it('refuses an unsigned image with NO_SIGNATURES in kubectl\'s error', async () => {
    const image = `${repo('cosign/app')}:unsigned`;
    expect(await cosignSays(image)).toBe(false);
    const r = await runPod('cosign-unsigned', image);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/admission webhook "mutate.trustgate.dev" denied the request: container "cosign-unsigned" image ".*cosign\/app:unsigned": .*NO_SIGNATURES/);
    expect((await cp.kubectl(['get', 'pod', 'cosign-unsigned', '-n', 'enforced'])).code).not.toBe(0);
  });

  it('verifies a tag at the digest it names now: moved to an unsigned push it is refused, the signed digest still admitted and pinned', async () => {
    const moved = `${repo('cosign/app')}:moved`;
    const signed = images['cosign/app:moved-signed']!;
    expect(await cosignSays(moved)).toBe(false);
    expect(await cosignSays(byDigest('cosign/app', signed))).toBe(true);
    const refused = await runPod('cosign-moved', moved);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/cosign\/app:moved": .*NO_SIGNATURES/);
    expect(refused.stderr).toContain(images['cosign/app:moved']!.digest);
    expect((await runPod('cosign-by-digest', byDigest('cosign/app', signed))).stderr).toBe('');
    expect(await podField('cosign-by-digest', '{.spec.containers[0].image}')).toBe(byDigest('cosign/app', signed));
  });

  it('trustgate verify --kind cosign gives cosign verify\'s verdict and the digest the pod was pinned to', async () => {
    const ok = await trustgate(['verify', `${repo('cosign/app')}:2.0`, '--kind', 'cosign', '--key', key.pub, '--insecure-ignore-tlog', '--insecure-registry', '--output', 'json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ verified: true, digest: images['cosign/app:2.0']!.digest });
    const refused = await trustgate(['verify', `${repo('cosign/app')}:unsigned`, '--kind', 'cosign', '--key', key.pub, '--insecure-ignore-tlog', '--insecure-registry', '--output', 'json']);
    expect(refused.code).not.toBe(0);
    expect(JSON.parse(refused.stdout)).toMatchObject({ verified: false, code: 'NO_SIGNATURES' });
  });

  it('exports the registry client\'s sizes', async () => {
    const metrics = (await serve!.request('GET', '/metrics')).body;
    expect(metricValue(metrics, 'trustgate_registry_client_entries', 'structure="agents"')).toBeGreaterThanOrEqual(1);
    expect(metrics).toMatch(/^trustgate_registry_client_entries\{structure="bytesHeld"\} 0$/m);
  });
});

describe('migration mode: notary and cosign authorities in one policy', () => {
  it('require any admits an image signed only with DCT, annotates it notary and counts it DCT-only', async () => {
    const image = `${repo('migrate/dct')}:1.0`;
    expect(await cosignSays(image)).toBe(false);
    expect(await dctOnly()).toBe(0);
    const r = await runPod('migrate-dct', image);
    expect(r.stderr).toBe('');
    expect(await podField('migrate-dct', '{.spec.containers[0].image}')).toBe(`${image}@${images['migrate/dct:1.0']!.digest}`);
    expect(await verifiedBy('migrate-dct')).toBe('notary');
    expect(await dctOnly()).toBe(1);
  });

  it('an image signed with both is annotated notary,cosign and not counted', async () => {
    const image = `${repo('migrate/both')}:1.0`;
    expect(await cosignSays(image)).toBe(true);
    expect((await runPod('migrate-both', image)).stderr).toBe('');
    expect(await podField('migrate-both', '{.spec.containers[0].image}')).toBe(`${image}@${images['migrate/both:1.0']!.digest}`);
    expect(await verifiedBy('migrate-both')).toBe('notary,cosign');
    expect(await dctOnly()).toBe(1);
  });

  it('lists which pods were admitted on DCT alone, as docs/migration.md shows', async () => {
    const table = await cp.kubectlOk(['get', 'pods', '-A', '-o', 'custom-columns=NAMESPACE:.metadata.namespace,NAME:.metadata.name,VERIFIED-BY:.metadata.annotations.trustgate\\.dev/verified-by']);
    const rows = table.trim().split('\n').slice(1).map((line) => line.split(/\s+/));
    expect(rows.filter(([, , by]) => by === 'notary')).toEqual([['enforced', 'migrate-dct', 'notary']]);
    expect(rows).toContainEqual(['enforced', 'migrate-both', 'notary,cosign']);
    expect(rows).toContainEqual(['enforced', 'cosign-2-0', 'cosign']);
  });

  it('once the DCT-only image is cosign-signed too, its next pod is verified by both and the count is zero', async () => {
    const image = `${repo('migrate/dct')}:1.0`;
    await cosign.sign(byDigest('migrate/dct', images['migrate/dct:1.0']!), key, 'bundle', registry);
    expect(await cosignSays(image)).toBe(true);
    // NO_SIGNATURES is never cached (cured by publishing): the next review looks again.
    expect((await runPod('migrate-dct-2', image)).stderr).toBe('');
    expect(await verifiedBy('migrate-dct-2')).toBe('notary,cosign');
    expect(await dctOnly()).toBe(0);
  });

  it('require all refuses the DCT-only image, naming the cosign authority\'s reason, and admits one signed with both', async () => {
    const dct = `${repo('strict/dct')}:1.0`;
    expect(await cosignSays(dct)).toBe(false);
    const r = await runPod('strict-dct', dct);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/strict\/dct:1\.0": .*authority "release-key" \(cosign\): NO_SIGNATURES/);
    const both = `${repo('strict/both')}:1.0`;
    expect(await cosignSays(both)).toBe(true);
    expect((await runPod('strict-both', both)).stderr).toBe('');
    expect(await verifiedBy('strict-both')).toBe('notary,cosign');
    expect(await podField('strict-both', '{.spec.containers[0].image}')).toBe(`${both}@${images['strict/both:1.0']!.digest}`);
  });
});
