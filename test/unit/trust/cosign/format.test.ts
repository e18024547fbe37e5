// The signatures test/support/cosign-format.ts builds have the shape of real cosign output
// (test/fixtures/cosign/keyed, cosign v3.1.3): same media types, same fields, same annotations,
// the same payload bytes for the same image. The attack tests built on them test cosign's format.
import { readFileSync } from 'node:fs';
import { keyPair, pushImage, signBundle, signLegacy, simpleSigningPayload } from '../../../support/cosign-format.js';
import { MemoryRegistry } from '../../../support/memory-registry.js';

interface Recorded {
  registry: string;
  repository: string;
  digest: string;
  registryContents: Parameters<MemoryRegistry['load']>[1];
}
const recorded = (name: string): MemoryRegistry & { f: Recorded } => {
  const f = JSON.parse(readFileSync(`test/fixtures/cosign/keyed/${name}.json`, 'utf8')) as Recorded;
  const r = new MemoryRegistry();
  r.load(f.repository, f.registryContents);
  return Object.assign(r, { f });
};

const json = (b: Buffer): Record<string, unknown> => JSON.parse(b.toString('utf8')) as Record<string, unknown>;
/** Field names, nested, values left out (digests, sizes and signatures differ by nature). */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'mediaType' || k === 'artifactType' || k === 'type' ? v : shape(v)]));
  return typeof value;
}
const manifestOf = (r: MemoryRegistry, digest: string) => json(r.contents.manifests.get(digest)!.bytes);

describe('cosign-format (test support) against real cosign output', () => {
  const key = keyPair('ecdsa-p256');

  it('builds the legacy .sig manifest and payload as cosign writes them', () => {
    const real = recorded('ecdsa-p256-legacy');
    const sigTag = `${real.f.digest.replace(':', '-')}.sig`;
    const ours = new MemoryRegistry();
    const digest = pushImage(ours, 'x/y', '1.0', 'one');
    signLegacy(ours, 'x/y', 'h/x/y', digest, key.privateKey);
    const realManifest = manifestOf(real, real.contents.tags.get(real.f.repository)!.get(sigTag)!);
    const ourManifest = manifestOf(ours, ours.contents.tags.get('x/y')!.get(`${digest.replace(':', '-')}.sig`)!);
    expect(shape(ourManifest)).toEqual(shape(realManifest));
    const realLayer = (realManifest.layers as { digest: string }[])[0]!;
    const realPayload = real.contents.blobs.get(realLayer.digest)!;
    // Byte for byte: the same image reference and digest give the same payload.
    expect(simpleSigningPayload(`${real.f.registry}/${real.f.repository}`, real.f.digest).equals(realPayload)).toBe(true);
  });

  it('builds the bundle referrer and bundle as cosign writes them', () => {
    const real = recorded('ecdsa-p256-bundle');
    const index = manifestOf(real, real.contents.tags.get(real.f.repository)!.get(real.f.digest.replace(':', '-'))!);
    const referrer = (index.manifests as { digest: string }[])[0]!.digest;
    const realManifest = manifestOf(real, referrer);
    const ours = new MemoryRegistry();
    const digest = pushImage(ours, 'x/y', '1.0', 'one');
    const ourManifest = manifestOf(ours, signBundle(ours, 'x/y', digest, key.privateKey));
    expect(shape(ourManifest)).toEqual(shape(realManifest));
    const bundleOf = (r: MemoryRegistry, m: Record<string, unknown>) => json(r.contents.blobs.get((m.layers as { digest: string }[])[0]!.digest)!);
    const realBundle = bundleOf(real, realManifest);
    const ourBundle = bundleOf(ours, ourManifest);
    expect(shape(ourBundle)).toEqual(shape(realBundle));
    const statement = (b: Record<string, unknown>) => json(Buffer.from((b.dsseEnvelope as { payload: string }).payload, 'base64'));
    expect(shape(statement(ourBundle))).toEqual(shape(statement(realBundle)));
  });
});
