// A tenant's identity pattern must not stall the event loop every admission shares (found by an
// attacker in issue 10; the defence: src/trust/cosign/regexp.ts, identity.ts).
//
// The finding: a tenant's ImagePolicy cosign authority with an identity pattern built to be
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
//
// The defence: a class is one sorted range list (binary search, whatever its member count); a
// program has at most 128 states, so one match over the longest identity matched (4,096
// characters) is at most 2^19 steps; a longer claimed issuer or subject is IDENTITY_MISMATCH
// before any pattern runs. The attacker's 3,002-state pattern is refused when the policy is read.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CachingVerifier, decide, parseReview, type DecisionContext } from '../../src/admission/index.js';
import { PolicySet } from '../../src/policy/index.js';
import { CosignVerifier } from '../../src/trust/cosign/index.js';
import { compileIdentityPattern, MAX_IDENTITY_LENGTH } from '../../src/trust/cosign/regexp.js';
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
/** The attacker's: 495 characters; 3,002 program states; every state stays alive on ASCII text; fails at the end. */
const PATTERN = `(?:[^${CLASS}]*){1000}Z`;
/** The same shape at the largest program accepted (3 × 42 + 2 = 128 states). */
const LARGEST = `(?:[^${CLASS}]*){42}Z`;

function tenantPolicy(issuerRegExp: string, identities = 1) {
  return policy('stall', [`${REGISTRY}/**`], {
    authorities: [{ cosign: { keyless: { identities: Array.from({ length: identities }, () => ({ issuerRegExp, subject: 'x' })) } } }],
  }, 'team-a');
}

/** Runs one review of the tenant's pod whose signature claims `issuer`; the decision and the event loop's longest stall. */
async function reviewWith(issuerRegExp: string, issuer: string, options: { identities?: number; layers?: number } = {}): Promise<{ decision: Awaited<ReturnType<typeof decide>>; worst: number }> {
  const tenant = tenantPolicy(issuerRegExp, options.identities);
  const registry = new MemoryRegistry();
  const digest = pushImage(registry, REPO, '1.0', 'anything');
  const payload = registry.putBlob(Buffer.from('{}'));
  const cert = certificate(issuer);
  for (let i = 0; i < (options.layers ?? 1); i++) {
    addLegacyLayer(registry, REPO, digest, {
      mediaType: SIMPLE_SIGNING, size: payload.size, digest: payload.digest,
      annotations: { 'dev.cosignproject.cosign/signature': 'AAAA', 'dev.sigstore.cosign/certificate': cert, n: String(i) },
    });
  }

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
  return { decision, worst };
}

it("the attacker's 3,002-state identity pattern is refused when the policy is read", () => {
  expect(() => tenantPolicy(PATTERN)).toThrow(/issuerRegExp: (pattern )?too complex/);
});

it('the costliest pattern accepted, over the longest issuer matched, does not stall the event loop', async () => {
  // Just under the length bound: the pattern runs over all of it.
  const { decision, worst } = await reviewWith(LARGEST, `https://issuer.example/${'b'.repeat(MAX_IDENTITY_LENGTH - 23)}`);
  expect(decision.allowed).toBe(false);
  expect(decision.message).toContain('IDENTITY_MISMATCH');
  // Other namespaces' admissions, /healthz and /readyz all share this event loop.
  expect(worst).toBeLessThan(100);
}, 120_000);

it('one match of the costliest pattern accepted takes a few ms at most', () => {
  const pattern = compileIdentityPattern(LARGEST);
  if (typeof pattern === 'string') throw new Error(pattern);
  const text = 'b'.repeat(MAX_IDENTITY_LENGTH);
  // The least of 5 runs: the machine is shared, and what is bounded is the work, not the wait.
  let least = Number.POSITIVE_INFINITY;
  for (let run = 0; run < 5; run++) {
    const started = performance.now();
    expect(pattern.test(text)).toBe(false);
    least = Math.min(least, performance.now() - started);
  }
  // 2^19 steps, some 13 ms on this machine; the attacker's pattern took seconds.
  expect(least).toBeLessThan(20);
});

it('a claimed issuer longer than any real one is IDENTITY_MISMATCH before any pattern runs', async () => {
  const { decision, worst } = await reviewWith(LARGEST, `https://issuer.example/${'b'.repeat(20_000)}`);
  expect(decision.allowed).toBe(false);
  expect(decision.message).toMatch(/IDENTITY_MISMATCH.*longer than 4096 characters/);
  expect(worst).toBeLessThan(100);
}, 120_000);

it("an image's signatures share one budget of pattern steps: 32 signatures × 16 costly identities stay cheap", async () => {
  // Each match is bounded (a few ms), but 32 layers × 16 identities of the costliest pattern over
  // a 4,096-character issuer would be 512 of them (~3 s). The image's checks share 2^21 steps,
  // after which the signatures left are refused unchecked.
  const { decision, worst } = await reviewWith(LARGEST, `https://issuer.example/${'b'.repeat(MAX_IDENTITY_LENGTH - 23)}`, { identities: 16, layers: 32 });
  expect(decision.allowed).toBe(false);
  expect(decision.message).toContain('TOO_LARGE: not checked: the image\'s signatures already took the 2097152 identity-pattern steps');
  expect(worst).toBeLessThan(100);
}, 120_000);
