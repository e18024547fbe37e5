import { parsePolicy, PolicyError } from '../../../src/policy/index.js';

const base = { apiVersion: 'trustgate.dev/v1alpha1', kind: 'ClusterImagePolicy', metadata: { name: 'p' }, spec: { images: ['**'] } };

describe('parsePolicy', () => {
  it('fills the documented defaults', () => {
    const p = parsePolicy(base, 'x');
    expect(p).toMatchObject({ kind: 'ClusterImagePolicy', name: 'p', namespace: undefined, action: 'verify', mode: 'enforce', mutate: true });
    expect(p.trust).toMatchObject({ server: undefined, signers: [], allowUnsignedDigests: false });
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
    [{ ...base, spec: { images: ['**'], trust: { server: 'http://notary' } } }, /spec.trust.server: must be an https:\/\/ URL/],
    [{ ...base, spec: { images: ['**'], trust: { rootKeys: ['nope'] } } }, /spec.trust.rootKeys: entry \[0\]/],
    [{ ...base, spec: { images: ['**'], trust: { signers: [{ role: 'releases' }] } } }, /spec.trust.signers\[0\].role: must be a delegation role/],
    [{ ...base, spec: { images: ['**'], trust: { caBundle: 'not pem' } } }, /spec.trust.caBundle: must be PEM/],
    [{ ...base, spec: { images: ['**'], action: 'allow', trust: {} } }, /spec.trust: only meaningful with action: verify/],
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
