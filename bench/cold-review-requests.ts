// What the cold-review benchmarks (cosign-review.ts, notation-review.ts) send and how they time
// it: one admission review over a keep-alive connection, required to come back admitted and
// pinned, alternating with the baseline beside it: one manifest GET to the same registry.
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { registryRequest, type PushedImage, type RegistryServer } from '../test/support/registries.js';
import { review, workload } from '../test/support/reviews.js';
import { fmt, summarise } from './stats.js';

/**
 * POSTs `body` to serve's /mutate and resolves with the milliseconds to the last byte; rejects
 * unless admitted and, with `pinned`, pinned (a review refused fast would flatter the figure).
 */
export function postMutate(port: number, ca: Buffer, agent: https.Agent, body: string, pinned: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = https.request({ host: '127.0.0.1', port, path: '/mutate', method: 'POST', ca, agent, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const ms = performance.now() - start;
        const answer = JSON.parse(Buffer.concat(chunks).toString()) as { response: { allowed: boolean; patch?: string; status?: { message: string } } };
        if (!answer.response.allowed || (pinned && answer.response.patch === undefined)) reject(new Error(answer.response.status?.message ?? 'not pinned'));
        else resolve(ms);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** One pod of `image` reviewed on /mutate, required to come back admitted and pinned. */
export function postReview(port: number, ca: Buffer, agent: https.Agent, image: string): Promise<number> {
  const body = JSON.stringify(review('Pod', workload('Pod', 'web', { containers: [{ name: 'app', image }] })));
  return postMutate(port, ca, agent, body, true).catch((error: Error) => Promise.reject(new Error(`${image}: ${error.message}`)));
}

export async function manifestGet(registry: RegistryServer, image: PushedImage): Promise<number> {
  const t = performance.now();
  const r = await registryRequest(registry, `/v2/${image.repository}/manifests/${image.tagged.split(':').pop()!}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
  if (r.status !== 200) throw new Error(`baseline GET: ${r.status}`);
  return performance.now() - t;
}

/**
 * Per format: one review to warm up, then each further image reviewed once (a cache miss),
 * alternating with the baseline GET; prints a line per format and returns every review's time.
 */
export async function timeColdReviews<F extends string>(
  port: number,
  ca: Buffer,
  agent: https.Agent,
  formats: readonly F[],
  images: readonly { format: F; registry: RegistryServer; image: PushedImage }[],
): Promise<number[]> {
  const width = Math.max(...formats.map((f) => f.length));
  const all: number[] = [];
  for (const format of formats) {
    const these = images.filter((x) => x.format === format);
    await postReview(port, ca, agent, these[0]!.image.tagged); // warm-up, not counted
    const cold: number[] = [];
    const base: number[] = [];
    for (const { registry, image } of these.slice(1)) {
      base.push(await manifestGet(registry, image));
      cold.push(await postReview(port, ca, agent, image.tagged));
    }
    all.push(...cold);
    const c = summarise(cold);
    const b = summarise(base);
    console.log(`  ${format.padEnd(width)} (${these[0]!.registry.kind}): p50 ${fmt(c.median, 2)} ms  p90 ${fmt(c.p90, 2)} ms   baseline one manifest GET p50 ${fmt(b.median, 2)} ms = ${fmt(c.median / b.median, 1)}×`);
  }
  return all;
}
