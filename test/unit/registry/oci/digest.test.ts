import { createHash } from 'node:crypto';
import { checkDigest, isDigestSyntax, isVerifiableDigest, matchesDigest, referrersTag, sha256Digest } from '../../../../src/registry/oci/digest.js';

const bytes = Buffer.from('{"schemaVersion":2}');
const sha256 = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const sha512 = `sha512:${createHash('sha512').update(bytes).digest('hex')}`;

describe('digests (image-spec descriptor.md)', () => {
  it('computes and checks sha256, and checks sha512', () => {
    expect(sha256Digest(bytes)).toBe(sha256);
    expect(matchesDigest(bytes, sha256)).toBe(true);
    expect(matchesDigest(bytes, sha512)).toBe(true);
    expect(matchesDigest(Buffer.from('{"schemaVersion":3}'), sha256)).toBe(false);
  });

  it('refuses what it cannot verify: other algorithms, uppercase hex, wrong lengths', () => {
    for (const d of [sha256.toUpperCase(), `sha256:${'A'.repeat(64)}`, `sha256:${'a'.repeat(63)}`, `sha512:${'a'.repeat(64)}`, `blake3:${'a'.repeat(64)}`, 'md5:abc']) {
      expect(isVerifiableDigest(d)).toBe(false);
      expect(matchesDigest(bytes, d)).toBe(false);
    }
  });

  it('accepts the grammar of any algorithm as syntax only', () => {
    expect(isDigestSyntax('multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8')).toBe(true);
    expect(isDigestSyntax('sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564')).toBe(true);
    for (const bad of ['sha256', ':abc', 'SHA256:abc', 'sha256:ab/cd', 'sha256::a', `sha256:${'a'.repeat(300)}`]) expect(isDigestSyntax(bad)).toBe(false);
  });

  it('checkDigest throws HASH_MISMATCH naming both digests', () => {
    expect(() => checkDigest(bytes, sha256, 'm')).not.toThrow();
    const other = `sha256:${'0'.repeat(64)}`;
    expect(() => checkDigest(bytes, other, 'manifest x')).toThrow(expect.objectContaining({ code: 'HASH_MISMATCH', message: expect.stringContaining(sha256) }));
    // An unverifiable digest never passes.
    expect(() => checkDigest(bytes, `blake3:${'0'.repeat(64)}`, 'm')).toThrow(expect.objectContaining({ code: 'HASH_MISMATCH' }));
  });

  // distribution-spec "Referrers Tag Schema", its own table of examples.
  it.each([
    [`sha256:${'a'.repeat(64)}`, `sha256-${'a'.repeat(64)}`],
    [`sha512:${'a'.repeat(128)}`, `sha512-${'a'.repeat(64)}`],
    [
      'test+algorithm+using+algorithm+separators+and+lots+of+characters+to+excercise+overall+truncation:alsoSome=InTheEncodedSectionToShowHyphenReplacementAndLotsAndLotsOfCharactersToExcerciseEncodedTruncation',
      'test-algorithm-using-algorithm-s-alsoSome-InTheEncodedSectionToShowHyphenReplacementAndLotsAndLot',
    ],
  ])('referrers tag of %s', (digest, tag) => {
    expect(referrersTag(digest)).toBe(tag);
  });
});
