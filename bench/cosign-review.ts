// Cold admission reviews with a cosign authority (issue 10: p50 ≤ 15 ms): `trustgate serve`
// with one keyed policy, and two real registries holding real `cosign sign` output — Debian's
// docker-registry (legacy `.sig` tags) and the referrers registry (v3 bundles). Each review names
// an image never reviewed before (its own digest: a cache miss), sequentially over one keep-alive
// connection. Baseline in the same run, alternating with the reviews: one manifest GET to the
// same registry (what any review needs at least once).
//   npm run bench   (or: node dist/bench/cosign-review.js)
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { timeColdReviews } from './cold-review-requests.js';
import { Cosign, type CosignFormat } from '../test/support/cosign.js';
import { pushImage, startDockerRegistry, startReferrersRegistry, type PushedImage, type RegistryServer } from '../test/support/registries.js';
import { ServeProcess } from '../test/support/serve-process.js';
import { makeTls } from '../test/support/tls.js';
import { fmt, summarise } from './stats.js';

const PER_REGISTRY = Number(process.env.BENCH_IMAGES ?? 20);

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-cosign-review-'));
  const registries: RegistryServer[] = [];
  let serve: ServeProcess | undefined;
  try {
    const tls = await makeTls(dir);
    const signer = Cosign.create(path.join(dir, 'signer'));
    const key = await signer.generateKeyPair('bench');
    registries.push(await startDockerRegistry(dir), await startReferrersRegistry(dir));
    const formats: CosignFormat[] = ['legacy', 'bundle'];
    const images: { format: CosignFormat; registry: RegistryServer; image: PushedImage }[] = [];
    for (const [i, registry] of registries.entries()) {
      const format = formats[i]!;
      // One more than measured: the first review loads the verifier's lazy parts (warm-up).
      for (let n = 0; n <= PER_REGISTRY; n++) {
        const image = await pushImage(registry, `bench/${format}-${n}`, '1.0', `${format} ${n}`, dir);
        await signer.sign(image.ref, key, format, registry);
        images.push({ format, registry, image });
      }
    }

    const pub = readFileSync(key.pub, 'utf8');
    mkdirSync(path.join(dir, 'policies'));
    writeFileSync(path.join(dir, 'policies', 'p.yaml'), [
      'apiVersion: trustgate.dev/v1alpha1', 'kind: ClusterImagePolicy', 'metadata: {name: bench}', 'spec:', '  images: ["**"]', '  authorities:',
      '    - name: release', '      cosign:', `        keys: [${JSON.stringify(pub)}]`, '        tlog: {required: false}', '        registry: {insecure: true}', '',
    ].join('\n'));
    writeFileSync(path.join(dir, 'config.yaml'), `listen: "127.0.0.1:0"\ntls: {certFile: ${tls.cert}, keyFile: ${tls.key}}\npolicies: {files: ["policies/*.yaml"]}\n`);
    serve = await ServeProcess.start(path.join(dir, 'config.yaml'), tls.caCert, false);
    const ca = readFileSync(tls.caCert);
    const agent = new https.Agent({ keepAlive: true });

    console.log(`cold review, cosign authority (keyed, no log), trustgate serve, ${PER_REGISTRY} images per registry, sequential, each a cache miss`);
    const all = await timeColdReviews(serve.port, ca, agent, formats, images);
    const a = summarise(all);
    console.log(`  all ${all.length}: p50 ${fmt(a.median, 2)} ms  p90 ${fmt(a.p90, 2)} ms   (goal p50 ≤ 15 ms: ${a.median <= 15 ? 'met' : 'NOT met'})`);
    agent.destroy();
  } finally {
    await serve?.stop();
    for (const r of registries) await r.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
