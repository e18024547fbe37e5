// What one document from a trust server can cost to verify: RSA key sizes and exponents, one
// verification per key ID, signatures per document, and JSON values per document. The trust
// server of a made-up registry is the pod author's own (`https://<registry>`), so each of these
// is attacker-chosen (test/security/signature-work-bounds.test.ts and
// metadata-memory-bounds.test.ts drive them through `trustgate serve`).
import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { DEFAULT_LIMITS } from '../../../src/trust/limits.js';
import { Keyring } from '../../../src/trust/keyring.js';
import { keyId, parsePublicKey } from '../../../src/trust/keys.js';
import type { Signed } from '../../../src/trust/metadata.js';
import { checkThreshold } from '../../../src/trust/verify-role.js';
import { TestKey } from '../../support/keys.js';
import { buildRepository, digestOf, standardKeys, standardSpec } from '../../support/repo-builder.js';
import { fullSizeExponent, rsaSpki } from '../../support/rsa-spki.js';
import { codeOf, verifyFiles } from '../../support/verify-helpers.js';

const GUN = 'registry.test/team/app';

describe('RSA keys a verification may cost', () => {
  const parse = (spki: Buffer) => () => parsePublicKey({ keytype: 'rsa', publicBytes: spki }, 'root key');

  it.each([
    ['2048 bits, e = 65537', 256, 65537n],
    ['8192 bits, the largest (Go crypto/tls defaultMaxRSAKeySize)', 1024, 65537n],
    ['e = 3', 256, 3n],
    ['e = 2^31 - 1, the largest Go crypto/rsa accepts', 256, 2n ** 31n - 1n],
  ])('accepts %s', (_what, bytes, e) => {
    expect(parse(rsaSpki(bytes, e))().keytype).toBe('rsa');
  });

  it.each([
    ['a modulus longer than 8192 bits', rsaSpki(1025, 65537n), /8200 bits, longer than the 8192 verified/],
    ['a 16384-bit modulus', rsaSpki(2048, 65537n), /16384 bits/],
    ['an exponent as long as the modulus', rsaSpki(384, fullSizeExponent(384)), /public exponent/],
    ['e = 2^31 + 1', rsaSpki(256, 2n ** 31n + 1n), /public exponent/],
    ['an even exponent', rsaSpki(256, 65536n), /public exponent/],
    ['e = 1', rsaSpki(256, 1n), /public exponent|cannot be read/],
  ])('refuses %s as UNSUPPORTED_KEY', (_what, spki, why) => {
    expect(parse(spki)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_KEY', message: expect.stringMatching(why) as unknown }));
  });
});

describe('checkThreshold tries each key ID once', () => {
  const key = TestKey.generate('ecdsa');
  const canonical = Buffer.from('{"_type":"Timestamp"}');
  const junk = { keyid: key.id, method: 'ecdsa', sig: randomBytes(64) };
  const valid = { keyid: key.id, method: 'ecdsa', sig: key.sign(canonical) };
  const doc = (signatures: Signed<unknown>['signatures']): Signed<unknown> => ({ role: 'timestamp', body: {}, signatures, canonical, bytes: canonical });
  const keyring = () => {
    const raw = Buffer.from(key.json.keyval.public, 'base64');
    const ring = new Keyring(new Map([[keyId(key.keytype, raw), { keytype: key.keytype, publicBytes: raw }]]), 'root');
    return { ring, get: jest.spyOn(ring, 'get') };
  };

  it('skips repeats of a key whose signature failed (TUF counts unique keys)', () => {
    const { ring, get } = keyring();
    expect(() => checkThreshold(doc([...Array(50).fill(junk), valid]), { keyids: [key.id], threshold: 1 }, ring)).toThrow(
      expect.objectContaining({ code: 'THRESHOLD_NOT_MET' }),
    );
    expect(get).toHaveBeenCalledTimes(1);
  });

  it('skips repeats of a key that already counted', () => {
    const { ring, get } = keyring();
    expect(checkThreshold(doc([valid, ...Array(50).fill(junk)]), { keyids: [key.id], threshold: 1 }, ring)).toHaveLength(1);
    expect(get).toHaveBeenCalledTimes(1);
  });
});

describe('signatures per document', () => {
  const keys = standardKeys(GUN);
  const withJunk = (count: number) => {
    const spec = standardSpec(GUN, keys, { '1.0': digestOf('v1') });
    // Under key IDs the role does not list: cheap to skip, but the count alone is refused.
    spec.timestamp.tamper = (envelope) => {
      envelope.signatures.push(...Array.from({ length: count }, () => ({ keyid: randomBytes(32).toString('hex'), method: 'ecdsa', sig: randomBytes(64).toString('base64') })));
    };
    return buildRepository(spec).files;
  };

  it(`accepts ${DEFAULT_LIMITS.maxSignatures} signatures`, async () => {
    await expect(verifyFiles(withJunk(DEFAULT_LIMITS.maxSignatures - 1), `${GUN}:1.0`)).resolves.toMatchObject({ tag: '1.0' });
  });

  it(`refuses more than ${DEFAULT_LIMITS.maxSignatures} as TOO_LARGE`, async () => {
    expect(await codeOf(verifyFiles(withJunk(DEFAULT_LIMITS.maxSignatures), `${GUN}:1.0`))).toBe('TOO_LARGE');
  });
});

describe('bytes and JSON values per document', () => {
  const keys = standardKeys(GUN);
  const withTags = (count: number, edit?: (signed: Record<string, unknown>) => void) => {
    const tags = Object.fromEntries(Array.from({ length: count }, (_, i) => [`t${i}`, digestOf(`v${i}`)]));
    const spec = standardSpec(GUN, keys, tags);
    if (edit) spec.targets.edit = edit;
    return buildRepository(spec).files;
  };

  it('a targets file of 50,000 tags (over 4.5 MB, 400,000 values) still verifies', async () => {
    const files = withTags(50_000);
    expect(files.get('targets')!.length).toBeGreaterThan(4_500_000);
    await expect(verifyFiles(files, `${GUN}:t49999`)).resolves.toMatchObject({ digest: digestOf('v49999') });
  });

  it('one of 60,000 tags is over the 5 MiB role limit: TOO_LARGE before it is fetched', async () => {
    await expect(verifyFiles(withTags(60_000), `${GUN}:t1`)).rejects.toMatchObject({ code: 'TOO_LARGE', message: expect.stringMatching(/^targets is declared as \d+ bytes, more than the 5242880 allowed$/) as unknown });
  });

  it('a signed targets file of 1 MB but 510,000 values is refused as TOO_LARGE before it is parsed', async () => {
    const files = withTags(1, (signed) => {
      (signed.targets as Record<string, Record<string, unknown>>).t0!.custom = Array(510_000).fill(0);
    });
    expect(files.get('targets')!.length).toBeLessThan(1_100_000);
    await expect(verifyFiles(files, `${GUN}:t0`)).rejects.toMatchObject({ code: 'TOO_LARGE', message: 'targets: more than 500000 JSON values' });
  });
});
