// ATTACK (finding): ADR 10 "Cheap refusals first" refuses copied-in signatures of OTHER signers
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

  const started = performance.now();
  const r = await refusal(verifyCosign(registry, `${LEGACY.name}@${ATTACKER_DIGEST}`, spec));
  const elapsed = performance.now() - started;
  expect(r.code).toBe('PAYLOAD_MISMATCH');
  // 32 JSON comparisons of a few hundred bytes each need well under 50 ms.
  expect(elapsed).toBeLessThan(50);
});
