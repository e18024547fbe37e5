// docs/adr/0005 for cosign authorities: the connection is the image's registry, and an
// ImagePolicy that brings its own CA for it (whoever holds that CA can answer for the registry)
// makes the connection the namespace's, so only the pod's own pull secrets go there, never the
// cluster's credentialsSecret. The registry is a real HTTPS server recording every
// Authorization header (Basic challenge); the review goes through the real decide(),
// CachingVerifier, CosignVerifier and OciRegistryClient, with credentials as serve wires them.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CachingVerifier, credentialLookup, decide, parseReview, type Decision, type PodCredentials } from '../../src/admission/index.js';
import { PolicySet, type Policy } from '../../src/policy/index.js';
import type { Credentials } from '../../src/registry/index.js';
import { OciRegistryClient } from '../../src/registry/oci/index.js';
import { CosignVerifier } from '../../src/trust/cosign/index.js';
import { CredentialRecorder } from '../support/credential-recorder.js';
import { policy } from '../support/policies.js';
import { review, workload } from '../support/reviews.js';
import { makeTls } from '../support/tls.js';

const CLUSTER: Credentials = { username: 'platform', password: 'cluster-secret' };
const TENANT: Credentials = { username: 'team-a', password: 'team-secret' };
const KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

let registry: CredentialRecorder;
let host: string;
let ca: string;

beforeAll(async () => {
  const tls = await makeTls(mkdtempSync(path.join(os.tmpdir(), 'trustgate-cosign-creds-')));
  ca = readFileSync(tls.caCert, 'utf8');
  registry = new CredentialRecorder(tls);
  host = `127.0.0.1:${await registry.listen()}`;
});

afterAll(() => registry.close());

beforeEach(() => {
  registry.received.length = 0;
});

/** A cosign authority reaching the image's registry with the given CA. */
const cosign = (caBundle: string) => ({ authorities: [{ name: 'sig', cosign: { keys: [KEY], tlog: { required: false }, registry: { caBundle } } }] });

/** One review of a team-a pod running the image on the recording registry. */
async function admit(policies: Policy[], pod: PodCredentials): Promise<Decision> {
  const client = new OciRegistryClient();
  const verifier = new CachingVerifier(
    [new CosignVerifier(client)],
    { maxEntries: 100, maxBytes: 1 << 20, maxTtlMs: 60_000, negativeTtlMs: 10_000, timeoutMs: 5000, servers: {}, now: Date.now },
    { hit() {}, miss() {}, evicted() {}, size() {}, verified() {} },
  );
  try {
    return await decide(parseReview(review('Pod', workload('Pod', 'web', { containers: [{ name: 'app', image: `${host}/team/app:1.0` }] }))), 'mutate', {
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

const clusterOnly = (): PodCredentials => ({ namespace: new Map(), cluster: new Map([[host, CLUSTER]]) });
const both = (): PodCredentials => ({ namespace: new Map([[host, TENANT]]), cluster: new Map([[host, CLUSTER]]) });
const allowAll = () => policy('platform-allows', [`${host}/**`], { action: 'allow' });
const sent = (who: Credentials) => registry.credentials().filter((c) => c.includes(who.password!));

describe('an ImagePolicy cosign authority with its own CA for the registry', () => {
  it('in audit mode: the registry never receives the cluster credentials', async () => {
    const d = await admit([allowAll(), policy('tenant-ca', [`${host}/**`], { mode: 'audit', ...cosign(ca) }, 'team-a')], clusterOnly());
    expect(d.allowed).toBe(true);
    expect(registry.received.length).toBeGreaterThan(0); // it was asked: the test can fail
    expect(sent(CLUSTER)).toEqual([]);
    expect(registry.credentials()).toEqual([]);
  });

  it('with the pod\'s own pull secret: only that one is sent', async () => {
    await admit([allowAll(), policy('tenant-ca', [`${host}/**`], { mode: 'audit', ...cosign(ca) }, 'team-a')], both());
    expect(sent(TENANT).length).toBeGreaterThan(0);
    expect(sent(CLUSTER)).toEqual([]);
  });
});

it('a ClusterImagePolicy cosign authority with a CA is the cluster\'s choice: the cluster credentials go to the image\'s registry', async () => {
  const d = await admit([policy('platform', [`${host}/**`], cosign(ca))], clusterOnly());
  expect(d.allowed).toBe(false);
  expect(sent(CLUSTER).length).toBeGreaterThan(0);
});
