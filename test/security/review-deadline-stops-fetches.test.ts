// Exhaustion: a trust server that never answers. The review's deadline denies the pod (TIMEOUT);
// and the verification nobody waits for any more must stop there too, its connection closed and
// its load gone — not hold a fair-share slot, a socket and the load for the trust client's own
// 30 s timeout while the attacker starts more (issue 10, part 1: the abort signal of
// VerifyContext). Real decide(), CachingVerifier (Notary's verifier) and TrustClient; the attack
// server stands in for a stalled Notary server, a fault the real one cannot produce.
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CachingVerifier, decide, parseReview, type DecisionContext } from '../../src/admission/index.js';
import { PolicySet } from '../../src/policy/index.js';
import { TrustClient } from '../../src/trust/index.js';
import { AttackServer } from '../support/attack-server.js';
import { eventually } from '../support/eventually.js';
import { policy } from '../support/policies.js';
import { review, workload } from '../support/reviews.js';
import { makeTls, type TlsFiles } from '../support/tls.js';

const GUN = '127.0.0.1:5000/stalled/app';
let tls: TlsFiles;
let server: AttackServer;
let url: string;

beforeAll(async () => {
  tls = await makeTls(mkdtempSync(path.join(os.tmpdir(), 'trustgate-stall-')));
  server = new AttackServer(tls, GUN);
  server.faults.set('root', 'stall');
  url = await server.listen();
});

afterAll(async () => {
  await server?.close();
});

it('a stalled trust server costs a review its deadline, and nothing after it', async () => {
  const client = new TrustClient({ requestTimeoutMs: 30_000 });
  const observer = { hit: () => undefined, miss: () => undefined, evicted: () => undefined, size: () => undefined, verified: () => undefined };
  const verifier = new CachingVerifier(client, { maxEntries: 100, maxBytes: 1 << 20, maxTtlMs: 60_000, negativeTtlMs: 60_000, timeoutMs: 30_000, servers: {}, now: Date.now }, observer);
  const stalled = policy('stalled', ['**'], { trust: { server: url, caBundle: readFileSync(tls.caCert, 'utf8'), trustOnFirstUse: true } });
  const ctx: DecisionContext = { policies: new PolicySet([stalled]), verifier, defaultAction: 'deny', mutateWorkloads: false, deadlineMs: 300, credentialsFor: () => undefined };
  try {
    const started = Date.now();
    const d = await decide(parseReview(review('Pod', workload('Pod', 'web', { containers: [{ name: 'app', image: `${GUN}:1.0` }] }))), 'mutate', ctx);
    expect(d.allowed).toBe(false);
    expect(d.message).toMatch(/TIMEOUT: verification of 127.0.0.1:5000\/stalled\/app:1.0 did not finish within 300 ms/);
    expect(server.requests).toContain('root');
    // The load, its slot and its socket are released within moments of the deadline, not after 30 s.
    await eventually(() => ({ loads: client.sizes().loads, ...verifier.verifications() }), (v) => v.loads === 0 && v.running === 0 && v.waiting === 0, 'the stalled verification', 2000);
    expect(Date.now() - started).toBeLessThan(3000);
  } finally {
    client.close();
  }
});
