// Root trust: certificate checks, pinning (cert ID, canonical ID, PEM key, PEM cert, CA),
// trust on first use, and the rotation walk through <n>.root.json.
import { parsePins, TrustClient } from '../../../src/trust/index.js';
import { selfSignedCertificate, TestKey } from '../../support/keys.js';
import { RecordedFetcher } from '../../support/recorded-fetcher.js';
import { buildRepository, digestOf, standardKeys, standardSpec, type RepoSpec } from '../../support/repo-builder.js';
import { codeOf, verifyFiles } from '../../support/verify-helpers.js';

const GUN = 'registry.test/team/app';
const NOW = Date.now();
const DAY = 86_400_000;
const V1 = digestOf('v1');
const keys = standardKeys(GUN);
const files = (edit?: (s: RepoSpec) => void) => {
  const s = standardSpec(GUN, keys, { '1.0': V1 }, NOW);
  edit?.(s);
  return buildRepository(s).files;
};

describe('root certificate checks', () => {
  it('INVALID_ROOT_CERTIFICATE: CN is not the GUN', async () => {
    const wrong = TestKey.generate('ecdsa-x509', { cn: 'registry.test/team/other' });
    expect(await codeOf(verifyFiles(files((s) => { s.root.keys = [wrong]; }), `${GUN}:1.0`))).toBe('INVALID_ROOT_CERTIFICATE');
  });

  it('INVALID_ROOT_CERTIFICATE: a CA certificate is not a root key', async () => {
    const ca = TestKey.generate('ecdsa-x509', { cn: GUN, ca: true });
    expect(await codeOf(verifyFiles(files((s) => { s.root.keys = [ca]; }), `${GUN}:1.0`))).toBe('INVALID_ROOT_CERTIFICATE');
  });

  it('INVALID_ROOT_CERTIFICATE: the root key must be a certificate', async () => {
    const bare = TestKey.generate('ecdsa');
    expect(await codeOf(verifyFiles(files((s) => { s.root.keys = [bare]; }), `${GUN}:1.0`))).toBe('INVALID_ROOT_CERTIFICATE');
  });

  it('INVALID_ROOT_CERTIFICATE: an expired certificate (clock moved past it, metadata still valid)', async () => {
    const shortLived = TestKey.generate('ecdsa-x509', { cn: GUN, days: 2 });
    const f = files((s) => {
      s.root.keys = [shortLived];
      s.timestamp.expires = NOW + 30 * DAY;
    });
    // openssl stamps notBefore when it makes the certificate, so "now" must come after that.
    const issued = Date.now() + 1000;
    await expect(verifyFiles(f, `${GUN}:1.0`, { now: issued })).resolves.toMatchObject({ digest: V1 });
    expect(await codeOf(verifyFiles(f, `${GUN}:1.0`, { now: issued + 5 * DAY }))).toBe('INVALID_ROOT_CERTIFICATE');
  });

  it('THRESHOLD_NOT_MET: root threshold 2 with one signature', async () => {
    const second = TestKey.generate('ecdsa-x509', { cn: GUN });
    const f = files((s) => {
      s.root.keys = [keys.root, second];
      s.root.threshold = 2;
      s.root.signers = [keys.root];
    });
    expect(await codeOf(verifyFiles(f, `${GUN}:1.0`))).toBe('THRESHOLD_NOT_MET');
  });
});

describe('root pinning', () => {
  const verifyPinned = (pins: string[]) => verifyFiles(files(), `${GUN}:1.0`, { pins: parsePins(pins) });

  it('accepts the cert ID, the canonical ID, the PEM public key and the PEM certificate', async () => {
    const pem = keys.root.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    for (const pin of [keys.root.id, keys.root.canonicalId, pem, keys.root.certificatePem]) {
      const v = await verifyPinned([pin]);
      expect(v).toMatchObject({ digest: V1, trustOnFirstUse: false });
    }
  });

  it('accepts a root certificate issued by a pinned CA', async () => {
    const caKey = TestKey.generate('ecdsa');
    const caPem = selfSignedCertificate(caKey.privateKey, { cn: 'Acme signing CA', ca: true });
    const issued = TestKey.generate('ecdsa-x509', { cn: GUN, issuer: { certPem: caPem, key: caKey.privateKey } });
    const f = files((s) => { s.root.keys = [issued]; });
    await expect(verifyFiles(f, `${GUN}:1.0`, { pins: parsePins([caPem]) })).resolves.toMatchObject({ trustOnFirstUse: false });
    const otherCa = selfSignedCertificate(TestKey.generate('ecdsa').privateKey, { cn: 'Other CA', ca: true });
    expect(await codeOf(verifyFiles(f, `${GUN}:1.0`, { pins: parsePins([otherCa]) }))).toBe('ROOT_KEY_MISMATCH');
  });

  it('ROOT_KEY_MISMATCH: a process that trusted a root under a pinned CA refuses it once that CA has expired, as a fresh one does', async () => {
    const caKey = TestKey.generate('ecdsa');
    // Valid for another hour.
    const caPem = selfSignedCertificate(caKey.privateKey, { cn: 'Short CA', ca: true, notBefore: new Date(NOW - 10 * DAY), days: 10 + 1 / 24 });
    const issued = TestKey.generate('ecdsa-x509', { cn: GUN, issuer: { certPem: caPem, key: caKey.privateKey } });
    const f = files((s) => { s.root.keys = [issued]; });
    let clock = Date.now(); // the root certificate was issued just now
    const client = new TrustClient({ now: () => clock });
    const pins = parsePins([caPem]);
    await expect(verifyFiles(f, `${GUN}:1.0`, { pins, client })).resolves.toMatchObject({ digest: V1 });
    clock += 2 * 3_600_000;
    const warm = verifyFiles(f, `${GUN}:1.0`, { pins, client });
    expect(await codeOf(warm)).toBe('ROOT_KEY_MISMATCH');
    await expect(warm).rejects.toThrow(/the pinned CA certificate CN=Short CA that issued it expired on/);
    expect(await codeOf(verifyFiles(f, `${GUN}:1.0`, { pins, now: clock }))).toBe('ROOT_KEY_MISMATCH');
  });

  it('a process that trusted a root under a pinned CA that has expired since follows the rotation to a root under another pinned CA', async () => {
    const oldCaKey = TestKey.generate('ecdsa');
    const newCaKey = TestKey.generate('ecdsa');
    const oldCa = selfSignedCertificate(oldCaKey.privateKey, { cn: 'Old CA', ca: true, notBefore: new Date(NOW - 10 * DAY), days: 10 + 1 / 24 });
    const newCa = selfSignedCertificate(newCaKey.privateKey, { cn: 'New CA', ca: true });
    const v1Key = TestKey.generate('ecdsa-x509', { cn: GUN, issuer: { certPem: oldCa, key: oldCaKey.privateKey } });
    const v2Key = TestKey.generate('ecdsa-x509', { cn: GUN, issuer: { certPem: newCa, key: newCaKey.privateKey } });
    const v1 = files((s) => { s.root.keys = [v1Key]; });
    let clock = Date.now();
    const client = new TrustClient({ now: () => clock });
    const fetcher = new RecordedFetcher(v1);
    const pins = parsePins([oldCa, newCa]);
    await expect(verifyFiles(new Map(), `${GUN}:1.0`, { pins, client, fetcher })).resolves.toMatchObject({ rootKeyId: v1Key.canonicalId });
    clock += 2 * 3_600_000;
    const v2spec = standardSpec(GUN, keys, { '1.0': V1 }, NOW);
    v2spec.root = { keys: [v2Key], signers: [v1Key, v2Key], version: 2 };
    fetcher.serve(buildRepository(v2spec).files);
    await expect(verifyFiles(new Map(), `${GUN}:1.0`, { pins, client, fetcher })).resolves.toMatchObject({ rootKeyId: v2Key.canonicalId });
  });

  it('ROOT_KEY_MISMATCH: a root held by another key than the pinned one', async () => {
    const other = TestKey.generate('ecdsa-x509', { cn: GUN });
    expect(await codeOf(verifyPinned([other.canonicalId]))).toBe('ROOT_KEY_MISMATCH');
    expect(await codeOf(verifyPinned([other.certificatePem]))).toBe('ROOT_KEY_MISMATCH');
  });

  it('INVALID_OPTION: a pin that is neither an ID nor PEM', () => {
    expect(() => parsePins(['not-a-key'])).toThrow(/root key pin \[0\]/);
  });
});

describe('root rotation', () => {
  const newRootKey = TestKey.generate('ecdsa-x509', { cn: GUN });
  const thirdRootKey = TestKey.generate('ecdsa-x509', { cn: GUN });

  /** A repository whose root moved v1 → v2 (signed by old and new keys) → v3 (new keys only). */
  function rotated(signV2With: TestKey[]): Map<string, Buffer> {
    const v1 = files();
    const v2 = buildRepository({ ...standardSpec(GUN, keys, { '1.0': V1 }, NOW), root: { keys: [newRootKey], signers: signV2With, version: 2 } }).files;
    const v3spec = standardSpec(GUN, keys, { '1.0': digestOf('v3') }, NOW);
    v3spec.root = { keys: [thirdRootKey], signers: [newRootKey, thirdRootKey], version: 3 };
    v3spec.rootHistory = new Map([[1, v1.get('root')!], [2, v2.get('root')!]]);
    return buildRepository(v3spec).files;
  }

  it('walks <n>.root.json from the trusted root to the newest, each signed by its predecessor', async () => {
    const client = new TrustClient();
    const fetcher = new RecordedFetcher(files());
    await verifyFiles(new Map(), `${GUN}:1.0`, { client, fetcher });
    fetcher.serve(rotated([keys.root, newRootKey]));
    fetcher.requests.length = 0;
    const v = await verifyFiles(new Map(), `${GUN}:1.0`, { client, fetcher });
    expect(v).toMatchObject({ digest: digestOf('v3'), rootKeyId: thirdRootKey.canonicalId });
    expect(fetcher.requests).toEqual(expect.arrayContaining(['root', '2.root']));
  });

  it('ROOT_KEY_MISMATCH: a new root the old root keys did not sign', async () => {
    const client = new TrustClient();
    const fetcher = new RecordedFetcher(files());
    await verifyFiles(new Map(), `${GUN}:1.0`, { client, fetcher });
    fetcher.serve(rotated([newRootKey]));
    expect(await codeOf(verifyFiles(new Map(), `${GUN}:1.0`, { client, fetcher }))).toBe('ROOT_KEY_MISMATCH');
  });

  it('ROLLBACK: a root older than the one trusted', async () => {
    const client = new TrustClient();
    const fetcher = new RecordedFetcher(rotated([keys.root, newRootKey]));
    await verifyFiles(new Map(), `${GUN}:1.0`, { client, fetcher });
    // The server replays the v1 repository: its snapshot lists root v1, so the client fetches
    // the root again and finds version 1 below the version 3 it trusts.
    fetcher.serve(files());
    expect(await codeOf(verifyFiles(new Map(), `${GUN}:1.0`, { client, fetcher }))).toBe('ROLLBACK');
  });
});

describe('every key type and signature method notary uses', () => {
  it.each([
    ['ecdsa', 'ecdsa'],
    ['ecdsa-x509', 'ecdsa'],
    ['rsa', 'rsapss'],
    ['rsa', 'rsapkcs1v15'],
    ['rsa-x509', 'rsapss'],
    ['ed25519', 'eddsa'],
  ] as const)('%s key with %s signatures', async (kind, method) => {
    const signer = TestKey.generate(kind, { cn: 'signer' }).withMethod(method);
    const f = files((s) => {
      s.targets.targets = {};
      s.delegations = [{ name: 'targets/releases', keys: [signer], targets: { '1.0': V1 } }];
    });
    await expect(verifyFiles(f, `${GUN}:1.0`)).resolves.toMatchObject({ signedBy: ['targets/releases'] });
  });

  it('an rsa-x509 root', async () => {
    const rsaRoot = TestKey.generate('rsa-x509', { cn: GUN });
    await expect(verifyFiles(files((s) => { s.root.keys = [rsaRoot]; }), `${GUN}:1.0`)).resolves.toMatchObject({ rootKeyId: rsaRoot.canonicalId });
  });
});
