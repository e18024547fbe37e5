import { generateKeyPairSync } from 'node:crypto';
import { credentialLookup, credentialScope, CredentialScope } from '../../../src/admission/index.js';
import { parseReference } from '../../../src/reference/index.js';
import { policy } from '../../support/policies.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
// A P-256 public key: the parser only needs a well-formed one.
const KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
const REF = parseReference('registry.example.com/team/app:1.0');
const cluster = { username: 'platform', password: 'p' };
const own = { username: 'team', password: 't' };

/** A policy whose one authority is cosign, keyed, reaching the registry as `registry` says. */
function cosign(registry: Record<string, unknown> | undefined): Record<string, unknown> {
  return { authorities: [{ name: 'sig', cosign: { keys: [KEY], tlog: { required: false }, ...(registry && { registry }) } }] };
}

describe('credentialScope (docs/adr/0005)', () => {
  it.each([
    ['a ClusterImagePolicy with its own server and CA', policy('c', ['**'], { trust: { server: 'https://notary.example.com', caBundle: CA, trustOnFirstUse: true } }), CredentialScope.CLUSTER],
    ['an ImagePolicy that only adds signers', policy('n', ['**'], { trust: { signers: [{ role: 'targets/releases' }], trustOnFirstUse: true } }, 'team-a'), CredentialScope.CLUSTER],
    ['an ImagePolicy naming a server', policy('n', ['**'], { trust: { server: 'https://tenant.example.com', trustOnFirstUse: true } }, 'team-a'), CredentialScope.NAMESPACE],
    ['an ImagePolicy bringing a CA for the cluster\'s server', policy('n', ['**'], { trust: { caBundle: CA, trustOnFirstUse: true } }, 'team-a'), CredentialScope.NAMESPACE],
    ['a ClusterImagePolicy cosign authority with its own CA', policy('c', ['**'], cosign({ caBundle: CA })), CredentialScope.CLUSTER],
    ['a ClusterImagePolicy cosign authority marking the registry insecure', policy('c', ['**'], cosign({ insecure: true })), CredentialScope.CLUSTER],
    ['an ImagePolicy cosign authority on the registry as the cluster reaches it', policy('n', ['**'], cosign(undefined), 'team-a'), CredentialScope.CLUSTER],
    ['an ImagePolicy cosign authority bringing a CA for the registry', policy('n', ['**'], cosign({ caBundle: CA }), 'team-a'), CredentialScope.NAMESPACE],
    ['an ImagePolicy cosign authority reaching the registry over plain HTTP', policy('n', ['**'], cosign({ insecure: true }), 'team-a'), CredentialScope.NAMESPACE],
  ])('%s', (_name, p, scope) => {
    expect(credentialScope(p)).toBe(scope);
  });
});

describe('credentialLookup', () => {
  it('gives a namespace connection only the pod\'s own credentials, a cluster connection the pod\'s before the cluster\'s', () => {
    const onlyCluster = credentialLookup({ namespace: new Map(), cluster: new Map([['registry.example.com', cluster]]) });
    expect(onlyCluster(REF, CredentialScope.NAMESPACE)).toBeUndefined();
    expect(onlyCluster(REF, CredentialScope.CLUSTER)).toBe(cluster);
    const both = credentialLookup({ namespace: new Map([['registry.example.com', own]]), cluster: new Map([['registry.example.com', cluster]]) });
    expect(both(REF, CredentialScope.NAMESPACE)).toBe(own);
    expect(both(REF, CredentialScope.CLUSTER)).toBe(own);
  });

  it('answers every lookup with the failure when the pull secrets could not be read', () => {
    const failure = { code: 'TIMEOUT', message: 'slow' } as const;
    expect(credentialLookup(failure)(REF, CredentialScope.CLUSTER)).toBe(failure);
    expect(credentialLookup(undefined)(REF, CredentialScope.CLUSTER)).toBeUndefined();
  });
});
