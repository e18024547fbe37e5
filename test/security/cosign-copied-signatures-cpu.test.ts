// Copied-in signatures cost bounded CPU per image (found by an attacker in issue 10; the defence:
// check-legacy.ts / check-bundle.ts read what the payload or statement names before any keyless
// crypto, and every image's keyed checks share MAX_KEY_OPERATIONS public-key operations).
//
// The finding: ADR 10 "Cheap refusals first" refuses copied-in signatures of OTHER signers
// before any crypto (the claimed identity), but not copies of the RIGHT signer's signatures of
// OTHER images: their certificate claims the policy's identity, so each gets the full keyless
// check (chain, SCT, SET, log body, signature: ~10-15 ms of CPU) and only then is the payload
// found to name another digest (PAYLOAD_MISMATCH). A publisher's signatures are public (every
// signed image's .sig tag / referrers, and Rekor). Whoever can push to any repository a keyless
// policy covers pushes new digests, each with 32 such layers (and 32 bundles): every digest is a
// new cache key, each review burns up to its whole deadline of the one event-loop thread, and
// other namespaces' reviews queue behind it. The claim check is pure JSON and could run first.
import { LEGACY, legacyRegistry, TRUSTED_ROOT } from '../support/cosign-fixtures.js';
import { cosignSpec, refusal, verifyCosign } from '../support/cosign-verify.js';

const ATTACKER_DIGEST = `sha256:${'a'.repeat(64)}`;

it("the signer's signatures of other images copied 32 times under a new digest are refused without crypto", async () => {
  const registry = legacyRegistry({
    forDigest: ATTACKER_DIGEST,
    edit: (m) => {
      const keyless = m.layers[1]!;
      m.layers = Array.from({ length: 32 }, () => structuredClone(keyless));
    },
  });
  const spec = cosignSpec({ keyless: { identities: [{ issuer: LEGACY.issuer, subject: LEGACY.identity }], trustedRoot: TRUSTED_ROOT } });
  // Warm up sigstore-js's lazy load, so only the checks are timed.
  await refusal(verifyCosign(legacyRegistry(), `${LEGACY.name}@${LEGACY.digest}`, spec));

  // The least of 3 runs: the machine is shared, and what is bounded is the work, not the wait.
  let elapsed = Number.POSITIVE_INFINITY;
  let r = { code: '', message: '' };
  for (let run = 0; run < 3; run++) {
    const started = performance.now();
    r = await refusal(verifyCosign(registry, `${LEGACY.name}@${ATTACKER_DIGEST}`, spec));
    elapsed = Math.min(elapsed, performance.now() - started);
  }
  expect(r.code).toBe('PAYLOAD_MISMATCH');
  // 32 JSON comparisons of a few hundred bytes each need well under 50 ms.
  expect(elapsed).toBeLessThan(50);
});

// Same class, keyed: every junk signature is tried against every policy key. The attacker found
// an Ed25519 key tried twice, once as Ed25519ph in pure-JS BigInt arithmetic (~2.5 ms each):
// 16 Ed25519 keys (a tenant's own policy) × 64 junk signatures = 1,024 Ed25519ph checks ≈ 2.5 s
// of one thread per image. Ed25519ph is gone (pure Ed25519 via node:crypto, ~50 µs), which left
// 1,024 checks at ~190 ms, just under this test's time bound; the bound that does not depend on
// the key type is the cap: an image's signatures share 128 public-key operations (the Notary
// side caps a document at 64), and the signatures left once they are spent are refused unchecked.
import { addLegacyLayer, attachBundle, keyPair, pushImage, SIMPLE_SIGNING } from '../support/cosign-format.js';
import { MemoryRegistry } from '../support/memory-registry.js';

it('junk signatures against an Ed25519 keyed authority cost a bounded amount of CPU per image', async () => {
  const keys = Array.from({ length: 16 }, () => keyPair('ed25519'));
  const spec = cosignSpec({ keys: keys.map((k) => k.pem), tlog: { required: false } });
  const registry = new MemoryRegistry();
  const repo = 'attacker/app';
  const digest = pushImage(registry, repo, '1.0', 'x');
  // R: a point that decodes (the first key's own encoding); S = 1 < L: the full check runs.
  const raw = keys[0]!.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const junk = Buffer.concat([raw, Buffer.alloc(32, 1)]).toString('base64');
  const payload = registry.putBlob(Buffer.from('{}'));
  for (let i = 0; i < 32; i++) {
    addLegacyLayer(registry, repo, digest, { mediaType: SIMPLE_SIGNING, size: payload.size, digest: payload.digest, annotations: { 'dev.cosignproject.cosign/signature': junk, n: String(i) } });
    const bundle = { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', verificationMaterial: { publicKey: { hint: 'x' } }, dsseEnvelope: { payload: Buffer.from(`{"n":${i}}`).toString('base64'), payloadType: 'application/vnd.in-toto+json', signatures: [{ sig: junk }] } };
    attachBundle(registry, repo, digest, Buffer.from(JSON.stringify(bundle)));
  }
  const started = performance.now();
  const r = await refusal(verifyCosign(registry, `registry.attacker.example/${repo}:1.0`, spec));
  const elapsed = performance.now() - started;
  expect(r.code).toBe('SIGNATURE_INVALID');
  // 8 signatures × 16 keys, then the rest unchecked: 128 operations, not 1,024.
  expect(r.message).toContain('TOO_LARGE: not checked: the image\'s signatures already took the 128 public-key operations allowed per image');
  expect(r.message.match(/SIGNATURE_INVALID: not a signature/g)).toHaveLength(8);
  expect(elapsed).toBeLessThan(200);
});
