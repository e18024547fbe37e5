// `trustgate verify --kind cosign` keyless, as a user runs it: a real keyless signature (the
// recorded public-good one of test/fixtures/cosign, README there: Fulcio certificate, Rekor SET,
// confirmed by cosign verify when recorded) put back into a real registry as cosign stored it (the
// referrers registry: Debian's docker-registry would want the signature image's config blob,
// which the recording does not hold and nothing reads), and the built CLI asked about it with an identity, an issuer and the trusted root
// of its time. The in-process checks of the same recording are test/unit/trust/cosign/.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trustgate } from '../support/cli.js';
import { LEGACY, TRUSTED_ROOT } from '../support/cosign-fixtures.js';
import { pushBlob, putManifest, startReferrersRegistry, type RegistryServer } from '../support/registries.js';

let dir: string;
let registry: RegistryServer;
let rootFile: string;
let image: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-keyless-cli-'));
  registry = await startReferrersRegistry(dir);
  rootFile = path.join(dir, 'trusted_root.json');
  writeFileSync(rootFile, TRUSTED_ROOT);
  // The legacy `.sig` manifest and its payload, under the tag cosign names for the digest. Only
  // the digest is signed (the payload's docker-reference names the original registry, which
  // cosign verify does not require either), so the recording verifies wherever it is served.
  await pushBlob(registry, LEGACY.repository, LEGACY.payload);
  const put = await putManifest(registry, LEGACY.repository, `${LEGACY.digest.replace(':', '-')}.sig`, LEGACY.manifest, 'application/vnd.oci.image.manifest.v1+json');
  expect(put.status).toBe(201);
  image = `${registry.host}/${LEGACY.repository}@${LEGACY.digest}`;
});

afterAll(async () => {
  await registry?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const keyless = (identity: string, issuer: string) => ['verify', image, '--kind', 'cosign', '--certificate-identity', identity, '--certificate-oidc-issuer', issuer, '--trusted-root', rootFile, '--insecure-registry', '--output', 'json'];

it('verifies a keyless signature by its identity and issuer, and prints the log entry that proved its time', async () => {
  const r = await trustgate(keyless(LEGACY.identity, LEGACY.issuer));
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  expect(out).toMatchObject({ verified: true, digest: LEGACY.digest, reference: image });
  expect(JSON.stringify(out)).toContain(LEGACY.identity);
  expect(JSON.stringify(out)).toContain(String(LEGACY.logIndex));
});

it('refuses the same signature for another identity, exit 1 with IDENTITY_MISMATCH', async () => {
  const r = await trustgate(keyless('someone-else@example.com', LEGACY.issuer));
  expect(r.code).toBe(1);
  expect(JSON.parse(r.stdout)).toMatchObject({ verified: false, code: 'IDENTITY_MISMATCH' });
});
