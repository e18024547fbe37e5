// What the cold-review benchmarks (cosign-review.ts, notation-review.ts) send: one admission
// review over a keep-alive connection, timed and required to come back admitted and pinned, and
// the baseline beside it: one manifest GET to the same registry.
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { registryRequest, type PushedImage, type RegistryServer } from '../test/support/registries.js';
import { review, workload } from '../test/support/reviews.js';

export function postReview(port: number, ca: Buffer, agent: https.Agent, image: string): Promise<number> {
  const body = JSON.stringify(review('Pod', workload('Pod', 'web', { containers: [{ name: 'app', image }] })));
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = https.request({ host: '127.0.0.1', port, path: '/mutate', method: 'POST', ca, agent, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const ms = performance.now() - start;
        const answer = JSON.parse(Buffer.concat(chunks).toString()) as { response: { allowed: boolean; patch?: string; status?: { message: string } } };
        // Admitted and pinned: a review that was refused fast would flatter the figure.
        if (!answer.response.allowed || answer.response.patch === undefined) reject(new Error(`${image}: ${answer.response.status?.message ?? 'not pinned'}`));
        else resolve(ms);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function manifestGet(registry: RegistryServer, image: PushedImage): Promise<number> {
  const t = performance.now();
  const r = await registryRequest(registry, `/v2/${image.repository}/manifests/${image.tagged.split(':').pop()!}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
  if (r.status !== 200) throw new Error(`baseline GET: ${r.status}`);
  return performance.now() - t;
}
