// Issue 9, left open after item 12: a `rootKeys` pin given as a CA certificate counted whatever
// the CA's validity. notary's trust pinning ignores a pinned CA outside its validity window
// (trustpinning/trustpin.go NewTrustPinChecker: utils.ValidateCertificate(caCert, true), and
// "invalid CA certs provided" when none is left) and checks the chain from the root certificate
// to the CA at the current time (caCheck: x509 Verify, no leeway). Each case asks the real
// `notary` CLI first, with a trust_pinning `ca` entry, then trustgate with the same CA pinned.
// The root certificates carry no extendedKeyUsage: notary verifies the chain with Go's default
// usage (server auth) and refuses a codeSigning-only leaf under a CA pin even when all is valid.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parsePins, TrustClient } from '../../src/trust/index.js';
import { AttackServer } from '../support/attack-server.js';
import { selfSignedCertificate, TestKey } from '../support/keys.js';
import { notaryList } from '../support/notary-list.js';
import { buildRepository, digestOf, standardKeys, standardSpec } from '../support/repo-builder.js';
import { makeTls, type TlsFiles } from '../support/tls.js';
import { codeOf } from '../support/verify-helpers.js';

const GUN = '127.0.0.1:5000/ca-pinned/app';
const V1 = digestOf('v1');
const DAY = 86_400_000;
let dir: string;
let tls: TlsFiles;
let server: AttackServer;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-ca-pin-'));
  tls = await makeTls(dir);
  server = new AttackServer(tls, GUN);
  url = await server.listen();
});

afterAll(async () => {
  await server?.close();
});

/**
 * A signing CA valid over [now + fromDays, now + fromDays + days], and the repository served
 * with a root certificate it issued (valid from now, or from `leafFromDays`, for ten years).
 */
function repositoryUnderCa(name: string, fromDays: number | undefined, days: number, leafFromDays?: number): string {
  const caKey = TestKey.generate('ecdsa');
  const caPem = selfSignedCertificate(caKey.privateKey, { cn: `${name} signing CA`, ca: true, days, ...(fromDays !== undefined && { notBefore: new Date(Date.now() + fromDays * DAY) }) });
  const issuer = { certPem: caPem, key: caKey.privateKey };
  const root = TestKey.generate('ecdsa-x509', { cn: GUN, issuer, extendedKeyUsage: '', ...(leafFromDays !== undefined && { notBefore: new Date(Date.now() + leafFromDays * DAY) }) });
  const keys = { ...standardKeys(GUN), root };
  server.files = buildRepository(standardSpec(GUN, keys, { '1.0': V1 })).files;
  return caPem;
}

async function notaryWithCa(caPem: string) {
  const caFile = path.join(dir, `ca-${Date.now()}-${Math.random().toString(16).slice(2)}.pem`);
  writeFileSync(caFile, caPem);
  return notaryList(url, tls.caCert, GUN, { trustPinning: { ca: { [GUN]: caFile } } });
}

function trustgateWithCa(caPem: string) {
  const client = new TrustClient({ requestTimeoutMs: 2000 });
  return client.loadRepository({ server: url, gun: GUN, pins: parsePins([caPem]), roles: { all: false, roles: [] }, caBundle: readFileSync(tls.caCert, 'utf8'), credentials: undefined, timeoutMs: 5000 });
}

it('a root certificate issued by a pinned CA valid now is trusted by notary and trustgate', async () => {
  const ca = repositoryUnderCa('current', undefined, 365);
  const notary = await notaryWithCa(ca);
  expect(notary.code).toBe(0);
  expect(notary.out).toContain(V1.slice(7));
  const repo = await trustgateWithCa(ca);
  expect(repo.roles.get('targets')?.doc.body.targets.get('1.0')?.sha256.toString('hex')).toBe(V1.slice(7));
});

describe.each<[string, number, number, RegExp, RegExp]>([
  ['expired yesterday', -30, 29, /invalid CA certs provided/, /pinned CA certificate CN=expired yesterday signing CA that issued it expired on/],
  ['valid from in ten days', 10, 365, /invalid CA certs provided/, /pinned CA certificate CN=valid from in ten days signing CA that issued it is not valid before/],
  // notary's check of the CA itself allows one day on notBefore, its chain verification none.
  ['valid from in twelve hours', 0.5, 365, /unable to match any certificates to trust_pinning config/, /that issued it is not valid before/],
])('a pinned CA %s', (name, fromDays, days, notaryReason, message) => {
  it('does not count: notary refuses the repository, trustgate answers ROOT_KEY_MISMATCH naming the CA', async () => {
    const ca = repositoryUnderCa(name, fromDays, days);
    const notary = await notaryWithCa(ca);
    expect(notary.code).not.toBe(0);
    expect(notary.out).toMatch(notaryReason);
    expect(notary.out).not.toContain(V1.slice(7));
    const refused = trustgateWithCa(ca);
    expect(await codeOf(refused)).toBe('ROOT_KEY_MISMATCH');
    await expect(refused).rejects.toThrow(message);
  });
});

it('a root certificate valid from in twelve hours, issued by a pinned CA valid now, is refused by both: the chain to a pinned CA has no leeway', async () => {
  // Without pins both allow it (notary's one day on a root certificate's notBefore,
  // test/security/root-certificate-clock-skew.test.ts); the chain to the pinned CA is verified at
  // the current time, the root certificate included (x509 Verify in caCheck).
  const ca = repositoryUnderCa('current', -1, 365, 0.5);
  const notary = await notaryWithCa(ca);
  expect(notary.code).not.toBe(0);
  expect(notary.out).toMatch(/unable to match any certificates to trust_pinning config/);
  const refused = trustgateWithCa(ca);
  expect(await codeOf(refused)).toBe('ROOT_KEY_MISMATCH');
  await expect(refused).rejects.toThrow(/the certificate issued by the pinned CA CN=current signing CA is not valid before .* \(a chain to a pinned CA has no leeway\)/);
  const tofu = await notaryList(url, tls.caCert, GUN);
  expect(tofu.code).toBe(0);
});
