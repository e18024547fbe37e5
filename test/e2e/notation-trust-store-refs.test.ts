// A ClusterImagePolicy whose Notation trust store is a secretRef, on the real control plane with a
// real `trustgate serve`: refused (with the reason in its .status) while the Secret is missing or
// unlabelled, compiled again and accepted once it is labelled, refused again when it goes — and
// nothing of the Secret but its name in the status or the logs.
// Needs the notation authority's parser and CRD schema (engineer policy's), merged beside it.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ControlPlane } from '../support/control-plane.js';
import { eventually } from '../support/eventually.js';
import { selfSignedCertificate } from '../support/keys.js';
import { freePort } from '../support/processes.js';
import { ServeProcess } from '../support/serve-process.js';
import { makeTls } from '../support/tls.js';

const TOKEN = 'TOKEN-SENTINEL-4f1c9a';
const ca = selfSignedCertificate(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, { cn: 'acme root', ca: true });
let cp: ControlPlane;
let serve: ServeProcess | undefined;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tg-notation-refs-'));
  let tls;
  [cp, tls] = await Promise.all([ControlPlane.start(), makeTls(dir)]);
  const port = await freePort();
  const config = path.join(dir, 'trustgate.yaml');
  writeFileSync(config, `listen: "127.0.0.1:${port}"
tls: {certFile: ${tls.cert}, keyFile: ${tls.key}}
kubernetes: {kubeconfig: ${cp.kubeconfig}, trustStores: {namespace: trustgate}}
defaultAction: deny
`);
  await cp.installChart({ port, caPem: readFileSync(tls.caCert, 'utf8'), policies: [] });
  serve = await ServeProcess.start(config, tls.caCert);
  await serve.waitReady(30_000);
});

afterAll(async () => {
  await serve?.stop();
  await cp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const status = () => cp.kubectlOk(['get', 'clusterimagepolicy', 'acme', '-o', 'jsonpath={.status.accepted} {.status.message}']);

it('resolves a secretRef only from a labelled Secret of its namespace, and follows it', async () => {
  await cp.kubectlOk(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'trustgate.dev/v1alpha1',
    kind: 'ClusterImagePolicy',
    metadata: { name: 'acme' },
    spec: {
      images: ['registry.example.com/acme/**'],
      authorities: [{
        name: 'acme',
        notation: {
          trustPolicy: { version: '1.0', trustPolicies: [{ name: 'acme', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:acme'], trustedIdentities: ['*'] }] },
          trustStores: [{ name: 'ca:acme', secretRef: { name: 'acme-ca' } }],
        },
      }],
    },
  }));
  const missing = await eventually(status, (s) => s.startsWith('false'), 'status with the Secret missing');
  expect(missing).toContain('no Secret "acme-ca" in namespace trustgate labelled trustgate.dev/trust-store: "true"');

  // Unlabelled: as good as missing, and nothing of it is read.
  await cp.kubectlOk(['create', 'secret', 'generic', 'acme-ca', '-n', 'trustgate', `--from-literal=ca.crt=${ca}`, `--from-literal=token=${TOKEN}`]);
  await new Promise((r) => setTimeout(r, 2000));
  expect(await status()).toBe(missing);

  await cp.kubectlOk(['label', 'secret', 'acme-ca', '-n', 'trustgate', 'trustgate.dev/trust-store=true']);
  await eventually(status, (s) => s === 'true accepted', 'status once the Secret is labelled');

  await cp.kubectlOk(['delete', 'secret', 'acme-ca', '-n', 'trustgate']);
  await eventually(status, (s) => s === missing, 'status once the Secret is deleted');
  expect(serve!.lines.join('\n')).not.toContain(TOKEN);
  expect(serve!.lines.join('\n')).not.toContain(ca.split('\n')[1]);
});
