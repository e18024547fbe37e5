// Notation trust stores from ConfigMaps and Secrets: what the watch of trustgate's namespace keeps
// of each labelled object (TrustStoreIndex, fed as the watch feeds it), and how a policy's refs
// are resolved against it before the policy is compiled.
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { MAX_TRUST_STORE_OBJECTS, TrustStoreIndex } from '../../../src/kube/trust-stores.js';
import { parsePolicy, PolicyError, resolveTrustStoreRefs, TRUST_STORE_LABEL } from '../../../src/policy/index.js';
import { selfSignedCertificate } from '../../support/keys.js';

const NS = 'trustgate';
const ca = selfSignedCertificate(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, { cn: 'acme root', ca: true });
const tsa = selfSignedCertificate(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, { cn: 'acme tsa', ca: true });
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const fingerprints = (pem: unknown) => [...String(pem).matchAll(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)].map((m) => new X509Certificate(m[0]).fingerprint256);
const fp = (pem: string) => new X509Certificate(pem).fingerprint256;

function object(name: string, fields: { data?: Record<string, string>; binaryData?: Record<string, string> }, labels: Record<string, string> = { [TRUST_STORE_LABEL]: 'true' }, namespace = NS, resourceVersion = '1') {
  return { metadata: { name, namespace, labels, resourceVersion }, ...fields };
}

/** A policy whose one Notation authority has these trust stores. */
function spec(...trustStores: unknown[]) {
  return { images: ['registry.test/**'], authorities: [{ name: 'acme', notation: { trustPolicy: { version: '1.0', trustPolicies: [] }, trustStores } }] };
}

function storesOf(resolved: unknown): Record<string, unknown>[] {
  return (resolved as { authorities: { notation: { trustStores: Record<string, unknown>[] } }[] }).authorities[0]!.notation.trustStores;
}

describe('resolving configMapRef and secretRef', () => {
  const index = new TrustStoreIndex(NS);
  index.put('ConfigMap', object('acme-ca', { data: { 'ca.crt': ca, 'README': 'not a certificate' } }));
  index.put('ConfigMap', object('acme-der', { binaryData: { 'root.cer': b64(new X509Certificate(ca).raw) } }));
  index.put('Secret', object('acme-tsa', { data: { 'tsa.pem': b64(tsa), 'also.pem': b64(ca) } }, undefined, NS, '7'));

  it('replaces a ref by the certificates of every key that holds some, in key order', () => {
    const r = resolveTrustStoreRefs(spec({ name: 'ca:acme', configMapRef: { name: 'acme-ca' } }, { name: 'tsa:acme', secretRef: { name: 'acme-tsa' } }), index);
    expect(r.problems).toEqual([]);
    const [a, t] = storesOf(r.spec);
    expect(a).toEqual({ name: 'ca:acme', certificates: expect.any(String) });
    expect(fingerprints(a?.certificates)).toEqual([fp(ca)]);
    expect(fingerprints(t?.certificates)).toEqual([fp(ca), fp(tsa)]);
    expect(r.inputs).toEqual(['ConfigMap/acme-ca@1', 'Secret/acme-tsa@7']);
  });

  it('reads one key when the ref names it, and DER from binaryData', () => {
    const r = resolveTrustStoreRefs(spec({ name: 'tsa:acme', secretRef: { name: 'acme-tsa', key: 'tsa.pem' } }, { name: 'ca:der', configMapRef: { name: 'acme-der' } }), index);
    expect(r.problems).toEqual([]);
    expect(storesOf(r.spec).map((s) => fingerprints(s.certificates))).toEqual([[fp(tsa)], [fp(ca)]]);
  });

  it('leaves a spec without refs as it is', () => {
    const s = spec({ name: 'ca:acme', certificates: ca });
    expect(resolveTrustStoreRefs(s, index)).toEqual({ spec: s, problems: [], inputs: [] });
  });

  it.each([
    [{ name: 'ca:x', configMapRef: { name: 'missing' } }, 'trustStores[0].configMapRef: no ConfigMap "missing" in namespace trustgate labelled trustgate.dev/trust-store: "true"'],
    [{ name: 'ca:x', secretRef: { name: 'acme-tsa', key: 'nope.pem' } }, 'Secret "acme-tsa" in namespace trustgate has no key "nope.pem" holding PEM or DER certificates'],
    [{ name: 'ca:x', configMapRef: { name: 'acme-ca', key: 'README' } }, 'has no key "README" holding PEM or DER certificates'],
    [{ name: 'ca:x', configMapRef: { name: 'acme-ca' }, certificates: 'PEM' }, 'give one of certificates, configMapRef or secretRef'],
    [{ name: 'ca:x', configMapRef: { name: 'acme-ca' }, secretRef: { name: 'acme-tsa' } }, 'give one of certificates, configMapRef or secretRef'],
    [{ name: 'ca:x', secretRef: { name: 'acme-tsa', namespace: 'kube-system' } }, 'secretRef.namespace: unknown field'],
    [{ name: 'ca:x', secretRef: { name: 'Bad_Name' } }, 'secretRef.name: must be the name of a Secret'],
    [{ name: 'ca:x', secretRef: 'acme-tsa' }, 'secretRef: expected {name, key}'],
  ])('refuses %j', (store, message) => {
    const r = resolveTrustStoreRefs(spec(store), index);
    expect(r.problems.join('\n')).toContain(message);
  });

  it('is compiled again when a named object changes: its version is part of the inputs', () => {
    const local = new TrustStoreIndex(NS);
    local.put('ConfigMap', object('acme-ca', { data: { 'ca.crt': ca } }));
    const before = resolveTrustStoreRefs(spec({ name: 'ca:acme', configMapRef: { name: 'acme-ca' } }), local);
    local.put('ConfigMap', object('acme-ca', { data: { 'ca.crt': tsa } }, undefined, NS, '2'));
    const after = resolveTrustStoreRefs(spec({ name: 'ca:acme', configMapRef: { name: 'acme-ca' } }), local);
    expect(after.inputs).not.toEqual(before.inputs);
    expect(fingerprints(storesOf(after.spec)[0]?.certificates)).toEqual([fp(tsa)]);
    local.delete('ConfigMap', 'acme-ca');
    expect(resolveTrustStoreRefs(spec({ name: 'ca:acme', configMapRef: { name: 'acme-ca' } }), local).problems).toHaveLength(1);
  });

  it('refuses a secretRef when Secrets are not read (kubernetes.trustStores.secrets: false)', () => {
    const local = new TrustStoreIndex(NS, new Set(['ConfigMap']));
    expect(resolveTrustStoreRefs(spec({ name: 'ca:x', secretRef: { name: 'acme-tsa' } }), local).problems[0]).toContain('trust stores from Secrets are not read by this trustgate');
  });

  it('drops an object whose label is removed or that is of another namespace', () => {
    const local = new TrustStoreIndex(NS);
    local.put('Secret', object('s', { data: { 'ca.crt': b64(ca) } }));
    expect(local.get('Secret', 's')).toBeDefined();
    local.put('Secret', object('s', { data: { 'ca.crt': b64(ca) } }, { [TRUST_STORE_LABEL]: 'false' }));
    expect(local.get('Secret', 's')).toBeUndefined();
    local.put('Secret', object('s', { data: { 'ca.crt': b64(ca) } }, undefined, 'team-a'));
    expect(local.get('Secret', 's')).toBeUndefined();
    expect(local.size).toBe(0);
  });

  it('keeps at most MAX_TRUST_STORE_OBJECTS of a kind, and says so for the others', () => {
    const local = new TrustStoreIndex(NS);
    for (let i = 0; i <= MAX_TRUST_STORE_OBJECTS; i++) local.put('ConfigMap', object(`cm-${i}`, { data: { 'ca.crt': ca } }));
    expect(local.size).toBe(MAX_TRUST_STORE_OBJECTS);
    const r = resolveTrustStoreRefs(spec({ name: 'ca:x', configMapRef: { name: `cm-${MAX_TRUST_STORE_OBJECTS}` } }), local);
    expect(r.problems.join()).toContain(`more than ${MAX_TRUST_STORE_OBJECTS} ConfigMaps of the namespace carry the label`);
  });
});

describe('refs in policy files (no API server)', () => {
  it('are refused, saying where trust stores from objects are read', () => {
    const doc = { apiVersion: 'trustgate.dev/v1alpha1', kind: 'ClusterImagePolicy', metadata: { name: 'acme' }, spec: spec({ name: 'ca:acme', configMapRef: { name: 'acme-ca' } }) };
    let error: unknown;
    try {
      parsePolicy(doc, 'acme.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as PolicyError).problems).toContain('spec.authorities[0].notation.trustStores[0].configMapRef: trust stores from ConfigMaps are read only from the API server (kubernetes.policies); in policy files give the certificates inline');
  });
});
