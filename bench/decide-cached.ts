// The cached review in-process: decide() of a pod whose every verification the cache holds (the
// steady state of a cluster), with the real CachingVerifier over recorded notary-server data, so
// a change of the decision or the cache key shows here before it shows in bench/webhook.ts.
//   npm run build && node dist/bench/decide-cached.js [iterations]
import { performance } from 'node:perf_hooks';
import { CachingVerifier, decide, parseReview, type DecisionContext } from '../src/admission/index.js';
import { parsePolicy, PolicySet } from '../src/policy/index.js';
import { TrustClient } from '../src/trust/index.js';
import { loadScenario } from '../test/support/fixtures.js';
import { RecordedFetcher } from '../test/support/recorded-fetcher.js';
import { review, workload } from '../test/support/reviews.js';

const iterations = Number(process.argv[2] ?? 200_000);
const recorded = loadScenario('targets-only');
const gun = recorded.scenario.gun;
const client = new TrustClient({ now: () => recorded.now, fetcher: () => new RecordedFetcher(recorded.files) });
const observer = { hit: () => undefined, miss: () => undefined, evicted: () => undefined, size: () => undefined, verified: () => undefined };
const verifier = new CachingVerifier(client, { maxEntries: 100, maxBytes: 1 << 20, maxTtlMs: 3_600_000, negativeTtlMs: 10_000, timeoutMs: 5000, servers: {}, now: () => recorded.now }, observer);
const policy = parsePolicy({ apiVersion: 'trustgate.dev/v1alpha1', kind: 'ClusterImagePolicy', metadata: { name: 'bench' }, spec: { images: ['**'], trust: { server: 'https://notary.test', trustOnFirstUse: true } } }, 'bench');
const ctx: DecisionContext = { policies: new PolicySet([policy]), verifier, defaultAction: 'deny', mutateWorkloads: false, deadlineMs: 5000, credentialsFor: () => undefined };
const request = parseReview(review('Pod', workload('Pod', 'web', { containers: [{ name: 'app', image: `${gun}:1.0` }] })));

async function main(): Promise<void> {
  const first = await decide(request, 'mutate', ctx);
  if (!first.allowed) throw new Error(`not admitted: ${first.message}`);
  for (let i = 0; i < 20_000; i++) await decide(request, 'mutate', ctx); // warm up
  const started = performance.now();
  for (let i = 0; i < iterations; i++) await decide(request, 'mutate', ctx);
  const us = ((performance.now() - started) * 1000) / iterations;
  console.log(JSON.stringify({ iterations, usPerDecide: Math.round(us * 100) / 100 }));
}

await main();
