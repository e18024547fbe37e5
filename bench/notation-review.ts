// Cold admission reviews with a Notation authority (issue 11, for information: cosign's goal was
// p50 ≤ 15 ms): `trustgate serve` with one policy whose Notation authority trusts the test PKI's
// root inline, and two real registries holding real notation-go v1.3 signatures
// (test/tools/notation-tool) — Debian's docker-registry (JWS in the referrers tag schema) and the
// referrers registry (COSE through the referrers API), RSA-3072 and P-256 leaves respectively.
// Each review names an image never reviewed before (its own digest: a cache miss), sequentially
// over one keep-alive connection. Baseline in the same run, alternating with the reviews: one
// manifest GET to the same registry (what any review needs at least once).
//   npm run bench   (or: node dist/bench/notation-review.js)
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { timeColdReviews } from './cold-review-requests.js';
import { notationPki, notationSign, notationTrustPolicy, NOTATION_STORES, type NotationEnvelope } from '../test/support/notation.js';
import { pushImage, startDockerRegistry, startReferrersRegistry, type PushedImage, type RegistryServer } from '../test/support/registries.js';
import { ServeProcess } from '../test/support/serve-process.js';
import { makeTls } from '../test/support/tls.js';
import { fmt, summarise } from './stats.js';

const PER_REGISTRY = Number(process.env.BENCH_IMAGES ?? 20);

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-notation-review-'));
  const registries: RegistryServer[] = [];
  let serve: ServeProcess | undefined;
  try {
    const tls = await makeTls(dir);
    const pki = await notationPki();
    registries.push(await startDockerRegistry(dir), await startReferrersRegistry(dir));
    const formats: NotationEnvelope[] = ['jws', 'cose'];
    const images: { format: NotationEnvelope; registry: RegistryServer; image: PushedImage }[] = [];
    for (const [i, registry] of registries.entries()) {
      const format = formats[i]!;
      // One more than measured: the first review loads the verifier's lazy parts (warm-up).
      for (let n = 0; n <= PER_REGISTRY; n++) {
        const image = await pushImage(registry, `bench/${format}-${n}`, '1.0', `${format} ${n}`, dir);
        await notationSign(image, format === 'jws' ? pki.rsa3072 : pki.p256, registry, { envelope: format, storage: 'referrers' });
        images.push({ format, registry, image });
      }
    }

    mkdirSync(path.join(dir, 'policies'));
    // JSON is YAML: the policy file as a ClusterImagePolicy, the root's PEM inline.
    writeFileSync(path.join(dir, 'policies', 'p.yaml'), JSON.stringify({
      apiVersion: 'trustgate.dev/v1alpha1', kind: 'ClusterImagePolicy', metadata: { name: 'bench' },
      spec: {
        images: ['**'],
        authorities: [{
          name: 'acme',
          notation: { trustPolicy: notationTrustPolicy(), trustStores: [{ name: NOTATION_STORES.acme, certificates: readFileSync(pki.rootCa, 'utf8') }], registry: { insecure: true } },
        }],
      },
    }));
    writeFileSync(path.join(dir, 'config.yaml'), `listen: "127.0.0.1:0"\ntls: {certFile: ${tls.cert}, keyFile: ${tls.key}}\npolicies: {files: ["policies/*.yaml"]}\n`);
    serve = await ServeProcess.start(path.join(dir, 'config.yaml'), tls.caCert, false);
    const ca = readFileSync(tls.caCert);
    const agent = new https.Agent({ keepAlive: true });

    console.log(`cold review, Notation authority (strict, ca:acme), trustgate serve, ${PER_REGISTRY} images per registry, sequential, each a cache miss`);
    const all = await timeColdReviews(serve.port, ca, agent, formats, images);
    const a = summarise(all);
    console.log(`  all ${all.length}: p50 ${fmt(a.median, 2)} ms  p90 ${fmt(a.p90, 2)} ms   (information; cosign's goal p50 ≤ 15 ms: ${a.median <= 15 ? 'within' : 'over'})`);
    agent.destroy();
  } finally {
    await serve?.stop();
    for (const r of registries) await r.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
