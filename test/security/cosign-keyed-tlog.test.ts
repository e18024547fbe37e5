// Keyed signatures with the transparency log required, against a log of our own
// (`tlog.trustedRoot`): the entry must be signed by the root's log and record this very
// signature, payload and key (cosign pkg/cosign/verify.go VerifyBundle: VerifySET, compareSigs,
// comparePublicKey, the payload hash).
import { generateKeyPairSync } from 'node:crypto';
import { keyPair, pushImage, signBytes, signLegacy, simpleSigningPayload } from '../support/cosign-format.js';
import { cosignSpec, refusal, verifyCosign } from '../support/cosign-verify.js';
import { MemoryRegistry } from '../support/memory-registry.js';
import { PrivateRekor, type RekorEntryOptions } from '../support/private-rekor.js';

const REPO = 'team/app';
const NAME = `registry.test:5000/${REPO}`;
const signer = keyPair('ecdsa-p256');
const other = keyPair('ecdsa-p256');
const rekor = new PrivateRekor();
const spec = cosignSpec({ keys: [signer.pem], tlog: { required: true, trustedRoot: rekor.trustedRoot() } });

function signedWithLog(options: RekorEntryOptions = {}): MemoryRegistry {
  const registry = new MemoryRegistry();
  const digest = pushImage(registry, REPO, '1.0', 'release');
  const payload = simpleSigningPayload(NAME, digest);
  const signature = signBytes(signer.privateKey, payload);
  signLegacy(registry, REPO, NAME, digest, signer.privateKey, { payload, signature, annotations: { 'dev.sigstore.cosign/bundle': rekor.bundleAnnotation(payload, signature, signer.pem, options) } });
  return registry;
}

describe('keyed signatures with the log required', () => {
  it('admits a signature whose log entry the root\'s log signed, recording it', async () => {
    const v = await verifyCosign(signedWithLog(), `${NAME}:1.0`, spec);
    expect(v.evidence).toMatchObject({ signatures: [{ format: 'legacy', keyId: expect.any(String), tlog: { logIndex: expect.any(Number), integratedTime: expect.any(Number) } }] });
  });

  it.each<[string, RekorEntryOptions, string]>([
    ['a SET signed by another key than the log\'s', { setKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }, 'inclusion promise'],
    ['an entry changed after the log signed it', { logIndexAfterSigning: 1 }, 'inclusion promise'],
    ['an entry recording another signature', { signature: Buffer.alloc(70, 1) }, 'signature mismatch'],
    ['an entry recording another payload', { payloadSha256: '0'.repeat(64) }, 'digest mismatch'],
    ['an entry recording another key', { publicKeyPem: other.pem }, 'another public key'],
  ])('refuses %s (TLOG_INVALID)', async (_what, options, why) => {
    const r = await refusal(verifyCosign(signedWithLog(options), `${NAME}:1.0`, spec));
    expect(r.code).toBe('TLOG_INVALID');
    expect(r.message).toContain(why);
  });

  it('refuses a genuine entry of the public-good log when the policy names its own log', async () => {
    const publicGood = cosignSpec({ keys: [signer.pem] });
    expect((await refusal(verifyCosign(signedWithLog(), `${NAME}:1.0`, publicGood))).code).toBe('TLOG_INVALID');
  });
});
