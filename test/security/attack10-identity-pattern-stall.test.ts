// ATTACK (finding): a tenant's ImagePolicy cosign authority with an identity pattern built to be
// expensive, plus a certificate with a long issuer/SAN that the tenant pushes next to an image,
// stalls trustgate's event loop for seconds to hours. The pattern matcher is linear in the text,
// but its constant is the program size (up to 4,096 states from counted repetition) times the
// cost of a character-class test (a class of ~480 members is tested member by member), and the
// text is the *unverified* certificate's claimed identity (claimedIdentity runs before any chain
// check), whose length the attacker chooses (a .sig manifest may be 1 MiB).
//
// Measured here: ~1.5 ms per character of issuer per identity. One 100,000-character issuer ×
// 16 identities ≈ 40 minutes of synchronous work for ONE signature; nothing aborts it (the
// deadline is checked only between signatures).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CachingVerifier, decide, parseReview, type DecisionContext } from '../../src/admission/index.js';
import { PolicySet } from '../../src/policy/index.js';
import { CosignVerifier } from '../../src/trust/cosign/index.js';
import type { KindVerifier } from '../../src/trust/index.js';
import { addLegacyLayer, pushImage, SIMPLE_SIGNING } from '../support/cosign-format.js';
import { MemoryRegistry } from '../support/memory-registry.js';
import { policy } from '../support/policies.js';
import { review, workload } from '../support/reviews.js';

const REPO = 'tenant/app';
const REGISTRY = 'registry.tenant.example';

/** A self-signed certificate claiming a Fulcio v1 issuer extension of `issuer`. */
function certificate(issuer: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'attack10-'));
  writeFileSync(
    path.join(dir, 'ext.cnf'),
    `[req]\ndistinguished_name=dn\n[dn]\n[ext]\nsubjectAltName=URI:https://x.example/\n1.3.6.1.4.1.57264.1.1=DER:${Buffer.from(issuer).toString('hex')}\n`,
  );
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'k.pem'), '-out', path.join(dir, 'c.pem'), '-subj', '/CN=x', '-days', '2', '-config', path.join(dir, 'ext.cnf'), '-extensions', 'ext'], { stdio: 'ignore' });
  return readFileSync(path.join(dir, 'c.pem'), 'utf8');
}

/** 480 Greek/Coptic/Cyrillic code points, none of which occurs in the issuer. */
const CLASS = Array.from({ length: 480 }, (_, i) => String.fromCodePoint(0x391 + i)).join('');
/** 495 characters; 3,002 program states; every state stays alive on ASCII text; fails at the end. */
const PATTERN = `(?:[^${CLASS}]*){1000}Z`;

it("a tenant's identity pattern and a long claimed issuer do not stall the event loop", async () => {
  const tenant = policy('stall', [`${REGISTRY}/**`], {
    authorities: [{ cosign: { keyless: { identities: [{ issuerRegExp: PATTERN, subject: 'x' }] } } }],
  }, 'team-a');

  const registry = new MemoryRegistry();
  const digest = pushImage(registry, REPO, '1.0', 'anything');
  const payload = registry.putBlob(Buffer.from('{}'));
  // A modest 3,000-character issuer (a real attack uses ~700,000: the .sig manifest may be 1 MiB).
  const cert = certificate(`https://issuer.example/${'b'.repeat(3000)}`);
  addLegacyLayer(registry, REPO, digest, {
    mediaType: SIMPLE_SIGNING, size: payload.size, digest: payload.digest,
    annotations: { 'dev.cosignproject.cosign/signature': 'AAAA', 'dev.sigstore.cosign/certificate': cert },
  });

  const observer = { hit: () => undefined, miss: () => undefined, evicted: () => undefined, size: () => undefined, verified: () => undefined };
  const verifier = new CachingVerifier([new CosignVerifier(registry)] as KindVerifier<never>[], { maxEntries: 100, maxBytes: 1 << 20, maxTtlMs: 60_000, negativeTtlMs: 60_000, timeoutMs: 5000, servers: {}, now: Date.now }, observer);
  const ctx: DecisionContext = { policies: new PolicySet([tenant]), verifier, defaultAction: 'deny', mutateWorkloads: false, deadlineMs: 5000, credentialsFor: () => undefined };

  // The event loop's longest stall while the review runs.
  let last = performance.now();
  let worst = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 10);
  const decision = await decide(parseReview(review('Pod', workload('Pod', 'web', { containers: [{ name: 'app', image: `${REGISTRY}/${REPO}:1.0` }] }), { namespace: 'team-a' })), 'mutate', ctx);
  await new Promise((r) => setTimeout(r, 20));
  clearInterval(tick);

  expect(decision.allowed).toBe(false);
  // Other namespaces' admissions, /healthz and /readyz all share this event loop.
  expect(worst).toBeLessThan(500);
}, 120_000);
