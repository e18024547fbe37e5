import { parsePolicy, PolicyError } from '../../../src/policy/index.js';

import { POLICY_LIMITS } from '../../../src/policy/index.js';

const base = { apiVersion: 'trustgate.dev/v1alpha1', kind: 'ClusterImagePolicy', metadata: { name: 'p' }, spec: { images: ['**'], trust: { trustOnFirstUse: true } } };
const KEY = 'a'.repeat(64);

describe('parsePolicy', () => {
  it('fills the documented defaults', () => {
    const p = parsePolicy(base, 'x');
    expect(p).toMatchObject({ kind: 'ClusterImagePolicy', name: 'p', namespace: undefined, action: 'verify', mode: 'enforce', mutate: true });
    expect(p.trust).toMatchObject({ server: undefined, signers: [], allowUnsignedDigests: false, trustOnFirstUse: true });
  });

  it('takes a verify policy only with root pins, a pinned signer key, or an explicit trustOnFirstUse', () => {
    const verify = (trust: unknown) => parsePolicy({ ...base, spec: { images: ['**'], ...(trust !== undefined && { trust }) } }, 'x');
    expect(verify({ rootKeys: [KEY] }).trust.trustOnFirstUse).toBe(false);
    expect(verify({ signers: [{ role: 'targets/qa' }, { role: 'targets/releases', keys: [KEY] }] }).trust.signers).toHaveLength(2);
    expect(verify({ trustOnFirstUse: true }).trust.trustOnFirstUse).toBe(true);
    for (const trust of [undefined, {}, { server: 'https://notary.example.com' }, { signers: [{ role: 'targets/releases' }] }, { trustOnFirstUse: false }]) {
      expect(() => verify(trust)).toThrow(/spec.trust: pins nothing: set rootKeys or signers\[\]\.keys, or trustOnFirstUse: true/);
    }
    // allow and deny trust no keys at all: nothing to pin.
    expect(parsePolicy({ ...base, spec: { images: ['**'], action: 'deny' } }, 'x').action).toBe('deny');
  });

  it('compiles trust settings: pins, signers with keys', () => {
    const p = parsePolicy({ ...base, spec: { images: ['**'], trust: { server: 'https://notary.example.com/', rootKeys: ['a'.repeat(64)], signers: [{ role: 'targets/releases', keys: ['b'.repeat(64)] }, { role: 'targets/qa' }] } } }, 'x');
    expect(p.trust.server).toBe('https://notary.example.com');
    expect([...p.trust.pins.keyIds]).toEqual(['a'.repeat(64)]);
    expect(p.trust.signers.map((s) => [s.role, s.keys ? [...s.keys.keyIds] : undefined])).toEqual([['targets/releases', ['b'.repeat(64)]], ['targets/qa', undefined]]);
  });

  it.each([
    [{ ...base, apiVersion: 'v1' }, /apiVersion: expected trustgate.dev\/v1alpha1/],
    [{ ...base, kind: 'Policy' }, /kind: expected one of ClusterImagePolicy, ImagePolicy/],
    [{ ...base, metadata: { name: 'Bad_Name' } }, /metadata.name: must be a DNS-1123 subdomain/],
    [{ ...base, kind: 'ImagePolicy' }, /metadata.namespace: required for ImagePolicy/],
    [{ ...base, metadata: { name: 'p', namespace: 'a' } }, /a ClusterImagePolicy is not namespaced/],
    [{ ...base, spec: { images: [] } }, /spec.images: must list at least one pattern/],
    [{ ...base, spec: { images: ['a//b'] } }, /spec.images\[0\]: "a\/\/b"/],
    [{ ...base, spec: { images: ['**'], action: 'permit' } }, /spec.action: expected one of verify, allow, deny/],
    [{ ...base, spec: { images: ['**'], mode: 'loud' } }, /spec.mode: expected one of enforce, warn, audit/],
    [{ ...base, spec: { images: ['**'], imagez: [] } }, /spec.imagez: unknown field/],
    [{ ...base, spec: { images: ['**'], trust: { server: 'http://notary', trustOnFirstUse: true } } }, /spec.trust.server: must be an https:\/\/ URL/],
    [{ ...base, spec: { images: ['**'], trust: { rootKeys: ['nope'] } } }, /spec.trust.rootKeys: entry \[0\]/],
    [{ ...base, spec: { images: ['**'], trust: { signers: [{ role: 'releases' }] } } }, /spec.trust.signers\[0\].role: must be a delegation role/],
    [{ ...base, spec: { images: ['**'], trust: { caBundle: 'not pem' } } }, /spec.trust.caBundle: must be PEM/],
    [{ ...base, spec: { images: ['**'], action: 'allow', trust: {} } }, /spec.trust: only meaningful with action: verify/],
    [{ ...base, spec: { images: ['**'], trust: { trustOnFirstUse: true, rootKeys: [KEY] } } }, /spec.trust.trustOnFirstUse: trustOnFirstUse: true contradicts rootKeys/],
    [{ ...base, spec: { images: ['**'], trust: { trustOnFirstUse: 'yes' } } }, /spec.trust.trustOnFirstUse: /],
    [{ ...base, spec: { images: ['**'], trust: { rootKeys: Array(POLICY_LIMITS.rootKeys + 1).fill(KEY) } } }, /spec.trust.rootKeys: more than 16 entries/],
    [{ ...base, spec: { images: ['**'], trust: { rootKeys: ['x'.repeat(POLICY_LIMITS.keyLength + 1)] } } }, /spec.trust.rootKeys\[0\]: longer than 4096 characters/],
    [{ ...base, spec: { images: ['**'], trust: { signers: Array(POLICY_LIMITS.signers + 1).fill({ role: 'targets/releases', keys: [KEY] }) } } }, /spec.trust.signers: more than 8 signers/],
    [{ ...base, spec: { images: ['**'], trust: { signers: [{ role: 'targets/releases', keys: Array(POLICY_LIMITS.keysPerSigner + 1).fill(KEY) }] } } }, /spec.trust.signers\[0\].keys: more than 8 entries/],
    [{ ...base, spec: { images: ['**'], trust: { trustOnFirstUse: true, caBundle: `-----BEGIN CERTIFICATE-----${'x'.repeat(POLICY_LIMITS.caBundleLength)}` } } }, /spec.trust.caBundle: longer than 65536/],
    [{ ...base, spec: { images: Array(POLICY_LIMITS.images + 1).fill('**') } }, /spec.images: more than 256 patterns/],
    ['just a string', /expected an object/],
  ])('refuses %#', (doc, message) => {
    expect(() => parsePolicy(doc, 'file.yaml#1')).toThrow(PolicyError);
    expect(() => parsePolicy(doc, 'file.yaml#1')).toThrow(message);
  });

  it('reports every problem at once', () => {
    try {
      parsePolicy({ ...base, metadata: {}, spec: { images: 'x', mode: 1 } }, 'f');
      throw new Error('no error');
    } catch (error) {
      expect((error as PolicyError).problems.length).toBeGreaterThanOrEqual(3);
    }
  });
});
