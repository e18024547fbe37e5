// DEFENCE: the spec part of every cache, in-flight and fair-share key is a SHA-256 of the kind's spec
// key (src/admission/verifier.ts), and cache.maxBytes counts each key. The attack it proves closed:
// the verification cache's byte bound (cache.maxBytes, 64 MiB) counts each
// answer's value (~1 KB) but not its KEY, and a cosign key embeds the authority's whole spec key:
// every identity as written, JSON-encoded twice. A tenant's keyless authority with 16 identities
// whose exact issuer and subject are 1,024 control characters each (accepted: "1-1024
// characters") has a spec key of ~230 KB, so every cached answer for it costs ~230 KB of
// heap the cache does not see. 1,000 cached answers (tags of the tenant's own registry: missing
// tags are cached REGISTRY_ERROR refusals for negativeTtl; its own keylessly-signed tags are
// cached for maxTtl, 300 s) ≈ 230 MB; the entry bound (10,000) allows ten times that.
import { CachingVerifier } from '../../src/admission/index.js';
import { parsePolicy } from '../../src/policy/index.js';
import { parseReference } from '../../src/reference/index.js';
import { CosignVerifier } from '../../src/trust/cosign/index.js';
import type { AuthoritySpec, KindVerifier } from '../../src/trust/index.js';
import { collectGarbage } from '../support/gc.js';
import { MemoryRegistry } from '../support/memory-registry.js';

it('cached answers of a tenant authority stay within cache.maxBytes, keys included', async () => {
  const junk = (c: number) => String.fromCharCode(1).repeat(1023) + String.fromCharCode(65 + c);
  const identities = Array.from({ length: 16 }, (_, i) => ({ issuer: junk(i), subject: junk(i + 20) }));
  const policy = parsePolicy({
    apiVersion: 'trustgate.dev/v1alpha1', kind: 'ImagePolicy', metadata: { name: 'big-key', namespace: 'team-a' },
    spec: { images: ['registry.tenant.example/**'], authorities: [{ cosign: { keyless: { identities } } }] },
  }, 'attack');
  const spec = policy.authorities[0]!.spec as AuthoritySpec & { key: string };
  const maxBytes = 64 * 2 ** 20;
  const observer = { hit: () => undefined, miss: () => undefined, evicted: () => undefined, size: () => undefined, verified: () => undefined };
  const verifier = new CachingVerifier([new CosignVerifier(new MemoryRegistry())] as KindVerifier<never>[], { maxEntries: 10_000, maxBytes, maxTtlMs: 300_000, negativeTtlMs: 10_000, timeoutMs: 5000, servers: {}, now: Date.now }, observer);

  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 1000; i++) {
    await verifier.verify(parseReference(`registry.tenant.example/r${i}:missing`), spec, undefined, 'team-a').catch(() => undefined);
  }
  collectGarbage();
  const grown = process.memoryUsage().heapUsed - before;
  // Every one of them is cached (a cacheable refusal) and answered from the cache.
  expect(verifier.peek(parseReference('registry.tenant.example/r999:missing'), spec, undefined)).toBeDefined();
  expect(spec.key.length).toBeGreaterThan(200_000);
  expect(grown).toBeLessThan(maxBytes);
}, 120_000);
