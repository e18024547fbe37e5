// Real keyed cosign signatures: cosign v3.1.3 signed an image in docker-registry with each key
// type, in both formats, offline, and `cosign verify` gave the verdict recorded beside each
// (test/fixtures/cosign/record-keyed.ts; README there). trustgate must give the same.
import { readdirSync, readFileSync } from 'node:fs';
import { cosignSpec, refusal, verifyCosign } from '../../../support/cosign-verify.js';
import { MemoryRegistry } from '../../../support/memory-registry.js';

interface KeyedFixture {
  keyType: string;
  format: 'legacy' | 'bundle';
  registry: string;
  repository: string;
  digest: string;
  publicKey: string;
  wrongPublicKey: string;
  cosign: {
    verifyRightKey: { verified: boolean };
    verifyRightKeyWithDigestAlgorithm: Record<'sha384' | 'sha512', { verified: boolean }>;
    verifyWrongKey: { verified: boolean };
  };
  registryContents: Parameters<MemoryRegistry['load']>[1];
}

const DIR = 'test/fixtures/cosign/keyed';
const fixtures = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(`${DIR}/${f}`, 'utf8')) as KeyedFixture);

function registryOf(f: KeyedFixture): MemoryRegistry {
  const registry = new MemoryRegistry();
  registry.load(f.repository, f.registryContents);
  return registry;
}

/**
 * How `cosign verify --key` v3.1.3 took each signature `cosign sign` made: P-256 and RSA by
 * default; P-384 only with --signature-digest-algorithm=sha384 (verify checks SHA-256 unless
 * told, sign signs with the curve's hash); Ed25519 never — sign makes Ed25519ph signatures
 * (pkg/cosign/keys.go GetDefaultLoadOptions) and verify --key checks pure Ed25519, which it takes
 * whatever the digest flag (`ed25519-pure`: a pure signature attached with cosign attach). trustgate
 * verifies the curve's hash or SHA-256, and pure Ed25519 only (src/trust/cosign/keys.ts): where
 * cosign never verifies (Ed25519ph), trustgate refuses too.
 */
const COSIGN_ACCEPTS: Record<string, 'default' | 'sha384' | 'never' | 'always'> = { 'ecdsa-p256': 'default', 'rsa-3072': 'default', 'ecdsa-p384': 'sha384', ed25519: 'never', 'ed25519-pure': 'always' };

describe.each(fixtures.map((f) => [`${f.keyType} ${f.format}`, f] as const))('%s (recorded)', (_name, f) => {
  const image = `${f.registry}/${f.repository}:1.0`;

  it('cosign refused it with the wrong key, and took it with the right one as its key type says', () => {
    expect(f.cosign.verifyWrongKey.verified).toBe(false);
    const accepts = COSIGN_ACCEPTS[f.keyType];
    expect(f.cosign.verifyRightKey.verified).toBe(accepts === 'default' || accepts === 'always');
    expect(f.cosign.verifyRightKeyWithDigestAlgorithm.sha384.verified).toBe(accepts === 'sha384' || accepts === 'always');
    expect(f.cosign.verifyRightKeyWithDigestAlgorithm.sha512.verified).toBe(accepts === 'always');
  });

  it('verifies with the signer\'s key, the log off as for cosign --insecure-ignore-tlog — unless cosign never does', async () => {
    const pending = verifyCosign(registryOf(f), image, cosignSpec({ keys: [f.publicKey], tlog: { required: false } }));
    if (COSIGN_ACCEPTS[f.keyType] === 'never') {
      expect((await refusal(pending)).code).toBe('SIGNATURE_INVALID');
      return;
    }
    const v = await pending;
    expect(v).toMatchObject({ digest: f.digest, reference: `${image}@${f.digest}` });
    expect(v.evidence).toMatchObject({ signatures: [{ format: f.format }] });
  });

  it('refuses with another key (SIGNATURE_INVALID)', async () => {
    expect((await refusal(verifyCosign(registryOf(f), image, cosignSpec({ keys: [f.wrongPublicKey], tlog: { required: false } })))).code).toBe('SIGNATURE_INVALID');
  });

  it('refuses when the policy requires the log: it was signed with --tlog-upload=false', async () => {
    // A signature that never verifies is refused for that first, log or not.
    const expected = COSIGN_ACCEPTS[f.keyType] === 'never' ? 'SIGNATURE_INVALID' : 'TLOG_INVALID';
    expect((await refusal(verifyCosign(registryOf(f), image, cosignSpec({ keys: [f.publicKey] })))).code).toBe(expected);
  });
});

describe('recorded keyed fixtures', () => {
  it('cover every key type cosign signs with, in both formats', () => {
    expect(fixtures.map((f) => `${f.keyType} ${f.format}`).sort()).toEqual(
      [...['ecdsa-p256', 'ecdsa-p384', 'ed25519'].flatMap((k) => [`${k} bundle`, `${k} legacy`]), 'ed25519-pure legacy', 'rsa-3072 bundle', 'rsa-3072 legacy'],
    );
  });
});
