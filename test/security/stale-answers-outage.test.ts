// Through outages (issue 12, docs/adr/0014): whoever can make a trust server fail — answer 5xx,
// stall — makes trustgate reuse the last verified answer of an image, and gains nothing more:
// an image never verified is still refused, the answer is never reused past the expiry of the
// metadata behind it, and tampered metadata served after the outage is refused, not masked by
// the answer it refutes. Real decide(), CachingVerifier, TrustClient and signed Notary metadata;
// the attack server stands in for the failing notary-server (faults the real one cannot produce
// on demand).
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CachingVerifier, decide, parseReview, STALE_ANSWER, type DecisionContext } from '../../src/admission/index.js';
import { PolicySet } from '../../src/policy/index.js';
import { TrustClient } from '../../src/trust/index.js';
import { AttackServer } from '../support/attack-server.js';
import { policy } from '../support/policies.js';
import { buildRepository, digestOf, standardKeys, standardSpec } from '../support/repo-builder.js';
import { review, workload } from '../support/reviews.js';
import { makeTls, type TlsFiles } from '../support/tls.js';

const GUN = '127.0.0.1:5000/outage/app';
const V1 = digestOf('v1');
const DAY = 86_400_000;
let tls: TlsFiles;
let server: AttackServer;
let url: string;
let original: Map<string, Buffer>;

beforeAll(async () => {
  tls = await makeTls(mkdtempSync(path.join(os.tmpdir(), 'trustgate-outage-')));
  server = new AttackServer(tls, GUN);
  // The timestamp expires first (14 days): the earliest expiry of the metadata behind the answer.
  original = buildRepository(standardSpec(GUN, standardKeys(GUN), { '1.0': V1, '2.0': V1 })).files;
  url = await server.listen();
});

afterAll(async () => {
  await server?.close();
});

function setup() {
  server.files = new Map(original);
  server.faults.clear();
  let clock = Date.now();
  const client = new TrustClient({ requestTimeoutMs: 2000 });
  const stale: string[] = [];
  const observer = { hit: () => undefined, miss: () => undefined, evicted: () => undefined, size: () => undefined, verified: () => undefined, stale: (kind: string) => void stale.push(kind) };
  const verifier = new CachingVerifier(client, { maxEntries: 100, maxBytes: 1 << 20, maxTtlMs: 300_000, negativeTtlMs: 0, timeoutMs: 5000, servers: {}, now: () => clock }, observer);
  const notary = policy('outage', ['**'], { trust: { server: url, caBundle: readFileSync(tls.caCert, 'utf8'), trustOnFirstUse: true } });
  const ctx: DecisionContext = { policies: new PolicySet([notary]), verifier, defaultAction: 'deny', mutateWorkloads: false, deadlineMs: 1500, credentialsFor: () => undefined };
  const admit = (tag: string) => decide(parseReview(review('Pod', workload('Pod', 'web', { containers: [{ name: 'app', image: `${GUN}:${tag}` }] }))), 'mutate', ctx);
  return { client, admit, stale, tick: (ms: number) => (clock += ms), now: () => clock };
}

it('an outage (5xx, a stalled server) reuses a verified answer with a warning, and never admits an image not verified before', async () => {
  const { client, admit, stale, tick } = setup();
  try {
    expect(await admit('1.0')).toMatchObject({ allowed: true, warnings: [] });
    tick(301_000);
    for (const fault of ['error', 'stall'] as const) {
      server.faults.set('timestamp', fault);
      const d = await admit('1.0');
      expect({ fault, allowed: d.allowed, reasons: d.reasons }).toEqual({ fault, allowed: true, reasons: [STALE_ANSWER] });
      expect(d.warnings[0]).toMatch(/admitted on its last verified answer: .*\((SERVER_ERROR|TIMEOUT)\)/);
      expect(d.patch.some((p) => p.value === `${GUN}:1.0@${V1}`)).toBe(true);
      // Another tag of the same repository was never verified: refused, naming the outage.
      const unseen = await admit('2.0');
      expect(unseen.allowed).toBe(false);
      expect(unseen.message).toMatch(fault === 'error' ? /SERVER_ERROR: .*HTTP 503/ : /TIMEOUT/);
    }
    expect(stale.length).toBeGreaterThanOrEqual(2);
  } finally {
    client.close();
  }
});

it('an outage cannot stretch an answer past the expiry of the metadata behind it', async () => {
  const { client, admit, tick } = setup();
  try {
    await admit('1.0');
    server.faults.set('timestamp', 'error');
    tick(14 * DAY - 60_000);
    expect((await admit('1.0')).allowed).toBe(true);
    tick(60_001); // the timestamp has expired: nothing vouches for the answer any more
    const d = await admit('1.0');
    expect(d.allowed).toBe(false);
    expect(d.message).toMatch(/SERVER_ERROR/);
  } finally {
    client.close();
  }
});

it('tampered metadata served after an outage is refused, and a new outage does not bring the refuted answer back', async () => {
  const { client, admit, tick } = setup();
  try {
    await admit('1.0');
    server.faults.set('timestamp', 'error');
    tick(301_000);
    expect((await admit('1.0')).allowed).toBe(true);
    // The server comes back serving a timestamp whose signature no longer covers its content.
    server.faults.clear();
    const forged = JSON.parse(original.get('timestamp')!.toString('utf8')) as { signed: { version: number } };
    forged.signed.version = 2;
    server.files.set('timestamp', Buffer.from(JSON.stringify(forged)));
    const tampered = await admit('1.0');
    expect(tampered.allowed).toBe(false);
    expect(tampered.message).not.toMatch(/TIMEOUT|UNREACHABLE|SERVER_ERROR/);
    expect(tampered.warnings).toEqual([]);
    server.faults.set('timestamp', 'error');
    const after = await admit('1.0');
    expect(after.allowed).toBe(false);
    expect(after.message).toMatch(/SERVER_ERROR/);
  } finally {
    client.close();
  }
});
