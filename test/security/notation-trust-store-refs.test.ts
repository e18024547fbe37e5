// A Notation authority's configMapRef / secretRef makes trustgate read an object of its own
// namespace into a policy. A policy author (a tenant's ImagePolicy above all) must not be able to
// use that to read, or to learn anything of, any other object there: only objects labelled
// trustgate.dev/trust-store: "true" are ever read, only from trustgate's namespace, only their
// certificates are kept, and nothing else of them (a token, a kubeconfig, a private key) reaches
// a refusal, and so neither a policy's status, a log line nor a denial. Bounded in objects,
// keys, bytes and refs. The index is fed as the watch of trustgate's namespace feeds it.
import { generateKeyPairSync } from 'node:crypto';
import { MAX_TRUST_STORE_OBJECTS, TrustStoreIndex } from '../../src/kube/trust-stores.js';
import { parsePolicy, PolicyError, resolveTrustStoreRefs, TRUST_STORE_LABEL, TRUST_STORE_REF_LIMITS } from '../../src/policy/index.js';
import { selfSignedCertificate } from '../support/keys.js';

const NS = 'trustgate';
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const ca = selfSignedCertificate(key, { cn: 'acme root', ca: true });
const privateKeyPem = key.export({ format: 'pem', type: 'pkcs8' }).toString();
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.SERVICE-ACCOUNT-TOKEN-SENTINEL.c2lnbmF0dXJl';
const KUBECONFIG = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: https://10.0.0.1, certificate-authority-data: ${Buffer.from(ca).toString('base64')}}}]
users: [{name: admin, user: {token: ${TOKEN}, client-key-data: ${Buffer.from(privateKeyPem).toString('base64')}}}]
`;
/** Anything of these in a message or a compiled store is a leak. */
const SECRETS = [TOKEN, 'SERVICE-ACCOUNT-TOKEN-SENTINEL', 'PRIVATE KEY', Buffer.from(privateKeyPem).toString('base64').slice(0, 40), 'client-key-data', 'kind: Config'];
const b64 = (s: string) => Buffer.from(s).toString('base64');

function secret(name: string, data: Record<string, string>, options: { labelled?: boolean; namespace?: string } = {}) {
  return { metadata: { name, namespace: options.namespace ?? NS, resourceVersion: '1', labels: (options.labelled === false ? {} : { [TRUST_STORE_LABEL]: 'true' }) as Record<string, string> }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) };
}

function spec(...trustStores: unknown[]) {
  return { images: ['registry.test/**'], authorities: [{ name: 'acme', notation: { trustPolicy: { version: '1.0', trustPolicies: [] }, trustStores } }] };
}

function expectNoLeak(...texts: unknown[]): void {
  const all = JSON.stringify(texts);
  for (const s of SECRETS) expect(all).not.toContain(s);
}

describe('trust store refs cannot read other objects of trustgate\'s namespace', () => {
  const index = new TrustStoreIndex(NS);
  // What the watch would deliver if the API server ignored the label selector, or raced a label change.
  index.put('Secret', secret('sa-token', { token: TOKEN, 'ca.crt': ca }, { labelled: false }));
  index.put('Secret', secret('elsewhere', { 'ca.crt': ca }, { namespace: 'kube-system' }));
  // Labelled by mistake: a kubeconfig, a token and a TLS key pair.
  index.put('Secret', secret('admin-kubeconfig', { config: KUBECONFIG, token: TOKEN }));
  index.put('Secret', secret('webhook-tls', { 'tls.crt': ca, 'tls.key': privateKeyPem, 'bundle.pem': `token: ${TOKEN}\n${privateKeyPem}${ca}` }));

  it('an unlabelled Secret is as absent as one that does not exist: nothing to probe', () => {
    const unlabelled = resolveTrustStoreRefs(spec({ name: 'ca:x', secretRef: { name: 'sa-token', key: 'ca.crt' } }), index);
    const missing = resolveTrustStoreRefs(spec({ name: 'ca:x', secretRef: { name: 'no-such-secret', key: 'ca.crt' } }), index);
    expect(unlabelled.problems).toHaveLength(1);
    expect(unlabelled.problems[0]).toBe(missing.problems[0]!.replace('no-such-secret', 'sa-token'));
    expectNoLeak(unlabelled);
  });

  it('a Secret of another namespace cannot be named, nor reached through a namespace field', () => {
    expect(resolveTrustStoreRefs(spec({ name: 'ca:x', secretRef: { name: 'elsewhere' } }), index).problems[0]).toContain('no Secret "elsewhere" in namespace trustgate');
    expect(resolveTrustStoreRefs(spec({ name: 'ca:x', secretRef: { name: 'elsewhere', namespace: 'kube-system' } }), index).problems[0]).toContain('secretRef.namespace: unknown field');
  });

  it('a labelled Secret holding a kubeconfig or a token gives nothing of them, only its name', () => {
    for (const ref of [{ name: 'admin-kubeconfig' }, { name: 'admin-kubeconfig', key: 'token' }, { name: 'admin-kubeconfig', key: 'config' }]) {
      const r = resolveTrustStoreRefs(spec({ name: 'ca:x', secretRef: ref }), index);
      expect(r.problems).toHaveLength(1);
      expect(r.problems[0]).toContain('Secret "admin-kubeconfig" in namespace trustgate');
      expectNoLeak(r);
    }
  });

  it('keeps only the certificates of a labelled Secret: no private key or token reaches the policy', () => {
    const r = resolveTrustStoreRefs(spec({ name: 'ca:x', secretRef: { name: 'webhook-tls' } }), index);
    expect(r.problems).toEqual([]);
    expect(JSON.stringify(r.spec)).toContain('BEGIN CERTIFICATE');
    expectNoLeak(r);
    // The value mixing a token, a key and a certificate is not a certificate value: dropped whole.
    expect(resolveTrustStoreRefs(spec({ name: 'ca:x', secretRef: { name: 'webhook-tls', key: 'bundle.pem' } }), index).problems[0]).toContain('has no key "bundle.pem" holding PEM or DER certificates');
  });

  it('a DER private key, or a PEM CERTIFICATE block that is not one, is not taken for a certificate', () => {
    const local = new TrustStoreIndex(NS);
    const derKey = key.export({ format: 'der', type: 'pkcs8' });
    const fake = `-----BEGIN CERTIFICATE-----\n${derKey.toString('base64')}\n-----END CERTIFICATE-----\n`;
    local.put('ConfigMap', { metadata: { name: 'keys', namespace: NS, resourceVersion: '1', labels: { [TRUST_STORE_LABEL]: 'true' } }, data: { 'fake.pem': fake }, binaryData: { 'key.der': derKey.toString('base64') } });
    const r = resolveTrustStoreRefs(spec({ name: 'ca:x', configMapRef: { name: 'keys' } }), local);
    expect(r.problems[0]).toContain('ConfigMap "keys" in namespace trustgate holds no PEM or DER certificates');
    expectNoLeak(r);
    expect(JSON.stringify(r)).not.toContain(derKey.toString('base64').slice(0, 40));
  });

  it('a policy file naming any of them is refused with the ref\'s path, and nothing of the object', () => {
    let error: unknown;
    try {
      parsePolicy({ apiVersion: 'trustgate.dev/v1alpha1', kind: 'ImagePolicy', metadata: { name: 'p', namespace: 'team-a' }, spec: spec({ name: 'ca:x', secretRef: { name: 'admin-kubeconfig' } }) }, 'p.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as PolicyError).message).toContain('trustStores[0].secretRef: trust stores from Secrets are read only from the API server');
    expectNoLeak((error as PolicyError).message);
  });
});

describe('trust store refs are bounded', () => {
  it('a huge ConfigMap brings nothing and is refused by its name and size', () => {
    const index = new TrustStoreIndex(NS);
    const many = ca.repeat(Math.ceil(TRUST_STORE_REF_LIMITS.objectCertificateBytes / ca.length) + 1);
    index.put('ConfigMap', { metadata: { name: 'huge', namespace: NS, resourceVersion: '1', labels: { [TRUST_STORE_LABEL]: 'true' } }, data: { 'a.pem': many.slice(0, many.length / 2 + 1), 'b.pem': many } });
    const r = resolveTrustStoreRefs(spec({ name: 'ca:x', configMapRef: { name: 'huge' } }), index);
    expect(r.problems).toEqual([expect.stringContaining(`ConfigMap "huge" in namespace trustgate: holds more than ${TRUST_STORE_REF_LIMITS.objectCertificateBytes} bytes`)]);
    expect(r.problems[0]).not.toContain('BEGIN');
    expect(index.get('ConfigMap', 'huge')?.certificates.size).toBe(0);
  });

  it('an object whose certificates together pass the bound is refused whole, not read in part', () => {
    const index = new TrustStoreIndex(NS);
    const half = ca.repeat(Math.ceil(TRUST_STORE_REF_LIMITS.objectCertificateBytes / 2 / ca.length) + 1);
    index.put('ConfigMap', { metadata: { name: 'two-halves', namespace: NS, resourceVersion: '1', labels: { [TRUST_STORE_LABEL]: 'true' } }, data: { 'a.pem': half, 'b.pem': half } });
    expect(resolveTrustStoreRefs(spec({ name: 'ca:x', configMapRef: { name: 'two-halves', key: 'a.pem' } }), index).problems[0]).toContain(`holds more than ${TRUST_STORE_REF_LIMITS.objectCertificateBytes} bytes of certificates`);
  });

  it('an object with too many keys is refused, holding none of them', () => {
    const index = new TrustStoreIndex(NS);
    const data = Object.fromEntries(Array.from({ length: TRUST_STORE_REF_LIMITS.keysPerObject + 1 }, (_, i) => [`k${i}.pem`, ca]));
    index.put('ConfigMap', { metadata: { name: 'wide', namespace: NS, resourceVersion: '1', labels: { [TRUST_STORE_LABEL]: 'true' } }, data });
    expect(resolveTrustStoreRefs(spec({ name: 'ca:x', configMapRef: { name: 'wide' } }), index).problems[0]).toContain(`has more than ${TRUST_STORE_REF_LIMITS.keysPerObject} keys`);
  });

  it('many refs: past the bound the policy is refused and no more are resolved', () => {
    const index = new TrustStoreIndex(NS);
    index.put('ConfigMap', { metadata: { name: 'acme', namespace: NS, resourceVersion: '1', labels: { [TRUST_STORE_LABEL]: 'true' } }, data: { 'ca.crt': ca } });
    const stores = Array.from({ length: 1000 }, (_, i) => ({ name: `ca:s${i}`, configMapRef: { name: 'acme' } }));
    const r = resolveTrustStoreRefs({ authorities: Array.from({ length: 8 }, () => ({ notation: { trustStores: stores } })) }, index);
    expect(r.problems).toEqual([expect.stringContaining(`more than ${TRUST_STORE_REF_LIMITS.refsPerPolicy} configMapRef/secretRef in one policy`)]);
    expect(r.inputs).toHaveLength(TRUST_STORE_REF_LIMITS.refsPerPolicy);
  });

  it('malformed refs by the thousand give a status of bounded length', () => {
    const stores = Array.from({ length: 64 }, (_, i) => ({ name: `ca:s${i}`, certificates: 'x', configMapRef: { name: 'acme' } }));
    const r = resolveTrustStoreRefs({ authorities: Array.from({ length: 8 }, () => ({ notation: { trustStores: stores } })) }, new TrustStoreIndex(NS));
    expect(r.problems).toHaveLength(21);
    expect(r.problems[20]).toBe('… and 492 more trust store ref problems');
  });

  it('labelled objects kept per kind are bounded; a flood of them evicts nothing already kept', () => {
    const index = new TrustStoreIndex(NS);
    index.put('Secret', secret('first', { 'ca.crt': ca }));
    for (let i = 0; i < MAX_TRUST_STORE_OBJECTS * 4; i++) index.put('Secret', secret(`flood-${i}`, { 'ca.crt': ca }));
    expect(index.size).toBe(MAX_TRUST_STORE_OBJECTS);
    expect(resolveTrustStoreRefs(spec({ name: 'ca:x', secretRef: { name: 'first' } }), index).problems).toEqual([]);
  });
});
