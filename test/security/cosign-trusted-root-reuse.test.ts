// A trusted root is parsed once per policy and its CA certificates remember their own checks
// (src/trust/cosign/trusted-root.ts, rememberChecks): what a CA remembers must never admit what
// a fresh root would refuse — a tampered leaf after a good one, an issuer from outside the root,
// one root's answers under another root.
import { generateKeyPairSync } from 'node:crypto';
import { parseTrustedRoot, type CosignTrustedRoot } from '../../src/trust/cosign/index.js';
import { sigstoreCore } from '../../src/trust/cosign/sigstore-lib.js';
import { LEGACY, legacyRegistry, rootWithoutCurrentFulcio, TRUSTED_ROOT } from '../support/cosign-fixtures.js';
import { cosignSpec, refusal, verifyCosign } from '../support/cosign-verify.js';
import { selfSignedCertificate } from '../support/keys.js';

const image = `${LEGACY.name}@${LEGACY.digest}`;
const right = { issuer: LEGACY.issuer, subject: LEGACY.identity };
const CERTIFICATE = 'dev.sigstore.cosign/certificate';

/** The recorded Fulcio leaf certificate, DER, and a copy with the last byte of its signature changed. */
function leaves(): { good: Buffer<ArrayBuffer>; tampered: Buffer<ArrayBuffer> } {
  const manifest = JSON.parse(LEGACY.manifest.toString('utf8')) as { layers: { annotations: Record<string, string> }[] };
  const pem = manifest.layers.map((l) => l.annotations[CERTIFICATE]).find((c) => c !== undefined);
  if (pem === undefined) throw new Error('the recording has no keyless layer');
  const good = Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const tampered = Buffer.from(good);
  tampered.writeUInt8(tampered.readUInt8(tampered.length - 1) ^ 0x01, tampered.length - 1);
  return { good, tampered };
}

/** The recorded signature with its leaf certificate tampered (refused: the log entry records the original). */
function tamperedLeaf() {
  return legacyRegistry({
    edit: (manifest) => {
      const layer = manifest.layers.find((l) => CERTIFICATE in l.annotations);
      if (layer === undefined) throw new Error('the recording has no keyless layer');
      layer.annotations[CERTIFICATE] = `-----BEGIN CERTIFICATE-----\n${leaves().tampered.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
    },
  });
}

function root(text: string): CosignTrustedRoot {
  const parsed = parseTrustedRoot(text);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
}

describe('one parsed trusted root, many verifications', () => {
  it('refuses a tampered leaf certificate between good ones with the same policy', async () => {
    const spec = cosignSpec({ keyless: { identities: [right], trustedRoot: TRUSTED_ROOT } });
    await expect(verifyCosign(legacyRegistry(), image, spec)).resolves.toMatchObject({ digest: LEGACY.digest });
    expect(await refusal(verifyCosign(tamperedLeaf(), image, spec))).toMatchObject({ code: 'TLOG_INVALID', message: expect.stringContaining('.sig layer 1') });
    await expect(verifyCosign(legacyRegistry(), image, spec)).resolves.toMatchObject({ digest: LEGACY.digest });
    expect(await refusal(verifyCosign(tamperedLeaf(), image, spec))).toMatchObject({ code: 'TLOG_INVALID', message: expect.stringContaining('.sig layer 1') });
  });

  it("keeps one root's answers to itself: a root without the signing CA still refuses after the full root verified", async () => {
    const full = cosignSpec({ keyless: { identities: [right], trustedRoot: TRUSTED_ROOT } });
    const without = cosignSpec({ keyless: { identities: [right], trustedRoot: rootWithoutCurrentFulcio() } });
    await expect(verifyCosign(legacyRegistry(), image, full)).resolves.toMatchObject({ digest: LEGACY.digest });
    expect((await refusal(verifyCosign(legacyRegistry(), image, without))).code).toBe('CERTIFICATE_INVALID');
  });

  it("answers a CA's check against an issuer from outside the root afresh: a stranger never inherits the real issuer's yes", () => {
    const chains = root(TRUSTED_ROOT).material.certificateAuthorities.map((ca) => ca.certChain).filter((chain) => chain.length >= 2);
    expect(chains.length).toBeGreaterThan(0);
    const stranger = sigstoreCore().X509Certificate.parse(selfSignedCertificate(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, { cn: 'sigstore', ca: true, days: 3650 }));
    for (const [intermediate, issuer] of chains as [(typeof chains)[number][number], (typeof chains)[number][number]][]) {
      expect(intermediate.verify(stranger)).toBe(false);
      expect(intermediate.verify(issuer)).toBe(true);
      expect(intermediate.verify(issuer)).toBe(true);
      expect(intermediate.verify(stranger)).toBe(false);
      expect(intermediate.equals(stranger)).toBe(false);
      expect(intermediate.equals(intermediate)).toBe(true);
    }
  });

  it("checks a leaf's signature afresh against a CA that remembers its key: a tampered leaf fails after the real one passed", () => {
    const cas = root(TRUSTED_ROOT).material.certificateAuthorities.map((ca) => ca.certChain[0]!);
    const { good, tampered } = leaves();
    const X509 = sigstoreCore().X509Certificate;
    const issuer = cas.find((ca) => X509.parse(good).verify(ca));
    expect(issuer).toBeDefined();
    for (let i = 0; i < 2; i++) {
      expect(X509.parse(good).verify(issuer)).toBe(true);
      expect(X509.parse(tampered).verify(issuer)).toBe(false);
    }
  });
});
