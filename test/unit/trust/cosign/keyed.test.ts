// Keyed cosign signatures in both formats, laid out as cosign writes them (test/support/cosign-format.ts).
import { keyPair as pair, signBundle, signLegacy, pushImage, type KeyType } from '../../../support/cosign-format.js';
import { cosignSpec, refusal, verifyCosign } from '../../../support/cosign-verify.js';
import { MemoryRegistry } from '../../../support/memory-registry.js';

const REPO = 'team/app';
const NAME = `registry.test:5000/${REPO}`;

const p256 = pair('ecdsa-p256');
const offline = (pem: string, extra: object = {}) => cosignSpec({ keys: [pem], tlog: { required: false }, ...extra });

describe.each<KeyType>(['ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521', 'rsa-2048', 'ed25519'])('%s key', (type) => {
  const key = type === 'ecdsa-p256' ? p256 : pair(type);

  it('verifies a legacy .sig signature and pins the tag to the digest it points to', async () => {
    const registry = new MemoryRegistry();
    const digest = pushImage(registry, REPO, '1.0', 'one');
    signLegacy(registry, REPO, NAME, digest, key.privateKey);
    const v = await verifyCosign(registry, `${NAME}:1.0`, offline(key.pem));
    expect(v).toMatchObject({ kind: 'cosign', digest, tag: '1.0', reference: `${NAME}:1.0@${digest}`, unchecked: false });
    expect(v.evidence).toMatchObject({ kind: 'cosign', registry: 'registry.test:5000', signatures: [{ format: 'legacy', keyId: expect.stringMatching(/^[0-9a-f]{64}$/) }] });
  });

  it('verifies a v3 bundle referrer', async () => {
    const registry = new MemoryRegistry();
    const digest = pushImage(registry, REPO, '1.0', 'one');
    const manifest = signBundle(registry, REPO, digest, key.privateKey);
    const v = await verifyCosign(registry, `${NAME}:1.0`, offline(key.pem));
    expect(v.evidence).toMatchObject({ signatures: [{ format: 'bundle', manifestDigest: manifest }] });
  });
});

describe('keyed verification', () => {
  it('verifies name@digest as written, without resolving any tag', async () => {
    const registry = new MemoryRegistry();
    const digest = pushImage(registry, REPO, '1.0', 'one');
    signLegacy(registry, REPO, NAME, digest, p256.privateKey);
    const v = await verifyCosign(registry, `${NAME}@${digest}`, offline(p256.pem));
    expect(v).toMatchObject({ digest, tag: undefined, reference: `${NAME}@${digest}` });
    expect(registry.requests.filter((r) => r.startsWith('resolve'))).toEqual([]);
  });

  it('accepts a signature by any of the policy keys', async () => {
    const registry = new MemoryRegistry();
    const digest = pushImage(registry, REPO, '1.0', 'one');
    signLegacy(registry, REPO, NAME, digest, p256.privateKey);
    const other = pair('ecdsa-p256');
    await expect(verifyCosign(registry, `${NAME}:1.0`, cosignSpec({ keys: [other.pem, p256.pem], tlog: { required: false } }))).resolves.toMatchObject({ digest });
  });

  it('counts distinct verified signatures against minSignatures', async () => {
    const registry = new MemoryRegistry();
    const digest = pushImage(registry, REPO, '1.0', 'one');
    const second = pair('ecdsa-p256');
    signLegacy(registry, REPO, NAME, digest, p256.privateKey);
    const spec = cosignSpec({ keys: [p256.pem, second.pem], tlog: { required: false }, minSignatures: 2 });
    const one = await refusal(verifyCosign(registry, `${NAME}:1.0`, spec));
    expect(one.code).toBe('THRESHOLD_NOT_MET');
    expect(one.message).toContain('1 of the 2 distinct signers');
    signBundle(registry, REPO, digest, second.privateKey);
    const v = await verifyCosign(registry, `${NAME}:1.0`, spec);
    expect(v.evidence).toMatchObject({ signatures: [{ format: 'bundle' }, { format: 'legacy' }] });
  });

  it('refuses an unsigned image with NO_SIGNATURES naming where it looked', async () => {
    const registry = new MemoryRegistry();
    const digest = pushImage(registry, REPO, '1.0', 'one');
    const r = await refusal(verifyCosign(registry, `${NAME}:1.0`, offline(p256.pem)));
    expect(r.code).toBe('NO_SIGNATURES');
    expect(r.message).toContain(`${digest.replace(':', '-')}.sig`);
  });

  it('refuses a tag that does not exist', async () => {
    const registry = new MemoryRegistry();
    expect((await refusal(verifyCosign(registry, `${NAME}:nope`, offline(p256.pem)))).code).toBe('REGISTRY_ERROR');
  });

  it('requires a log entry by default: a signature made with --tlog-upload=false is TLOG_INVALID', async () => {
    const registry = new MemoryRegistry();
    const digest = pushImage(registry, REPO, '1.0', 'one');
    signLegacy(registry, REPO, NAME, digest, p256.privateKey);
    signBundle(registry, REPO, digest, p256.privateKey);
    const r = await refusal(verifyCosign(registry, `${NAME}:1.0`, cosignSpec({ keys: [p256.pem] })));
    expect(r.code).toBe('TLOG_INVALID');
    expect(r.message).toMatch(/bundle sha256:.*TLOG_INVALID.*\.sig layer 0 .*TLOG_INVALID/);
  });

  it('talks to the registry as the policy says (plain HTTP only when marked insecure)', async () => {
    const registry = new MemoryRegistry();
    const digest = pushImage(registry, REPO, '1.0', 'one');
    signLegacy(registry, REPO, NAME, digest, p256.privateKey);
    await verifyCosign(registry, `${NAME}:1.0`, offline(p256.pem, { registry: { insecure: true } }));
    expect(registry.lastConnection).toMatchObject({ registry: 'registry.test:5000', insecure: true, caBundle: undefined });
  });
});
