import { verifyEd25519ph } from '../../../../src/trust/cosign/ed25519ph.js';

// RFC 8032 section 7.3, the Ed25519ph test vector ("abc").
const PUBLIC = Buffer.from('ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf', 'hex');
const SIGNATURE = Buffer.from('98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae4131f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406', 'hex');

describe('Ed25519ph (cosign signs images with Ed25519 keys this way)', () => {
  it("verifies RFC 8032's test vector", () => {
    expect(verifyEd25519ph(PUBLIC, Buffer.from('abc'), SIGNATURE)).toBe(true);
  });

  it('refuses another message, a flipped bit in R or S, S ≥ L, and malformed inputs', () => {
    expect(verifyEd25519ph(PUBLIC, Buffer.from('abd'), SIGNATURE)).toBe(false);
    for (const at of [0, 40]) {
      const bad = Buffer.from(SIGNATURE);
      bad[at]! ^= 1;
      expect(verifyEd25519ph(PUBLIC, Buffer.from('abc'), bad)).toBe(false);
    }
    const bigS = Buffer.concat([SIGNATURE.subarray(0, 32), Buffer.alloc(32, 0xff)]);
    expect(verifyEd25519ph(PUBLIC, Buffer.from('abc'), bigS)).toBe(false);
    expect(verifyEd25519ph(PUBLIC, Buffer.from('abc'), SIGNATURE.subarray(0, 63))).toBe(false);
    expect(verifyEd25519ph(Buffer.alloc(32, 0xff), Buffer.from('abc'), SIGNATURE)).toBe(false);
  });
});
