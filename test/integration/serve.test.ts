// `trustgate serve` as a process against Debian's notary-server and docker-registry, with real
// signed and unsigned images and real AdmissionReviews over HTTPS.
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, runOk } from '../support/processes.js';
import { applyPatch, review, workload } from '../support/reviews.js';
import { decodePatch, metricValue, ServeProcess } from '../support/serve-process.js';
import { TrustStack, type PushedImage } from '../support/stack.js';

let stack: TrustStack;
let serve: ServeProcess;
let dir: string;
let gun: string;
let signed: PushedImage;
let policyFile: string;

function policies(extra = ''): string {
  return `apiVersion: trustgate.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: signed-images}
spec:
  images: ["${stack.registry}/**"]
  trust: {server: "${stack.notaryUrl}", caBundle: ${JSON.stringify(readCa())}, trustOnFirstUse: true}
---
apiVersion: trustgate.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: trial}
spec:
  images: ["${stack.registry}/trial/**"]
  mode: warn
  trust: {server: "${stack.notaryUrl}", caBundle: ${JSON.stringify(readCa())}, trustOnFirstUse: true}
${extra}`;
}

let caText = '';
function readCa(): string {
  return caText;
}

const pod = (image: string, name = 'web') => workload('Pod', name, { containers: [{ name: 'app', image }] });

beforeAll(async () => {
  stack = await TrustStack.start();
  caText = (await import('node:fs')).readFileSync(stack.tls.caCert, 'utf8');
  gun = `${stack.registry}/team/app`;
  signed = await stack.pushImage('team/app', '1.0', 'serve: signed build');
  await stack.init(gun);
  await stack.sign(gun, '1.0', signed);
  // The registry now serves an unsigned manifest for 1.0; the signed digest must still win.
  await stack.pushImage('team/app', '1.0', 'serve: unsigned rebuild');
  await stack.pushImage('team/app', 'unsigned', 'serve: never signed');

  dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-serve-'));
  copyFileSync(stack.tls.cert, path.join(dir, 'server.crt'));
  copyFileSync(stack.tls.key, path.join(dir, 'server.key'));
  policyFile = path.join(dir, 'policies', 'base.yaml');
  (await import('node:fs')).mkdirSync(path.dirname(policyFile));
  writeFileSync(policyFile, policies());
  writeFileSync(path.join(dir, 'config.yaml'), `listen: "127.0.0.1:0"
tls: {certFile: server.crt, keyFile: server.key, reloadIntervalSeconds: 1}
metrics: {listen: "127.0.0.1:${await freePort()}"}
policies: {files: ["policies/*.yaml"], reloadIntervalSeconds: 0.2}
defaultAction: deny
`);
  serve = await ServeProcess.start(path.join(dir, 'config.yaml'), stack.tls.caCert);
});

afterAll(async () => {
  await serve?.stop();
  await stack?.stop();
});

describe('trustgate serve', () => {
  it('pins a signed image to the signed digest, not the one the registry now serves', async () => {
    const object = pod(`${gun}:1.0`);
    const answer = await serve.review('mutate', review('Pod', object));
    expect(answer.allowed).toBe(true);
    const patched = applyPatch(object, decodePatch(answer)) as any;
    expect(patched.spec.containers[0].image).toBe(`${gun}:1.0@${signed.digest}`);
    expect(JSON.parse(patched.metadata.annotations['trustgate.dev/original-images'])).toEqual({ app: `${gun}:1.0` });
  });

  it('validates the pinned pod, and refuses it pinned to another digest', async () => {
    expect((await serve.review('validate', review('Pod', pod(`${gun}:1.0@${signed.digest}`)))).allowed).toBe(true);
    const other = `sha256:${'0'.repeat(64)}`;
    const answer = await serve.review('validate', review('Pod', pod(`${gun}:1.0@${other}`)));
    expect(answer.allowed).toBe(false);
    expect(answer.status?.message).toMatch(/DIGEST_NOT_SIGNED/);
  });

  it('denies an unsigned image, naming container, image, reason, policy and fix', async () => {
    const answer = await serve.review('mutate', review('Pod', pod(`${gun}:unsigned`)));
    expect(answer.allowed).toBe(false);
    expect(answer.status?.message).toBe(
      `container "app" image "${gun}:unsigned": TAG_NOT_SIGNED: tag "unsigned" of ${gun} is not signed (no signature in targets/releases or targets); required by ClusterImagePolicy "signed-images"; fix: sign this tag (docker trust sign IMAGE:TAG) or deploy a signed tag`,
    );
  });

  it('validates Deployments without rewriting them', async () => {
    const deployment = workload('Deployment', 'web', { containers: [{ name: 'app', image: `${gun}:1.0` }] });
    const answer = await serve.review('mutate', review('Deployment', deployment));
    expect(answer).toMatchObject({ allowed: true });
    expect(answer.patch).toBeUndefined();
    const bad = workload('Deployment', 'web', { containers: [{ name: 'app', image: `${gun}:unsigned` }] });
    expect((await serve.review('validate', review('Deployment', bad))).allowed).toBe(false);
  });

  it('warn mode admits with a warning', async () => {
    await stack.pushImage('trial/tool', '0.1', 'trial tool');
    const answer = await serve.review('mutate', review('Pod', pod(`${stack.registry}/trial/tool:0.1`)));
    expect(answer.allowed).toBe(true);
    expect(answer.warnings?.[0]).toMatch(/would be denied: NO_TRUST_DATA \(ClusterImagePolicy "trial", mode warn\)/);
  });

  it('a burst of identical reviews causes one round of trust fetches', async () => {
    const image = await stack.pushImage('team/app', '2.0', 'burst build');
    await stack.sign(gun, '2.0', image);
    const before = await serve.metrics();
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => serve.review('mutate', review('Pod', pod(`${gun}:2.0`, `web-${i}`), { uid: `burst-${i}` }))));
    expect(answers.every((a) => a.allowed)).toBe(true);
    const after = await serve.metrics();
    const verified = (t: string) => metricValue(t, 'trustgate_verifications_total', 'result="VERIFIED"');
    expect(verified(after) - verified(before)).toBe(1);
    const fetches = (t: string) => metricValue(t, 'trustgate_trust_fetch_duration_seconds_count', `server="${stack.notaryUrl}"`);
    // A process that already trusts the root fetches timestamp, snapshot and targets once, in one
    // wave with targets/releases (asked for by name, unpublished here: src/trust/update.ts).
    expect(fetches(after) - fetches(before)).toBe(4);
    expect(metricValue(after, 'trustgate_admission_reviews_total', 'endpoint="mutate",operation="CREATE",kind="Pod",decision="allow"')).toBeGreaterThanOrEqual(40);
  });

  it('reloads edited policies, and keeps the last good set when an edit is broken', async () => {
    await stack.pushImage('vendor/tool', '1', 'vendor tool');
    const vendor = pod(`${stack.registry}/vendor/tool:1`);
    expect((await serve.review('mutate', review('Pod', vendor))).allowed).toBe(false);
    const mark = serve.lines.length;
    writeFileSync(policyFile, policies(`---
apiVersion: trustgate.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: vendor}
spec: {images: ["${stack.registry}/vendor/**"], action: allow}
`));
    await serve.waitForLog(/"msg":"policies reloaded"/, 10_000, mark);
    expect((await serve.review('mutate', review('Pod', vendor))).allowed).toBe(true);
    const broken = serve.lines.length;
    writeFileSync(policyFile, `${policies()}---\nkind: ClusterImagePolicy\nspec: {imagez: []}\n`);
    const error = await serve.waitForLog(/policy change rejected/, 10_000, broken);
    expect(error).toMatch(/spec.imagez: unknown field/);
    expect((await serve.review('mutate', review('Pod', vendor))).allowed).toBe(true);
  });

  it('reloads a rotated certificate without a restart', async () => {
    const first = await serve.request('GET', '/healthz');
    const mark = serve.lines.length;
    // A new key and certificate from the same CA, as cert-manager would write them.
    await runOk('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=rotated', '-keyout', path.join(dir, 'new.key'), '-out', path.join(dir, 'new.csr')]);
    writeFileSync(path.join(dir, 'new.ext'), 'subjectAltName=IP:127.0.0.1\n');
    await runOk('openssl', ['x509', '-req', '-in', path.join(dir, 'new.csr'), '-CA', stack.tls.caCert, '-CAkey', stack.tls.caKey, '-CAcreateserial', '-days', '2', '-extfile', path.join(dir, 'new.ext'), '-out', path.join(dir, 'new.crt')]);
    copyFileSync(path.join(dir, 'new.key'), path.join(dir, 'server.key'));
    copyFileSync(path.join(dir, 'new.crt'), path.join(dir, 'server.crt'));
    await serve.waitForLog(/TLS certificate reloaded/, 10_000, mark);
    const second = await serve.request('GET', '/healthz');
    expect(second.status).toBe(200);
    expect(second.cert).not.toBe(first.cert);
  });

  it('speaks TLS 1.2 or newer only', async () => {
    const tls = await import('node:tls');
    const attempt = (maxVersion: 'TLSv1.1' | 'TLSv1.2') =>
      new Promise<string>((resolve) => {
        const socket = tls.connect({ host: '127.0.0.1', port: serve.port, ca: caText, maxVersion, minVersion: 'TLSv1' }, () => {
          resolve(socket.getProtocol() ?? '');
          socket.end();
        });
        socket.on('error', (e) => resolve(`error: ${e.message}`));
      });
    expect(await attempt('TLSv1.2')).toBe('TLSv1.2');
    expect(await attempt('TLSv1.1')).toMatch(/^error/);
  });

  it('shuts down cleanly on SIGTERM', async () => {
    expect(await serve.stop()).toBe(0);
    expect(serve.lines.some((l) => /"msg":"stopped"/.test(l))).toBe(true);
  });
});
