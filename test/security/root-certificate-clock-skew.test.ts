// Issue 9 item 13: a root certificate whose notBefore is the publisher's clock, a little ahead
// of ours. notary allows one day of leeway on notBefore and none on notAfter
// (tuf/utils/x509.go ValidateCertificate); trustgate must draw the same lines. Each case asks the
// real notary client first.
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NO_PINS, TrustClient } from '../../src/trust/index.js';
import { AttackServer } from '../support/attack-server.js';
import { TestKey } from '../support/keys.js';
import { notaryList } from '../support/notary-list.js';
import { buildRepository, digestOf, standardKeys, standardSpec } from '../support/repo-builder.js';
import { makeTls, type TlsFiles } from '../support/tls.js';
import { codeOf } from '../support/verify-helpers.js';

const GUN = '127.0.0.1:5000/skew/app';
const V1 = digestOf('v1');
const HOUR = 3_600_000;
let tls: TlsFiles;
let server: AttackServer;
let url: string;

beforeAll(async () => {
  tls = await makeTls(mkdtempSync(path.join(os.tmpdir(), 'trustgate-skew-')));
  server = new AttackServer(tls, GUN);
  url = await server.listen();
});

afterAll(async () => {
  await server?.close();
});

/** Serves a repository whose only root key is a certificate valid from `notBefore` for `days`. */
function serveRootCertificate(notBefore: Date, days = 3650): void {
  const keys = { ...standardKeys(GUN), root: TestKey.generate('ecdsa-x509', { cn: GUN, notBefore, days }) };
  server.files = buildRepository(standardSpec(GUN, keys, { '1.0': V1 })).files;
}

function load() {
  return new TrustClient({ requestTimeoutMs: 2000 }).loadRepository({
    server: url, gun: GUN, pins: NO_PINS, roles: { all: false, roles: [] }, caBundle: readFileSync(tls.caCert, 'utf8'), credentials: undefined, timeoutMs: 5000,
  });
}

function signedDigest(repo: Awaited<ReturnType<typeof load>>): string | undefined {
  return repo.roles.get('targets')?.doc.body.targets.get('1.0')?.sha256.toString('hex');
}

it('a root certificate valid from 3 hours from now is accepted by notary and by trustgate', async () => {
  serveRootCertificate(new Date(Date.now() + 3 * HOUR));
  const notary = await notaryList(url, tls.caCert, GUN);
  expect(notary.out).toContain(V1.slice(7));
  expect(notary.code).toBe(0);
  expect(signedDigest(await load())).toBe(V1.slice(7));
});

it('a root certificate valid from 25 hours from now is refused by both (INVALID_ROOT_CERTIFICATE)', async () => {
  serveRootCertificate(new Date(Date.now() + 25 * HOUR));
  const notary = await notaryList(url, tls.caCert, GUN);
  expect(notary.code).not.toBe(0);
  expect(notary.out).not.toContain(V1.slice(7));
  expect(await codeOf(load())).toBe('INVALID_ROOT_CERTIFICATE');
});

it('expiry stays strict: a root certificate that expired a minute ago is refused by both', async () => {
  const notBefore = new Date(Date.now() - 24 * HOUR);
  serveRootCertificate(notBefore, (24 * HOUR - 60_000) / (24 * HOUR));
  const notary = await notaryList(url, tls.caCert, GUN);
  expect(notary.code).not.toBe(0);
  expect(notary.out).not.toContain(V1.slice(7));
  expect(await codeOf(load())).toBe('INVALID_ROOT_CERTIFICATE');
});
