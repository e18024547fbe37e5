// Attacks on real cosign output (test/fixtures/cosign/keyed, signed by cosign v3.1.3): the
// signer's genuine signature moved to another image, and the tag moved to an unsigned push.
import { readFileSync } from 'node:fs';
import { attachBundle, pushImage } from '../support/cosign-format.js';
import { cosignSpec, refusal, verifyCosign } from '../support/cosign-verify.js';
import { MemoryRegistry } from '../support/memory-registry.js';

interface Recorded {
  registry: string;
  repository: string;
  digest: string;
  publicKey: string;
  registryContents: Parameters<MemoryRegistry['load']>[1];
}
const load = (name: string) => JSON.parse(readFileSync(`test/fixtures/cosign/keyed/${name}.json`, 'utf8')) as Recorded;

describe.each(['ecdsa-p256-legacy', 'ecdsa-p256-bundle'])('%s', (name) => {
  const f = load(name);
  const spec = cosignSpec({ keys: [f.publicKey], tlog: { required: false } });
  const image = `${f.registry}/${f.repository}:1.0`;
  const registry = (): MemoryRegistry => {
    const r = new MemoryRegistry();
    r.load(f.repository, f.registryContents);
    return r;
  };

  it('refuses the tag moved to an unsigned manifest: the digest checked and pinned is the new one', async () => {
    const r = registry();
    await expect(verifyCosign(r, image, spec)).resolves.toMatchObject({ digest: f.digest });
    const pushed = pushImage(r, f.repository, '1.0', 'pushed over the signed tag');
    const refused = await refusal(verifyCosign(r, image, spec));
    expect(refused.code).toBe('NO_SIGNATURES');
    expect(refused.message).toContain(pushed);
  });

  it("refuses the signer's genuine signature attached to another image", async () => {
    const r = registry();
    const other = pushImage(r, f.repository, 'evil', 'another image');
    const contents = f.registryContents;
    if (name.endsWith('legacy')) {
      // The recorded .sig manifest, byte for byte, under the other image's signature tag.
      const sigTag = Object.keys(contents.tags).find((t) => t.endsWith('.sig'))!;
      r.tag(f.repository, `${other.replace(':', '-')}.sig`, contents.tags[sigTag]!);
    } else {
      // The recorded bundle blob, byte for byte, as a referrer of the other image.
      const bundle = Object.values(contents.blobs).map((b) => Buffer.from(b, 'base64')).find((b) => b.includes('dsseEnvelope'))!;
      attachBundle(r, f.repository, other, bundle);
    }
    const refused = await refusal(verifyCosign(r, `${f.registry}/${f.repository}:evil`, spec));
    expect(refused.code).toBe('PAYLOAD_MISMATCH');
    expect(refused.message).toContain(f.digest.slice(7, 30));
  });
});
