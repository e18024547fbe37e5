import { Guard } from '../../../../src/shared/guard.js';
import { COSIGN_AUTHORITY, COSIGN_AUTHORITY_SCHEMA, COSIGN_SPEC_LIMITS, parseCosignAuthority, type CosignSpec } from '../../../../src/trust/cosign/index.js';
import { keyPair } from '../../../support/cosign-format.js';
import { patternStates } from '../../../../src/trust/cosign/spec.js';
import { compileIdentityPattern } from '../../../../src/trust/cosign/regexp.js';

const p256 = keyPair('ecdsa-p256').pem;

function spec(value: unknown): CosignSpec {
  const result = parseCosignAuthority(value, 'cosign');
  if ('problems' in result) throw new Error(result.problems.join('; '));
  return result.spec;
}
function problems(value: unknown): string[] {
  const result = parseCosignAuthority(value, 'spec.authorities[1].cosign');
  return 'problems' in result ? result.problems : [];
}

describe('parseCosignAuthority', () => {
  it('compiles keys with the defaults: log required, one signature, TLS with the system CAs', () => {
    const s = spec({ keys: [p256] });
    expect(s).toMatchObject({ tlogRequired: true, minSignatures: 1, registry: { insecure: false, caBundle: undefined }, keyless: undefined });
    expect(s.keys).toHaveLength(1);
    expect(s.keys[0]!.id).toMatch(/^[0-9a-f]{64}$/);
    expect(s.trustedRoot.id).toBe('public-good');
  });

  it('reads every key type cosign signs with: ECDSA P-256/P-384/P-521, RSA ≥ 2048, Ed25519', () => {
    const keys = [p256, keyPair('ecdsa-p384').pem, keyPair('ecdsa-p521').pem, keyPair('rsa-2048').pem, keyPair('ed25519').pem];
    expect(spec({ keys, tlog: { required: false } }).keys.map((k) => k.description)).toEqual(['ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521', 'rsa-2048', 'ed25519']);
  });

  it('turns the log off only when written so', () => {
    expect(spec({ keys: [p256], tlog: { required: false } }).tlogRequired).toBe(false);
    expect(spec({ keys: [p256], tlog: {} }).tlogRequired).toBe(true);
  });

  it('compiles keyless identities, exact or patterns, against the public-good root by default', () => {
    const s = spec({ keyless: { identities: [{ issuer: 'https://token.actions.githubusercontent.com', subjectRegExp: '^https://github\\.com/org/.*$' }] } });
    expect(s.keyless?.identities).toHaveLength(1);
    expect(s.keys).toEqual([]);
  });

  it('gives a different spec key to every setting that changes an answer', () => {
    const base = { keys: [p256] };
    const keys = [
      spec(base).key,
      spec({ ...base, tlog: { required: false } }).key,
      spec({ ...base, minSignatures: 2 }).key,
      spec({ ...base, registry: { insecure: true } }).key,
      spec({ keys: [keyPair('ecdsa-p256').pem] }).key,
      spec({ keyless: { identities: [{ issuer: 'a', subject: 'b' }] } }).key,
      spec({ keyless: { identities: [{ issuer: 'a', subjectRegExp: 'b' }] } }).key,
    ];
    expect(new Set(keys).size).toBe(keys.length);
    expect(spec(base).key).toBe(keys[0]);
  });

  it.each([
    [{}, 'set exactly one of keys'],
    [{ keys: [p256], keyless: { identities: [{ issuer: 'a', subject: 'b' }] } }, 'set exactly one of keys'],
    [{ keys: [] }, 'at least one'],
    [{ keys: ['not a key'] }, 'PUBLIC KEY'],
    [{ keys: [p256 + p256] }, 'exactly one PEM'],
    [{ keys: [keyPair('rsa-1024').pem] }, 'shorter than 2048'],
    [{ keys: [keyPair('ecdsa-secp256k1').pem] }, 'not P-256'],
    [{ keys: Array(17).fill(p256) }, 'more than 16 keys'],
    [{ keys: ['x'.repeat(5000)] }, 'longer than 4096'],
    [{ keys: [p256], tlog: { required: 'no' } }, 'expected a boolean'],
    [{ keys: [p256], minSignatures: 0 }, 'integer ≥ 1'],
    [{ keys: [p256], minSignatures: 33 }, 'at most 32'],
    [{ keys: [p256], registry: { insecure: true, caBundle: '-----BEGIN CERTIFICATE-----' } }, 'contradict'],
    [{ keys: [p256], registry: { caBundle: 'x' } }, 'PEM certificates'],
    [{ keys: [p256], keyz: 1 }, 'unknown field'],
    [{ keyless: { identities: [] } }, 'at least one identity'],
    [{ keyless: { identities: [{ subject: 'a' }] } }, 'issuer or issuerRegExp'],
    [{ keyless: { identities: [{ issuer: 'a', issuerRegExp: 'b', subject: 'c' }] } }, 'exactly one of issuer'],
    [{ keyless: { identities: [{ issuer: 'a' }] } }, 'subject or subjectRegExp'],
    [{ keyless: { identities: [{ issuer: 'a', subjectRegExp: '(a)\\1' }] } }, 'back-references'],
    [{ keyless: { identities: [{ issuer: 'a', subjectRegExp: '(?=a)' }] } }, 'lookarounds'],
    [{ keyless: { identities: [{ issuer: 'a', subject: 'b' }] }, tlog: { required: false } }, 'keyless signatures need the log'],
    [{ keyless: { identities: [{ issuer: 'a', subject: 'b' }], trustedRoot: '{"mediaType": "x"}' } }, 'not a trusted_root.json'],
    [{ keyless: { identities: [{ issuer: 'a', subject: 'b' }], trustedRoot: 'x'.repeat(300_000) } }, 'longer than'],
    [{ keyless: { identities: Array(17).fill({ issuer: 'a', subject: 'b' }) } }, 'more than 16 identities'],
    [{ keyless: { identities: [{ issuer: 'a', subject: 'b' }] }, tlog: { trustedRoot: '{}' } }, 'in keyless.trustedRoot'],
    [{ keys: [p256], tlog: { required: false, trustedRoot: '{}' } }, 'not required'],
    [{ keys: [p256], tlog: { trustedRoot: '[]' } }, 'not a JSON object'],
    ['keys', 'expected an object'],
  ])('refuses %j with a problem naming its field', (value, problem) => {
    const found = problems(value);
    expect(found.join('; ')).toContain(problem);
    expect(found.every((p) => p.startsWith('spec.authorities[1].cosign'))).toBe(true);
  });
});

describe('COSIGN_AUTHORITY (the seam\'s AuthorityParser)', () => {
  it('reports problems on the policy\'s Guard with their paths', () => {
    const g = new Guard();
    expect(COSIGN_AUTHORITY.parse(g, { keys: ['x'] }, 'spec.authorities[0].cosign')).toBeUndefined();
    expect(g.problems).toEqual([expect.stringMatching(/^spec\.authorities\[0\]\.cosign\.keys\[0\]: /)]);
  });

  it('says an authority choosing plain HTTP or its own CA chooses the connection (only the namespace\'s credentials go there)', () => {
    expect(COSIGN_AUTHORITY.choosesConnection(spec({ keys: [p256] }))).toBe(false);
    expect(COSIGN_AUTHORITY.choosesConnection(spec({ keys: [p256], registry: { insecure: true } }))).toBe(true);
    expect(COSIGN_AUTHORITY.choosesConnection(spec({ keys: [p256], registry: { caBundle: '-----BEGIN CERTIFICATE-----\n' } }))).toBe(true);
  });

  it('counts keys, identities and a trusted root without parsing anything', () => {
    expect(COSIGN_AUTHORITY.rawKeyCount({ keys: ['a', 'b', 'c'] })).toBe(3);
    expect(COSIGN_AUTHORITY.rawKeyCount({ keyless: { identities: [{}, {}], trustedRoot: 'x' } })).toBe(3);
    expect(COSIGN_AUTHORITY.rawKeyCount('nonsense')).toBe(0);
  });
});

describe('COSIGN_AUTHORITY_SCHEMA (the CRD schema)', () => {
  it('names every field the parser reads, and the parser refuses any other', () => {
    const fields = Object.keys(COSIGN_AUTHORITY_SCHEMA.properties);
    expect(fields.sort()).toEqual(['keyless', 'keys', 'minSignatures', 'registry', 'tlog']);
    const p = COSIGN_AUTHORITY_SCHEMA.properties;
    expect(problems({ keys: [p256], extra: 1 }).join()).toContain('extra: unknown field');
    expect(Object.keys(p.keyless.properties).sort()).toEqual(['identities', 'trustedRoot']);
    expect(Object.keys(p.keyless.properties.identities.items.properties).sort()).toEqual(['issuer', 'issuerRegExp', 'subject', 'subjectRegExp']);
    expect(Object.keys(p.tlog.properties).sort()).toEqual(['required', 'trustedRoot']);
    expect(Object.keys(p.registry.properties).sort()).toEqual(['caBundle', 'insecure']);
  });

  it('bounds what the parser bounds', () => {
    const p = COSIGN_AUTHORITY_SCHEMA.properties;
    expect(p.keys.maxItems).toBe(16);
    expect(p.keys.items.maxLength).toBe(4096);
    expect(p.keyless.properties.identities.maxItems).toBe(16);
    expect(p.keyless.properties.trustedRoot.maxLength).toBe(64 * 1024);
    expect(p.minSignatures.maximum).toBe(32);
  });
});

describe('patternStates (the cost of an identity pattern, before it is compiled)', () => {
  it('never under-counts what regexp.ts compiles: patterns just past 4,096 states estimate past it', () => {
    // regexp.ts refuses programs past 4,096 states; each of these compiles past it, so the
    // estimate of each must be past it too.
    for (const source of ['a{4096}'.replace('4096', '1000') + 'b{1000}c{1000}d{1000}e{200}', '(?:ab+){1000}x{200}', '(?:a|b|c){1000}d{100}']) {
      expect(compileIdentityPattern(source)).toEqual(expect.stringContaining('too complex'));
      expect(patternStates(source)).toBeGreaterThan(4096);
    }
    // ~4,090 states compiled: far past the per-pattern cap, so refused before compiling.
    expect(patternStates('(?:.*){1000}(?:.*){360}x1')).toBeGreaterThan(COSIGN_SPEC_LIMITS.patternStates);
    expect(patternStates('abc')).toBeGreaterThanOrEqual(4);
    expect(patternStates('https://github\\.com/org/[^/]+/\\.github/workflows/.+@refs/heads/main')).toBeLessThan(200);
  });
});
