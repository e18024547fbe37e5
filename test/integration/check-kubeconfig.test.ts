// `trustgate check --kubeconfig`: the cluster's ClusterImagePolicies and ImagePolicies, read
// once through the informers' own list and compile path (src/kube/policy-informers.ts), and no
// write to the cluster: check needs only list and watch on the two policy kinds (trust stores it
// may not list fail only the refs to them: test/security/check-trust-store-refs.test.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { runCli, tempFiles } from '../support/check-cli.js';
import { ScriptedVerifier } from '../support/fake-verifier.js';
import { freePort } from '../support/processes.js';
import { makeTls } from '../support/tls.js';

const SIGNED = `sha256:${'a'.repeat(64)}`;
const requests: string[] = [];
let server: https.Server;
let kubeconfig: string;

const policy = (kind: string, name: string, spec: unknown, namespace?: string) => ({
  apiVersion: 'trustgate.dev/v1alpha1', kind, metadata: { name, uid: `uid-${name}`, generation: 1, creationTimestamp: '2026-01-01T00:00:00Z', ...(namespace && { namespace }) }, spec,
});

const LISTS: Record<string, unknown[]> = {
  '/apis/trustgate.dev/v1alpha1/clusterimagepolicies': [policy('ClusterImagePolicy', 'signed', { images: ['registry.test/**'], trust: { trustOnFirstUse: true } })],
  '/apis/trustgate.dev/v1alpha1/imagepolicies': [
    policy('ImagePolicy', 'no-tools', { images: ['registry.test/team/tool'], action: 'deny' }, 'shop'),
    policy('ImagePolicy', 'broken', { images: ['registry.test/team/old'], mode: 'sideways' }, 'shop'),
  ],
};

beforeAll(async () => {
  const dir = tempFiles({});
  const tls = await makeTls(dir);
  server = https.createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (req, res) => {
    const [route, query = ''] = (req.url ?? '').split('?');
    requests.push(`${req.method} ${route}${query.includes('watch=true') ? ' watch' : ''}`);
    // An API server that never answers the trust store list of namespace `hang`.
    if (route === '/api/v1/namespaces/hang/configmaps') return;
    const items = LISTS[route!];
    if (req.method !== 'GET' || !items) return void res.writeHead(404).end('{}');
    if (query.includes('watch=true')) return void res.writeHead(200, { 'content-type': 'application/json' }).write(''); // held open
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '1' }, items }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
    clusters: [{ name: 'c', cluster: { server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, 'certificate-authority': tls.caCert } }],
    users: [{ name: 'u', user: { token: 't' } }],
    contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
  }));
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const pod = (image: string, namespace: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ${namespace}}\nspec: {containers: [{name: c, image: ${image}}]}\n`;

describe('trustgate check --kubeconfig', () => {
  it('decides with the cluster\'s policies, the namespace\'s ImagePolicies included, and writes nothing', async () => {
    const verifier = () => new ScriptedVerifier({ 'registry.test/team/app:1.0': SIGNED, 'registry.test/team/tool:1': SIGNED });
    const ok = await runCli(['check', '-f', '-', '--kubeconfig', kubeconfig, '--namespace', 'shop'], { verifier: verifier(), stdin: pod('registry.test/team/app:1.0', 'shop') });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const denied = await runCli(['check', '-f', '-', '--kubeconfig', kubeconfig], { verifier: verifier(), stdin: pod('registry.test/team/tool:1', 'shop') });
    expect(denied.code).toBe(1);
    expect(denied.stdout).toContain('POLICY_DENIED');
    expect(denied.stdout).toContain('ImagePolicy "shop/no-tools"');
    // A refused ImagePolicy stands in as a denial of the images it names, as in serve.
    const refused = await runCli(['check', '-f', '-', '--kubeconfig', kubeconfig], { verifier: verifier(), stdin: pod('registry.test/team/old:1', 'shop') });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('POLICY_REFUSED');
    const elsewhere = await runCli(['check', '-f', '-', '--kubeconfig', kubeconfig], { verifier: verifier(), stdin: pod('registry.test/team/tool:1', 'other') });
    expect(elsewhere.code).toBe(0);
    expect(requests.filter((r) => !r.startsWith('GET '))).toEqual([]);
  });

  it('exits 2 when the trust stores are not listed within the read\'s bound, rather than hang', async () => {
    const r = await runCli(['check', '-f', '-', '--kubeconfig', kubeconfig, '--trustgate-namespace', 'hang'], { verifier: new ScriptedVerifier({}), stdin: pod('registry.test/team/app:1.0', 'shop') });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('trustgate: USAGE: --kubeconfig: cannot read the cluster\'s policies: trust stores of namespace hang not listed within 15000 ms');
  });

  it('exits 2 naming the problem when the cluster cannot be read', async () => {
    const dir = tempFiles({});
    const broken = path.join(dir, 'kubeconfig');
    writeFileSync(broken, readFileSync(kubeconfig, 'utf8').replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${await freePort()}`));
    const r = await runCli(['check', '-f', '-', '--kubeconfig', broken], { verifier: new ScriptedVerifier({}), stdin: pod('registry.test/team/app:1.0', 'shop') });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^trustgate: USAGE: --kubeconfig: cannot read the cluster's policies: .*ECONNREFUSED/);
  });
});
