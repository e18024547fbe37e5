// The review path run once at start, on a recorded repository (src/trust/notary/
// warm-up-repository.ts), so that the first real review after start does not pay for code
// running the first time: measured in bench/first-review.ts, a first review cost ~2.5× a later
// miss, spread over canonical JSON, key import, root verification and the decision code.
// Nothing is shared with the server's own verifiers: its own TrustClient (recorded files instead
// of the network, no trust state), its own cache, no metrics; the answer is thrown away.
import { performance } from 'node:perf_hooks';
import { CachingVerifier, decide, parseReview, type CacheObserver } from '../../src/admission/index.js';
import { parsePolicy, PolicySet } from '../../src/policy/index.js';
import { NotaryVerifier, TrustClient } from '../../src/trust/index.js';
import { WARM_UP_DIGEST, WARM_UP_FILES, WARM_UP_GUN, WARM_UP_NOW, WARM_UP_TAG } from '../../src/trust/notary/warm-up-repository.js';

const IGNORE: CacheObserver = { hit() {}, miss() {}, evicted() {}, size() {}, verified() {} };

/**
 * Verifies the recorded repository's tag through decide(), as a review of a pod would.
 * @returns whether it came back admitted and pinned to the recorded digest, and how long it took.
 */
export async function warmUpReviewPath(): Promise<{ ok: boolean; ms: number }> {
  const started = performance.now();
  const files = new Map(WARM_UP_FILES.map(([name, b64]) => [name, Buffer.from(b64, 'base64')]));
  const client = new TrustClient({
    now: () => WARM_UP_NOW,
    fetcher: () => ({ fetch: (file, maxBytes) => Promise.resolve(files.get(file)?.subarray(0, maxBytes)) }),
  });
  try {
    const verifier = new CachingVerifier([new NotaryVerifier(client, {})], {
      maxEntries: 4, maxBytes: 1 << 16, maxTtlMs: 60_000, negativeTtlMs: 0, timeoutMs: 5000, servers: {}, now: () => WARM_UP_NOW,
    }, IGNORE);
    const policy = parsePolicy({
      apiVersion: 'trustgate.dev/v1alpha1',
      kind: 'ClusterImagePolicy',
      metadata: { name: 'warm-up' },
      spec: { images: [WARM_UP_GUN], trust: { server: 'https://warm-up.invalid', trustOnFirstUse: true } },
    }, 'warm-up');
    const image = `${WARM_UP_GUN}:${WARM_UP_TAG}`;
    const request = parseReview({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: '00000000-0000-4000-8000-000000000000',
        kind: { group: '', version: 'v1', kind: 'Pod' },
        resource: { group: '', version: 'v1', resource: 'pods' },
        namespace: 'warm-up',
        operation: 'CREATE',
        userInfo: { username: 'trustgate:warm-up' },
        object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'warm-up', namespace: 'warm-up' }, spec: { containers: [{ name: 'c', image }] } },
        oldObject: null,
      },
    });
    const decision = await decide(request, 'mutate', {
      policies: new PolicySet([policy]), verifier, defaultAction: 'deny', mutateWorkloads: false, deadlineMs: 5000, credentialsFor: () => undefined,
    });
    const ok = decision.allowed && decision.patch.some((p) => p.value === `${image}@${WARM_UP_DIGEST}`);
    return { ok, ms: performance.now() - started };
  } catch {
    return { ok: false, ms: performance.now() - started };
  } finally {
    client.close();
  }
}
