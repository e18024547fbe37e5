// A tenant's identity pattern cannot freeze a real `trustgate serve` (found by an attacker in
// issue 10; the defence: src/trust/cosign/regexp.ts, identity.ts; the unit-level test is
// cosign-identity-pattern-bounds.test.ts). The attacker's pattern is now refused when the policy
// is read; the costliest one accepted (128 states) runs over an issuer just under the 4,096
// characters matched, and over one beyond them (refused before any pattern runs).
//
// The finding (end to end): attack10-identity-pattern-stall.test.ts against a real
// `trustgate serve` (dist/: `npm run --silent build` first). The tenant's ImagePolicy (here in a
// policy file; on a cluster it is a CRD object the informers compile the same way) names its own
// plain-HTTP registry (`registry.insecure: true`) and an identity pattern built to be expensive;
// its registry serves one legacy signature layer whose certificate claims a 5,000-character
// issuer. One AdmissionReview for one pod then freezes the whole process: /healthz, and every
// other namespace's reviews, get no answer until the pattern has run over the issuer (seconds
// here; minutes to hours with a 1 MiB .sig manifest and 16 identities), and the kubelet's
// liveness probe restarts the pod.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CLI } from '../support/cli.js';
import { review, workload } from '../support/reviews.js';
import { ServeProcess, writeServeConfig } from '../support/serve-process.js';
import { makeTls } from '../support/tls.js';

const CLASS = Array.from({ length: 480 }, (_, i) => String.fromCodePoint(0x391 + i)).join('');
/** The attacker's pattern (3,002 states), and the same shape at the largest program accepted (128). */
const PATTERN = `(?:[^${CLASS}]*){1000}Z`;
const LARGEST = `(?:[^${CLASS}]*){42}Z`;
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

let dir: string;
let serve: ServeProcess | undefined;
let registry: http.Server;
let registryHost: string;
let caFile: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'attack10-serve-'));
  const tls = await makeTls(dir);
  caFile = tls.caCert;

  const certificate = (name: string, issuer: string): string => {
    writeFileSync(path.join(dir, `${name}.cnf`), `[req]\ndistinguished_name=dn\n[dn]\n[ext]\nsubjectAltName=URI:https://x.example/\n1.3.6.1.4.1.57264.1.1=DER:${Buffer.from(issuer).toString('hex')}\n`);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, `${name}.key`), '-out', path.join(dir, `${name}.pem`), '-subj', '/CN=x', '-days', '2', '-config', path.join(dir, `${name}.cnf`), '-extensions', 'ext'], { stdio: 'ignore' });
    return readFileSync(path.join(dir, `${name}.pem`), 'utf8');
  };
  // tenant/app: the attacker's 5,000-character issuer; tenant/near: 4,096 characters, all matched.
  const certs: Record<string, string> = {
    app: certificate('app', `https://issuer.example/${'b'.repeat(5000)}`),
    near: certificate('near', `https://issuer.example/${'b'.repeat(4096 - 23)}`),
  };

  const image = `sha256:${'d'.repeat(64)}`;
  const payload = Buffer.from('{}');
  const config = Buffer.from('{}');
  const sigs: Record<string, Buffer> = {};
  for (const [repo, cert] of Object.entries(certs)) {
    sigs[repo] = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: config.length, digest: sha(config) },
      layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', size: payload.length, digest: sha(payload), annotations: { 'dev.cosignproject.cosign/signature': 'AAAA', 'dev.sigstore.cosign/certificate': cert } }],
    }));
  }
  registry = http.createServer((req, res) => {
    const m = /^\/v2\/tenant\/(app|near)\/(manifests|blobs)\/(.+)$/.exec(req.url ?? '');
    const sig = m && sigs[m[1]!]!;
    if (m && sig && m[2] === 'manifests' && m[3] === '1.0') {
      res.writeHead(200, { 'docker-content-digest': image, 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end();
    } else if (m && sig && m[2] === 'manifests' && m[3] === `${image.replace(':', '-')}.sig`) {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': sha(sig) }).end(sig);
    } else if (m && m[2] === 'blobs' && m[3] === sha(payload)) {
      res.writeHead(200).end(payload);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
  registryHost = `127.0.0.1:${(registry.address() as AddressInfo).port}`;

  const policies = `apiVersion: trustgate.dev/v1alpha1
kind: ImagePolicy
metadata: {name: stall, namespace: team-a}
spec:
  images: ["${registryHost}/**"]
  authorities:
    - cosign:
        keyless:
          identities: [{issuerRegExp: ${JSON.stringify(LARGEST)}, subject: x}]
        registry: {insecure: true}
`;
  serve = await ServeProcess.start(await writeServeConfig(dir, tls, policies), caFile);
}, 60_000);

afterAll(async () => {
  await serve?.stop();
  registry?.closeAllConnections();
  await new Promise((resolve) => registry?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** Milliseconds until /healthz answers, or `limit` if it does not in time. */
function healthz(port: number, ca: Buffer, limit: number): Promise<number> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/healthz', ca, timeout: limit }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - started));
    });
    req.on('timeout', () => { req.destroy(); resolve(limit); });
    req.on('error', () => resolve(limit));
  });
}

it.each(['app', 'near'])('one pod of a tenant (tenant/%s) does not stop /healthz from answering', async (repo) => {
  const ca = readFileSync(caFile);
  expect(await healthz(serve!.port, ca, 2000)).toBeLessThan(500);
  const pod = review('Pod', workload('Pod', 'web', { containers: [{ name: 'app', image: `${registryHost}/tenant/${repo}:1.0` }] }), { namespace: 'team-a' });
  let done = false;
  const started = performance.now();
  const answer = serve!.review('mutate', pod).catch((e: unknown) => e).finally(() => { done = true; });
  // /healthz, asked every 100 ms while the review runs: the longest wait for an answer.
  let waited = 0;
  while (!done && performance.now() - started < 60_000) {
    waited = Math.max(waited, await healthz(serve!.port, ca, 3000));
    await new Promise((r) => setTimeout(r, 100));
  }
  const result = await answer;
  expect(result).toMatchObject({ allowed: false, status: { message: expect.stringContaining('IDENTITY_MISMATCH') } });
  expect(waited).toBeLessThan(1000);
}, 120_000);

it("refuses to start with the attacker's pattern in a policy file, saying why", () => {
  writeFileSync(path.join(dir, 'attacker.yaml'), readFileSync(path.join(dir, 'policies.yaml'), 'utf8').replace(JSON.stringify(LARGEST), JSON.stringify(PATTERN)));
  const config = readFileSync(path.join(dir, 'config.yaml'), 'utf8').replace('policies.yaml', 'attacker.yaml');
  writeFileSync(path.join(dir, 'attacker-config.yaml'), config);
  const run = spawnSync(process.execPath, [CLI, 'serve', '--config', path.join(dir, 'attacker-config.yaml')], { encoding: 'utf8', timeout: 30_000 });
  expect(run.status).toBe(2);
  expect(run.stderr).toMatch(/issuerRegExp: (pattern )?too complex/);
});
