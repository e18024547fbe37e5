// Finding 8 of issue 9, its last part: one namespace floods the webhook with pods that each name
// 200 DISTINCT repositories on the same trust server (under TOO_MANY_IMAGES, and each a lookup of
// its own, so sharing a round per repository does not help). Every other namespace must still be
// admitted: one namespace's flood takes at most its share of verifications in flight, and a
// lookup queued past the review's deadline is a TIMEOUT for that namespace only.
// Real notary-server and registry; decide(), CachingVerifier and TrustClient in-process with
// serve's default timings (as test/security/tag-flood.test.ts).
import { readFileSync } from 'node:fs';
import { CachingVerifier, decide, parseReview, type CacheObserver, type Decision } from '../../src/admission/index.js';
import { PolicySet } from '../../src/policy/index.js';
import { TrustClient } from '../../src/trust/index.js';
import { policy } from '../support/policies.js';
import { review, workload } from '../support/reviews.js';
import { TrustStack, type PushedImage } from '../support/stack.js';

let stack: TrustStack;
let gunB: string;
let signedB: PushedImage;
let policies: PolicySet;

const quiet: CacheObserver = { hit() {}, miss() {}, evicted() {}, size() {}, verified() {} };

beforeAll(async () => {
  stack = await TrustStack.start();
  const caBundle = readFileSync(stack.tls.caCert, 'utf8');
  gunB = `${stack.registry}/team-b/web`;
  signedB = await stack.pushImage('team-b/web', '1.0', 'namespace-fairness: team b');
  await stack.init(gunB);
  await stack.sign(gunB, '1.0', signedB);
  policies = new PolicySet([policy('signed', [`${stack.registry}/**`], { trust: { server: stack.notaryUrl, caBundle, trustOnFirstUse: true } })]);
});

afterAll(async () => {
  await stack?.stop();
});

/** serve's defaults (config.deadlineSeconds 9, trust.requestTimeoutSeconds 5, cache TTLs). */
function webhook() {
  const client = new TrustClient({ requestTimeoutMs: 5000 });
  // B's answers are not kept (maxTtl 0): each of B's reviews is a real round of trust fetches,
  // as a first deployment during the flood would be.
  const verifier = new CachingVerifier(
    client,
    { maxEntries: 10_000, maxBytes: 50 << 20, maxTtlMs: 0, negativeTtlMs: 10_000, timeoutMs: 9000, servers: {}, now: Date.now },
    quiet,
  );
  const ctx = { policies, verifier, defaultAction: 'deny' as const, mutateWorkloads: true, deadlineMs: 9000, credentialsFor: () => undefined };
  const ask = (namespace: string, images: string[]): Promise<Decision> => {
    const object = workload('Pod', 'p', { containers: images.map((image, i) => ({ name: `c${i}`, image })) }, { namespace });
    return decide(parseReview(review('Pod', object, { namespace })), 'mutate', ctx);
  };
  return { client, ask };
}

describe('a namespace creating pods of 200 distinct repositories each', () => {
  it('does not keep another namespace out, and gets only its own answers or TIMEOUT', async () => {
    const { client, ask } = webhook();
    // Team A: pods of 200 distinct repositories nobody signed (no trust data), 40 pods every
    // 1.5 s for 9 s, as a controller creating them would: 48,000 distinct lookups. Team B: its
    // signed image, reviewed again and again while that runs.
    const waves = 6;
    const perWave = 40;
    let floodDone = false;
    const floodSettled = (async () => {
      const answers: Promise<Decision>[] = [];
      for (let w = 0; w < waves; w++) {
        for (let k = 0; k < perWave; k++) {
          const p = w * perWave + k;
          answers.push(ask('team-a', Array.from({ length: 200 }, (_, i) => `${stack.registry}/team-a/r${p * 200 + i}:1.0`)));
        }
        await new Promise((r) => setTimeout(r, 1500));
      }
      return Promise.all(answers);
    })().finally(() => (floodDone = true));
    const teamB: Decision[] = [];
    const started = Date.now();
    let lastOfB = 0;
    const reviewsOfB = (async () => {
      // A review of B every 250 ms for as long as the flood lasts.
      for (let i = 0; i < 200 && (i < 5 || !floodDone); i++) {
        const t = Date.now();
        teamB.push(await ask('team-b', [`${gunB}:1.0`]));
        lastOfB = t - started;
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const [answersA] = await Promise.all([floodSettled, reviewsOfB]);
    teamB.push(await ask('team-b', [`${gunB}:1.0`]));
    client.close();

    // B was reviewed throughout the flood (A's last wave starts at 7.5 s).
    expect(lastOfB).toBeGreaterThan(8000);
    expect(teamB.map((d) => [d.allowed, d.reasons.join(',')])).toEqual(teamB.map(() => [true, '']));
    for (const d of teamB) expect(d.patch).toContainEqual({ op: 'replace', path: '/spec/containers/0/image', value: `${gunB}:1.0@${signedB.digest}` });
    for (const a of answersA) {
      expect(a.allowed).toBe(false);
      expect(a.reasons.length).toBeGreaterThan(0);
      for (const code of a.reasons) expect(['NO_TRUST_DATA', 'TIMEOUT']).toContain(code);
    }
    // Some of A's lookups were answered for real, not all refused unasked.
    expect(answersA.some((a) => a.reasons.includes('NO_TRUST_DATA'))).toBe(true);
  });
});
