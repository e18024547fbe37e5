// Issue 9, item 1: a namespace ImagePolicy must never cause a credential it does not own to be
// sent anywhere (docs/adr/0005). The tenant runs real HTTPS servers (a trust server and a token
// realm on another host) that record every Authorization header; the review goes through the
// real decide(), CachingVerifier and TrustClient, with credentials wired as `trustgate serve`
// wires them (src/admission/credentials.ts).
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CachingVerifier, credentialLookup, decide, parseReview, type Decision, type PodCredentials } from '../../src/admission/index.js';
import { PolicySet, type Policy } from '../../src/policy/index.js';
import type { Credentials } from '../../src/registry/index.js';
import { TrustClient } from '../../src/trust/index.js';
import { CredentialRecorder } from '../support/credential-recorder.js';
import { policy } from '../support/policies.js';
import { review, workload } from '../support/reviews.js';
import { makeTls, type TlsFiles } from '../support/tls.js';

const REG = 'registry.example.com';
const IMAGE = `${REG}/team/app:1.0`;
const CLUSTER: Credentials = { username: 'platform', password: 'cluster-secret' };
const TENANT: Credentials = { username: 'team-a', password: 'team-secret' };

let tls: TlsFiles;
let ca: string;
const servers: CredentialRecorder[] = [];

async function server(challenge?: (self: number) => string): Promise<{ recorder: CredentialRecorder; url: string; port: number }> {
  const recorder = new CredentialRecorder(tls);
  servers.push(recorder);
  const port = await recorder.listen();
  if (challenge) recorder.challenge = challenge(port);
  return { recorder, url: `https://127.0.0.1:${port}`, port };
}

beforeAll(async () => {
  tls = await makeTls(mkdtempSync(path.join(os.tmpdir(), 'trustgate-creds-')));
  ca = readFileSync(tls.caCert, 'utf8');
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** One review of a team-a pod running IMAGE, credentials as `trustgate serve` finds them. */
async function admit(policies: Policy[], pod: PodCredentials, options: { trustServers?: Record<string, string>; pullSecret?: boolean } = {}): Promise<Decision> {
  const client = new TrustClient({ requestTimeoutMs: 3000 });
  const verifier = new CachingVerifier(
    client,
    { maxEntries: 100, maxBytes: 1 << 20, maxTtlMs: 60_000, negativeTtlMs: 10_000, timeoutMs: 5000, servers: options.trustServers ?? {}, now: Date.now },
    { hit() {}, miss() {}, evicted() {}, size() {}, verified() {} },
  );
  const spec = { containers: [{ name: 'app', image: IMAGE }], ...(options.pullSecret && { imagePullSecrets: [{ name: 'team-pull' }] }) };
  try {
    return await decide(parseReview(review('Pod', workload('Pod', 'web', spec))), 'mutate', {
      policies: new PolicySet(policies),
      verifier,
      defaultAction: 'deny',
      mutateWorkloads: false,
      deadlineMs: 8000,
      credentialsFor: credentialLookup(pod),
    });
  } finally {
    client.close();
  }
}

const clusterOnly: PodCredentials = { namespace: new Map(), cluster: new Map([[REG, CLUSTER]]) };
const both: PodCredentials = { namespace: new Map([[REG, TENANT]]), cluster: new Map([[REG, CLUSTER]]) };
const leaked = (...recorders: CredentialRecorder[]) => recorders.flatMap((r) => r.credentials()).filter((c) => c.includes(CLUSTER.password!));
const allowAll = () => policy('platform-allows', [`${REG}/**`], { action: 'allow' });

describe('a namespace ImagePolicy naming a server of the tenant', () => {
  it('in audit mode: the tenant trust server (Basic challenge) never receives the cluster credentials', async () => {
    const tenant = await server();
    const d = await admit([allowAll(), policy('exfil', [`${REG}/**`], { mode: 'audit', trust: { server: tenant.url, caBundle: ca, trustOnFirstUse: true } }, 'team-a')], clusterOnly);
    expect(d.allowed).toBe(true);
    expect(tenant.recorder.received.length).toBeGreaterThan(0); // it was asked: the test can fail
    expect(leaked(tenant.recorder)).toEqual([]);
    expect(tenant.recorder.credentials()).toEqual([]);
  });

  it('a Bearer realm on another HTTPS host named by the tenant server never receives them either', async () => {
    const realm = await server();
    const tenant = await server(() => `Bearer realm="https://localhost:${realm.port}/token",service="exfil"`);
    await admit([allowAll(), policy('exfil', [`${REG}/**`], { mode: 'audit', trust: { server: tenant.url, caBundle: ca, trustOnFirstUse: true } }, 'team-a')], clusterOnly);
    expect(realm.recorder.received.length).toBeGreaterThan(0);
    expect(leaked(tenant.recorder, realm.recorder)).toEqual([]);
    expect(realm.recorder.credentials()).toEqual([]);
  });

  it('its own CA for the cluster-named server (a connection the tenant can intercept) carries no cluster credential', async () => {
    // The cluster names the server in trust.servers; the cluster trusts only the system CAs, so
    // only the tenant's caBundle makes this certificate acceptable.
    const intercepting = await server();
    const d = await admit([allowAll(), policy('own-ca', [`${REG}/**`], { mode: 'audit', trust: { caBundle: ca, trustOnFirstUse: true } }, 'team-a')], clusterOnly, { trustServers: { [REG]: intercepting.url } });
    expect(d.allowed).toBe(true);
    expect(intercepting.recorder.received.length).toBeGreaterThan(0);
    expect(leaked(intercepting.recorder)).toEqual([]);
  });

  it('is sent only the credentials of the pod\'s own namespace (its imagePullSecrets), which the tenant holds anyway', async () => {
    const tenant = await server();
    await admit([allowAll(), policy('own-server', [`${REG}/**`], { mode: 'enforce', trust: { server: tenant.url, caBundle: ca, trustOnFirstUse: true } }, 'team-a')], both, { pullSecret: true });
    expect(tenant.recorder.credentials()).toEqual([`Basic ${TENANT.username}:${TENANT.password}`]);
    expect(leaked(tenant.recorder)).toEqual([]);
  });
});

describe('servers the cluster names still get the cluster credentials', () => {
  it('a ClusterImagePolicy server, and the token realm its challenge names on another host', async () => {
    const realm = await server();
    const platform = await server(() => `Bearer realm="https://localhost:${realm.port}/token",service="platform"`);
    const d = await admit([policy('platform-verifies', [`${REG}/**`], { trust: { server: platform.url, caBundle: ca, trustOnFirstUse: true } })], clusterOnly);
    // Nothing is published there: denied, but only after authenticating with the cluster's secret.
    expect(d.allowed).toBe(false);
    expect(realm.recorder.credentials()).toEqual([`Basic ${CLUSTER.username}:${CLUSTER.password}`]);
    // The cold update's requests go out together (one wave), each with the one token the realm issued.
    const sent = platform.recorder.credentials();
    expect(sent.length).toBeGreaterThan(0);
    expect([...new Set(sent)]).toEqual(['Bearer recorded-token']);
  });

  it('the trust server config names for the registry, also when a namespace policy only adds pins', async () => {
    const platform = await server();
    const pins = policy('pins', [`${REG}/**`], { mode: 'audit', trust: { signers: [{ role: 'targets/releases' }], trustOnFirstUse: true } }, 'team-a');
    await admit([policy('platform-verifies', [`${REG}/**`], { trust: { caBundle: ca, trustOnFirstUse: true } }), pins], clusterOnly, { trustServers: { [REG]: platform.url } });
    expect(platform.recorder.credentials()).toContain(`Basic ${CLUSTER.username}:${CLUSTER.password}`);
  });

  it('the pod\'s own pull secret takes precedence over the cluster\'s at a cluster-named server, as the kubelet does', async () => {
    const platform = await server();
    await admit([policy('platform-verifies', [`${REG}/**`], { trust: { server: platform.url, caBundle: ca, trustOnFirstUse: true } })], both, { pullSecret: true });
    expect(platform.recorder.credentials()).toEqual([`Basic ${TENANT.username}:${TENANT.password}`]);
  });
});
