// spec.authorities and spec.require (docs/policy.md "Authorities"), and spec.trust as the one
// Notary authority it has always been.
import { parsePolicy, POLICY_LIMITS, rawKeyCount, refusedStandIn, supportedKinds } from '../../../src/policy/index.js';
import { TrustKind } from '../../../src/trust/index.js';

const KEY = 'a'.repeat(64);
const KEY2 = 'b'.repeat(64);
const doc = (spec: Record<string, unknown>, kind = 'ClusterImagePolicy', namespace?: string) => ({
  apiVersion: 'trustgate.dev/v1alpha1',
  kind,
  metadata: { name: 'p', ...(namespace !== undefined && { namespace }) },
  spec: { images: ['registry.example.com/**'], ...spec },
});
const parse = (spec: Record<string, unknown>, kind?: string, namespace?: string) => parsePolicy(doc(spec, kind, namespace), 'test');

describe('spec.trust, v1alpha1', () => {
  it('is one Notary authority, with require any, and stays readable as trust', () => {
    const p = parse({ trust: { server: 'https://notary.example.com', rootKeys: [KEY] } });
    expect(p.require).toBe('any');
    expect(p.authorities).toHaveLength(1);
    expect(p.authorities[0]).toMatchObject({ name: undefined, label: 'notary', ownConnection: true, spec: { kind: TrustKind.NOTARY, server: 'https://notary.example.com' } });
    expect(p.authorities[0]!.spec).toBe(p.trust);
  });

  it('keeps its paths in messages', () => {
    expect(() => parse({ trust: {} })).toThrow(/spec.trust: pins nothing/);
    expect(() => parse({})).toThrow(/spec.trust: pins nothing/);
    expect(() => parse({ trust: { rootKeys: ['nope'] } })).toThrow(/spec.trust.rootKeys: entry \[0\]/);
  });

  it('allow and deny policies have no authorities', () => {
    expect(parse({ action: 'allow' }).authorities).toEqual([]);
    expect(parse({ action: 'deny' }).authorities).toEqual([]);
  });
});

describe('spec.authorities', () => {
  it('lists authorities of a kind each, in order, with names and require', () => {
    const p = parse({ require: 'all', authorities: [{ name: 'dct', notary: { rootKeys: [KEY] } }, { notary: { server: 'https://other.example.com', rootKeys: [KEY2] } }] });
    expect(p.require).toBe('all');
    expect(p.authorities.map((a) => [a.name, a.label, a.spec.kind, a.ownConnection])).toEqual([
      ['dct', 'authority "dct" (notary)', 'notary', false],
      [undefined, 'authorities[1] (notary)', 'notary', true],
    ]);
    // trust: the first Notary authority, for readers of the old shape.
    expect(p.trust).toBe(p.authorities[0]!.spec);
  });

  it('defaults require to any', () => {
    expect(parse({ authorities: [{ notary: { trustOnFirstUse: true } }] }).require).toBe('any');
  });

  it('holds each Notary authority to the anchoring rule, at its own path', () => {
    expect(() => parse({ authorities: [{ notary: { rootKeys: [KEY] } }, { notary: {} }] })).toThrow(/spec.authorities\[1\].notary: pins nothing/);
    expect(() => parse({ authorities: [{ notary: { trustOnFirstUse: true, rootKeys: [KEY] } }] })).toThrow(/spec.authorities\[0\].notary.trustOnFirstUse: trustOnFirstUse: true contradicts rootKeys/);
  });

  it.each([
    [{ trust: { trustOnFirstUse: true }, authorities: [{ notary: { trustOnFirstUse: true } }] }, /spec.authorities: give either trust \(one Notary authority, v1alpha1\) or authorities, not both/],
    [{ authorities: [] }, /spec.authorities: must list at least one authority/],
    [{ authorities: {} }, /spec.authorities: expected an array/],
    [{ authorities: Array(POLICY_LIMITS.authorities + 1).fill({ notary: { rootKeys: [KEY] } }) }, /spec.authorities: more than 8 authorities/],
    [{ authorities: [{ name: 'x' }] }, new RegExp(`spec.authorities\\[0\\]: names no kind of trust: give one of ${supportedKinds().join(', ')}$`)],
    [{ authorities: [{ pgp: { key: 'k' } }] }, new RegExp(`spec.authorities\\[0\\].pgp: unknown authority kind: expected one of ${supportedKinds().join(', ')}$`)],
    [{ authorities: [{ notation: {} }] }, /spec.authorities\[0\].notation.trustPolicy: missing: a trustpolicy.json document/],
    [{ authorities: [{ notary: { rootKeys: [KEY] }, notation: {} }] }, /spec.authorities\[0\]: names 2 kinds \(notary, notation\): an authority is of one kind/],
    [{ authorities: [{ name: 'Bad_Name', notary: { rootKeys: [KEY] } }] }, /spec.authorities\[0\].name: must be a DNS-1123 label/],
    [{ authorities: [{ name: 'a', notary: { rootKeys: [KEY] } }, { name: 'a', notary: { rootKeys: [KEY2] } }] }, /spec.authorities\[1\].name: "a" names another authority/],
    [{ authorities: [{ notary: { rootKeys: [KEY] } }], require: 'most' }, /spec.require: expected one of any, all/],
    [{ action: 'allow', authorities: [{ notary: { rootKeys: [KEY] } }] }, /spec.authorities: only meaningful with action: verify/],
    [{ action: 'deny', require: 'all' }, /spec.require: only meaningful with action: verify/],
  ])('refuses %j', (spec, problem) => {
    expect(() => parse(spec)).toThrow(problem);
  });

  it('supports Notary, first, among the kinds registered, then cosign and Notation', () => {
    expect(supportedKinds()).toEqual([TrustKind.NOTARY, TrustKind.COSIGN, TrustKind.NOTATION]);
  });

  it('in an ImagePolicy, an authority with its own server or CA chooses its connection', () => {
    const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const p = parse({ authorities: [{ notary: { rootKeys: [KEY] } }, { notary: { caBundle: ca, rootKeys: [KEY] } }] }, 'ImagePolicy', 'team-a');
    expect(p.authorities.map((a) => a.ownConnection)).toEqual([false, true]);
  });
});

describe('rawKeyCount (the namespace budget, before parsing)', () => {
  it('counts the keys of trust and of every authority of a known kind', () => {
    expect(rawKeyCount({ trust: { rootKeys: [KEY, KEY2], signers: [{ role: 'targets/releases', keys: [KEY] }] } })).toBe(3);
    expect(rawKeyCount({ authorities: [{ notary: { rootKeys: [KEY] } }, { notary: { signers: [{ role: 'targets/a', keys: [KEY, KEY2] }] } }, { pgp: { rootKeys: [KEY] } }] })).toBe(3);
    expect(rawKeyCount({ authorities: 'nope' })).toBe(0);
    expect(rawKeyCount(undefined)).toBe(0);
  });

  it('looks at no more authorities than a policy may have', () => {
    const many = Array(1000).fill({ notary: { rootKeys: [KEY] } });
    expect(rawKeyCount({ authorities: many })).toBe(POLICY_LIMITS.authorities + 1);
  });
});

describe('refusedStandIn', () => {
  it('denies with no authorities to verify', () => {
    const p = refusedStandIn({ kind: 'ClusterImagePolicy', name: 'x', namespace: undefined, spec: { images: ['**'], authorities: [{ cosign: {} }] } }, 'spec.authorities[0].cosign: unknown', 'test');
    expect(p).toMatchObject({ action: 'deny', authorities: [], refused: 'spec.authorities[0].cosign: unknown' });
  });
});
