// `trustgate verify|inspect IMAGE --kind cosign`, in-process over recorded registry contents.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CosignEnvironment } from '../../../cmd/cli/cosign.js';
import { main } from '../../../cmd/cli/main.js';
import type { Output } from '../../../cmd/cli/output.js';
import { keyPair, pushImage, signBundle, signBytes, signLegacy, simpleSigningPayload } from '../../support/cosign-format.js';
import { PrivateRekor } from '../../support/private-rekor.js';
import { MemoryRegistry } from '../../support/memory-registry.js';

const REPO = 'team/app';
const NAME = `registry.test:5000/${REPO}`;
const signer = keyPair('ecdsa-p256');
const dir = mkdtempSync(path.join(os.tmpdir(), 'cosign-cli-'));
const keyFile = path.join(dir, 'cosign.pub');
writeFileSync(keyFile, signer.pem);

async function cli(args: string[], registry: MemoryRegistry): Promise<{ code: number; stdout: string; stderr: string }> {
  const lines = { stdout: [] as string[], stderr: [] as string[] };
  const out: Output = { format: 'text', stdout: (t) => lines.stdout.push(t), stderr: (t) => lines.stderr.push(t) };
  const environment: CosignEnvironment = { env: { DOCKER_CONFIG: dir }, readStdin: () => Promise.resolve(''), registryClient: () => Promise.resolve(registry) };
  const code = await main(args, environment, out);
  return { code, stdout: lines.stdout.join('\n'), stderr: lines.stderr.join('\n') };
}

function signed(): { registry: MemoryRegistry; digest: string } {
  const registry = new MemoryRegistry();
  const digest = pushImage(registry, REPO, '1.0', 'one');
  signLegacy(registry, REPO, NAME, digest, signer.privateKey);
  signBundle(registry, REPO, digest, signer.privateKey);
  return { registry, digest };
}

describe('trustgate verify --kind cosign', () => {
  it('prints the pinned reference and exits 0', async () => {
    const { registry, digest } = signed();
    const r = await cli(['verify', `${NAME}:1.0`, '--kind', 'cosign', '--key', keyFile, '--insecure-ignore-tlog', '--output', 'json'], registry);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ verified: true, kind: 'cosign', digest, reference: `${NAME}:1.0@${digest}`, signatures: [{ format: 'bundle' }] });
  });

  it('refuses with exit 1 and the code in JSON', async () => {
    const { registry } = signed();
    const r = await cli(['verify', `${NAME}:1.0`, '--kind=cosign', '--key', keyFile, '--output', 'json'], registry);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ verified: false, code: 'TLOG_INVALID' });
  });

  it('checks a keyed signature\'s log entry against the log keys of --trusted-root', async () => {
    const rekor = new PrivateRekor();
    const rootFile = path.join(dir, 'trusted_root.json');
    writeFileSync(rootFile, rekor.trustedRoot());
    const registry = new MemoryRegistry();
    const digest = pushImage(registry, REPO, '1.0', 'logged');
    const payload = simpleSigningPayload(NAME, digest);
    const signature = signBytes(signer.privateKey, payload);
    signLegacy(registry, REPO, NAME, digest, signer.privateKey, { payload, signature, annotations: { 'dev.sigstore.cosign/bundle': rekor.bundleAnnotation(payload, signature, signer.pem) } });
    const withRoot = await cli(['verify', `${NAME}:1.0`, '--kind', 'cosign', '--key', keyFile, '--trusted-root', rootFile, '--output', 'json'], registry);
    expect(withRoot.code).toBe(0);
    expect(JSON.parse(withRoot.stdout)).toMatchObject({ signatures: [{ tlog: { logIndex: expect.any(Number) } }] });
    const publicGood = await cli(['verify', `${NAME}:1.0`, '--kind', 'cosign', '--key', keyFile, '--output', 'json'], registry);
    expect(publicGood.code).toBe(1);
    expect(JSON.parse(publicGood.stdout)).toMatchObject({ verified: false, code: 'TLOG_INVALID' });
  });

  it.each([
    [['--kind', 'cosign'], 'give --key'],
    [['--kind', 'cosign', '--certificate-identity', 'a@example.com'], 'needs --certificate-oidc-issuer'],
    [['--kind', 'cosign', '--certificate-oidc-issuer', 'https://accounts.google.com'], 'needs --certificate-identity'],
    [['--kind', 'cosign', '--key', keyFile, '--certificate-identity', 'a', '--certificate-oidc-issuer', 'b'], 'not both'],
    [['--kind', 'cosign', '--certificate-identity-regexp', '(a)\\1', '--certificate-oidc-issuer', 'b'], 'back-references'],
    [['--kind', 'cosign', '--key', keyFile, '--certificate-identity', 'a', '--certificate-oidc-issuer', 'b'], 'not both'],
    [['--kind', 'cosign', '--certificate-identity', 'a', '--certificate-oidc-issuer', 'b', '--insecure-ignore-tlog'], 'keyless signatures need the log'],
    [['--kind', 'rekor'], '--kind must be notary, cosign or notation'],
  ])('exits 2 on a usage error: %j', async (flags, message) => {
    const r = await cli(['verify', `${NAME}:1.0`, ...flags], signed().registry);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});

describe('trustgate inspect --kind cosign', () => {
  it('lists every signature with its format, signer and what it names', async () => {
    const { registry, digest } = signed();
    const r = await cli(['inspect', `${NAME}:1.0`, '--kind', 'cosign', '--output', 'json'], registry);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ digest, signatures: [{ format: 'bundle', signer: { key: true }, signedDigest: digest, predicateType: 'https://sigstore.dev/cosign/sign/v1' }, { format: 'legacy', layer: 0, signer: { key: true }, signedDigest: digest }] });
  });
});
