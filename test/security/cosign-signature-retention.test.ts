// What one cosign verification holds while it runs is bounded (found by an attacker in issue 10;
// the defence: src/trust/in-order.ts inOrder lets each signature go once it is handed out,
// so a verification holds at most FETCH_CONCURRENCY fetched signatures and the one checked).
//
// The finding: what one cosign verification keeps while it runs is not bounded by the
// registry client's byte budget (24 MiB for everything in flight): src/trust/in-order.ts inOrder()
// keeps every fetched signature (bundles up to 256 KiB, payloads up to 64 KiB, 32 of each, plus
// the parsed .sig manifest) until the verification ends, and the fair share lets 16 run per
// namespace (64 in all). Whoever can make trustgate verify images on a registry they run — a
// tenant with its own ImagePolicy (e.g. `registry.insecure: true` for a registry pod in its own
// namespace), or a pod author under any cluster cosign policy whose pattern covers a host or
// repository they can push to — serves 32 junk bundles and 32 junk payloads per image and
// stalls the last one: each verification then holds ~10 MiB; one namespace's 16 hold ~160 MiB,
// four namespaces' 64 ~640 MiB, against the chart's 256 Mi.
//
// The registry here is in memory, but hands out a fresh copy of every blob, as the network client
// does (each response body is a new Buffer).
import { CachingVerifier } from '../../src/admission/index.js';
import { parseReference } from '../../src/reference/index.js';
import type { RegistryConnection } from '../../src/registry/oci/types.js';
import { CosignVerifier } from '../../src/trust/cosign/index.js';
import { FETCH_CONCURRENCY } from '../../src/trust/cosign/limits.js';
import { TrustError, type KindVerifier } from '../../src/trust/index.js';
import { collectGarbage } from '../support/gc.js';
import { addLegacyLayer, attachBundle, keyPair, pushImage, SIMPLE_SIGNING } from '../support/cosign-format.js';
import { cosignSpec } from '../support/cosign-verify.js';
import { MemoryRegistry } from '../support/memory-registry.js';

const IMAGES = 16;
const LAST_BLOB = 64;

class CopyingRegistry extends MemoryRegistry {
  readonly blobCalls = new Map<string, number>();
  // Every blob handed out, weakly: what is still alive after a full collection is what the
  // verifications hold. (process.memoryUsage().arrayBuffers is no measure of it: V8 releases the
  // backing stores of collected buffers on a background thread, some time after the collection.)
  readonly handedOut: WeakRef<Buffer>[] = [];
  stalled = 0;
  private readonly waiting: (() => void)[] = [];

  override async blob(conn: RegistryConnection, repository: string, digest: string, maxBytes: number): Promise<Buffer> {
    const n = (this.blobCalls.get(repository) ?? 0) + 1;
    this.blobCalls.set(repository, n);
    if (n === LAST_BLOB) {
      // The attacker's registry answers the last signature slowly (within the deadline).
      this.stalled++;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      throw new TrustError('REGISTRY_ERROR', 'gone');
    }
    const copy = Buffer.from(await super.blob(conn, repository, digest, maxBytes));
    this.handedOut.push(new WeakRef(copy));
    return copy;
  }

  liveBytes(): number {
    let bytes = 0;
    for (const ref of this.handedOut) bytes += ref.deref()?.length ?? 0;
    return bytes;
  }

  release(): void {
    for (const r of this.waiting.splice(0)) r();
  }
}

it('verifications in flight hold a bounded amount of signature bytes', async () => {
  const registry = new CopyingRegistry();
  const bundle = Buffer.from(JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', pad: 'A'.repeat(256 * 1024 - 100) }));
  const payload = registry.putBlob(Buffer.from(JSON.stringify({ pad: 'B'.repeat(64 * 1024 - 20) })));
  const refs = [];
  for (let i = 0; i < IMAGES; i++) {
    const repo = `attacker/app${i}`;
    const digest = pushImage(registry, repo, '1.0', `image ${i}`);
    for (let s = 0; s < 32; s++) attachBundle(registry, repo, digest, bundle, 1000 + s);
    for (let s = 0; s < 32; s++) addLegacyLayer(registry, repo, digest, { mediaType: SIMPLE_SIGNING, size: payload.size, digest: payload.digest, annotations: { 'dev.cosignproject.cosign/signature': 'AAAA' } });
    refs.push(parseReference(`registry.attacker.example/${repo}:1.0`));
  }
  const spec = cosignSpec({ keys: [keyPair('ecdsa-p256').pem], tlog: { required: false } });
  const observer = { hit: () => undefined, miss: () => undefined, evicted: () => undefined, size: () => undefined, verified: () => undefined };
  const verifier = new CachingVerifier([new CosignVerifier(registry)] as KindVerifier<never>[], { maxEntries: 100, maxBytes: 1 << 20, maxTtlMs: 60_000, negativeTtlMs: 60_000, timeoutMs: 30_000, servers: {}, now: Date.now }, observer);

  // One verification of the same shape first, so that what loads on first use (sigstore-js's
  // bundle parser, compiled code) is not counted as held by the ones measured.
  const warm = pushImage(registry, 'attacker/warm', '1.0', 'warm');
  attachBundle(registry, 'attacker/warm', warm, bundle, 1000);
  addLegacyLayer(registry, 'attacker/warm', warm, { mediaType: SIMPLE_SIGNING, size: payload.size, digest: payload.digest, annotations: { 'dev.cosignproject.cosign/signature': 'AAAA' } });
  await expect(verifier.verify(parseReference('registry.attacker.example/attacker/warm:1.0'), spec, undefined, 'team-b')).rejects.toThrow();

  await new Promise((r) => setTimeout(r, 0));
  collectGarbage();
  const base = process.memoryUsage();
  const all = Promise.allSettled(refs.map((ref) => verifier.verify(ref, spec, undefined, 'team-a')));
  while (registry.stalled < IMAGES) await new Promise((r) => setTimeout(r, 20));
  // A WeakRef's target survives the job that dereferenced it: collect after a macrotask.
  await new Promise((r) => setTimeout(r, 0));
  collectGarbage();
  const now = process.memoryUsage();
  const heldMiB = (now.heapUsed - base.heapUsed + registry.liveBytes()) / 2 ** 20;
  registry.release();
  const results = await all;
  expect(results.every((r) => r.status === 'rejected')).toBe(true);
  // Each verification holds at most FETCH_CONCURRENCY fetched signatures and the one checked
  // (bundles of 256 KiB): 20 MiB for the 16 here, not the ~160 MiB of keeping them all.
  expect(heldMiB).toBeLessThan((IMAGES * (FETCH_CONCURRENCY + 1)) / 4);
}, 120_000);
