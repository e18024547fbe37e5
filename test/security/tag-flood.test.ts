// Finding 8 of issue 9: one namespace floods the webhook with pods naming thousands of tags of
// one repository. Other namespaces' signed images must still be admitted and pinned, and the
// flood must cost the trust server a bounded number of requests (trust data is loaded once per
// repository and round, not once per tag). Real notary-server and registry; decide(),
// CachingVerifier and TrustClient in-process with serve's default timings.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CachingVerifier, decide, parseReview, type CacheObserver, type Decision } from '../../src/admission/index.js';
import { PolicySet } from '../../src/policy/index.js';
import { TrustClient } from '../../src/trust/index.js';
import { policy } from '../support/policies.js';
import { review, workload } from '../support/reviews.js';
import { TrustStack, type PushedImage } from '../support/stack.js';

let stack: TrustStack;
let gunA: string;
let gunB: string;
let signedB: PushedImage;
let policies: PolicySet;

const quiet: CacheObserver = { hit() {}, miss() {}, evicted() {}, size() {}, verified() {} };

beforeAll(async () => {
  stack = await TrustStack.start();
  const caBundle = readFileSync(stack.tls.caCert, 'utf8');
  gunA = `${stack.registry}/team-a/app`;
  gunB = `${stack.registry}/team-b/web`;
  // A's repository is signed (it has trust data) but the flood names tags nobody signed: the
  // refusal is TAG_NOT_SIGNED, which is never cached, so every review costs a real round.
  await stack.init(gunA);
  await stack.sign(gunA, '1.0', await stack.pushImage('team-a/app', '1.0', 'tag-flood: team a'));
  signedB = await stack.pushImage('team-b/web', '1.0', 'tag-flood: team b');
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

/** Requests notary-server logged for one repository's trust data. */
function notaryRequests(gun: string): number {
  const log = readFileSync(path.join(stack.dir, 'notary-server.log'), 'utf8');
  return log.split('\n').filter((line) => line.includes(`/v2/${gun}/_trust/tuf/`) && line.includes('http.request.uri')).length;
}

describe('a pod with thousands of tags of one repository', () => {
  it('is refused with TOO_MANY_IMAGES before anything is fetched', async () => {
    const { client, ask } = webhook();
    const before = notaryRequests(gunA);
    const answer = await ask('team-a', Array.from({ length: 6000 }, (_, i) => `${gunA}:t${i}`));
    client.close();
    expect(answer.allowed).toBe(false);
    expect(answer.reasons).toEqual(['TOO_MANY_IMAGES']);
    expect(answer.message).toMatch(/6000 distinct images/);
    expect(notaryRequests(gunA) - before).toBe(0);
  });

  it('does not keep other namespaces out, and costs the trust server a round per review, not per tag', async () => {
    const { client, ask } = webhook();
    const before = notaryRequests(gunA);
    // Team A: 6,000 distinct tags of one repository in pods of 200 containers, ten pods every
    // 1.5 s for 9 s, as a controller creating them would. Team B: its signed image, reviewed
    // again and again while that runs.
    const waves = 6;
    const perWave = 10;
    const floodReviews = waves * perWave;
    let floodDone = false;
    const floodSettled = (async () => {
      const answers: Promise<Decision>[] = [];
      for (let w = 0; w < waves; w++) {
        for (let k = 0; k < perWave; k++) {
          const p = w * perWave + k;
          answers.push(ask('team-a', Array.from({ length: 200 }, (_, i) => `${gunA}:t${(p % 30) * 200 + i}`)));
        }
        await new Promise((r) => setTimeout(r, 1500));
      }
      return Promise.all(answers);
    })().finally(() => (floodDone = true));
    const teamB: Decision[] = [];
    const reviewsOfB = (async () => {
      for (let i = 0; i < 40 && (i < 5 || !floodDone); i++) teamB.push(await ask('team-b', [`${gunB}:1.0`]));
    })();
    const [answersA] = await Promise.all([floodSettled, reviewsOfB]);
    // …and once the flood is over, B is not refused from a cache either.
    teamB.push(await ask('team-b', [`${gunB}:1.0`]));
    client.close();

    expect(teamB.map((d) => [d.allowed, d.reasons.join(',')])).toEqual(teamB.map(() => [true, '']));
    for (const d of teamB) expect(d.patch).toContainEqual({ op: 'replace', path: '/spec/containers/0/image', value: `${gunB}:1.0@${signedB.digest}` });
    expect(answersA.map((a) => [a.allowed, a.reasons.join(',')])).toEqual(answersA.map(() => [false, 'TAG_NOT_SIGNED']));
    // A round is root (first time only), timestamp, snapshot and targets: 4 requests.
    const requests = notaryRequests(gunA) - before;
    expect(requests).toBeGreaterThan(0); // the log is read right
    expect(requests).toBeLessThanOrEqual(4 * floodReviews);
  });
});
