// One negative vector per verification rule, each beside the valid repository it breaks.
// Repositories come from test/support/repo-builder.ts, whose output the real notary client
// accepts (test/integration/attacks.test.ts checks that).
import { DEFAULT_LIMITS, parsePins, TrustClient } from '../../../src/trust/index.js';
import { selfSignedCertificate, TestKey } from '../../support/keys.js';
import { RecordedFetcher } from '../../support/recorded-fetcher.js';
import { buildRepository, digestOf, standardKeys, standardSpec, type RepoSpec } from '../../support/repo-builder.js';
import { codeOf, verifyFiles } from '../../support/verify-helpers.js';

const GUN = 'registry.test/team/app';
const NOW = Date.now();
const DAY = 86_400_000;
const V1 = digestOf('v1');
const V2 = digestOf('v2');
const keys = standardKeys(GUN);
const releaseKey = TestKey.generate('ecdsa-x509', { cn: 'releaser' });

function spec(edit?: (s: RepoSpec) => void): RepoSpec {
  const s = standardSpec(GUN, keys, { '1.0': V1, latest: V1 }, NOW);
  edit?.(s);
  return s;
}
const files = (edit?: (s: RepoSpec) => void) => buildRepository(spec(edit)).files;

describe('a valid repository', () => {
  it('resolves a tag to the digest the targets role signed', async () => {
    const v = await verifyFiles(files(), `${GUN}:1.0`);
    expect(v).toMatchObject({ digest: V1, tag: '1.0', signedBy: ['targets'], reference: `${GUN}:1.0@${V1}`, trustOnFirstUse: true });
    expect(v.rootKeyId).toBe(keys.root.canonicalId);
  });

  it('treats no tag as latest', async () => {
    expect((await verifyFiles(files(), GUN)).reference).toBe(`${GUN}:latest@${V1}`);
  });

  it('caps the answer at the earliest metadata expiry (the timestamp, 14 days)', async () => {
    const v = await verifyFiles(files(), `${GUN}:1.0`);
    expect(v.expires).toBeLessThanOrEqual(NOW + 14 * DAY);
    expect(v.expires).toBeGreaterThan(NOW + 13 * DAY);
  });
});

describe('tag resolution as docker does it', () => {
  const withReleases = (releases: Record<string, string>, extra: Partial<RepoSpec> = {}) =>
    files((s) => {
      s.targets.targets = { '1.0': V1, 'targets-only': V1 };
      s.delegations = [{ name: 'targets/releases', keys: [releaseKey], targets: releases }, ...(extra.delegations ?? [])];
    });

  it('prefers targets/releases over targets', async () => {
    const v = await verifyFiles(withReleases({ '1.0': V2 }), `${GUN}:1.0`);
    expect(v).toMatchObject({ digest: V2, signedBy: ['targets/releases'] });
  });

  it('falls back to targets when releases lacks the tag', async () => {
    expect((await verifyFiles(withReleases({}), `${GUN}:targets-only`)).signedBy).toEqual(['targets']);
  });

  it('TAG_NOT_SIGNED: an unsigned tag', async () => {
    expect(await codeOf(verifyFiles(withReleases({}), `${GUN}:2.0`))).toBe('TAG_NOT_SIGNED');
  });

  it('TAG_NOT_SIGNED: a tag only another delegation signed is not docker-trusted', async () => {
    const alice = TestKey.generate('ecdsa');
    const f = withReleases({}, { delegations: [{ name: 'targets/alice', keys: [alice], targets: { 'alice-only': V2 } }] });
    expect(await codeOf(verifyFiles(f, `${GUN}:alice-only`))).toBe('TAG_NOT_SIGNED');
    const named = await verifyFiles(f, `${GUN}:alice-only`, { signers: [{ role: 'targets/alice', keys: undefined }] });
    expect(named).toMatchObject({ digest: V2, signedBy: ['targets/alice'] });
  });

  it('SIGNER_MISSING: a required signer that did not sign the tag, or signed another digest', async () => {
    const signers = [{ role: 'targets/releases', keys: undefined }];
    expect(await codeOf(verifyFiles(withReleases({}), `${GUN}:1.0`, { signers }))).toBe('SIGNER_MISSING');
    expect(await codeOf(verifyFiles(files(), `${GUN}:1.0`, { signers }))).toBe('SIGNER_MISSING');
    const alice = TestKey.generate('ecdsa');
    const f = withReleases({ '1.0': V1 }, { delegations: [{ name: 'targets/alice', keys: [alice], targets: { '1.0': V2 } }] });
    const both = [...signers, { role: 'targets/alice', keys: undefined }];
    expect(await codeOf(verifyFiles(f, `${GUN}:1.0`, { signers: both }))).toBe('SIGNER_MISSING');
  });

  it('SIGNER_KEY_MISMATCH: a signer pinned to keys that did not sign', async () => {
    const other = TestKey.generate('ecdsa');
    const f = withReleases({ '1.0': V1 });
    const pinned = (id: string) => [{ role: 'targets/releases', keys: { keyIds: new Set([id]), cas: [] } }];
    expect(await codeOf(verifyFiles(f, `${GUN}:1.0`, { signers: pinned(other.id) }))).toBe('SIGNER_KEY_MISMATCH');
    await expect(verifyFiles(f, `${GUN}:1.0`, { signers: pinned(releaseKey.canonicalId) })).resolves.toMatchObject({ digest: V1 });
    await expect(verifyFiles(f, `${GUN}:1.0`, { signers: pinned(releaseKey.id) })).resolves.toMatchObject({ digest: V1 });
  });

  it('SIGNER_KEY_MISMATCH: a signer pinned to a CA outside its validity window (as rootKeys CAs)', async () => {
    const caKey = TestKey.generate('ecdsa');
    const caPem = selfSignedCertificate(caKey.privateKey, { cn: 'Release CA', ca: true, notBefore: new Date(NOW - 10 * DAY), days: 10 + 1 / 24 }); // expires an hour from now
    const issued = TestKey.generate('ecdsa-x509', { cn: 'releaser', issuer: { certPem: caPem, key: caKey.privateKey } });
    const f = files((s) => {
      s.delegations = [{ name: 'targets/releases', keys: [issued], targets: { '1.0': V1 } }];
    });
    const signers = [{ role: 'targets/releases', keys: parsePins([caPem]) }];
    // The issued certificate starts when it was made (to the second), after NOW: under a CA pin
    // there is no leeway, so check from a moment after it was issued.
    const issuedAt = Date.now() + 1000;
    await expect(verifyFiles(f, `${GUN}:1.0`, { signers, now: issuedAt })).resolves.toMatchObject({ digest: V1 });
    const later = verifyFiles(f, `${GUN}:1.0`, { signers, now: NOW + 2 * 3_600_000 });
    expect(await codeOf(later)).toBe('SIGNER_KEY_MISMATCH');
    await expect(later).rejects.toThrow(/pinned CA certificate CN=Release CA that issued it expired on/);
  });

  it('delegation paths are prefixes, narrowed by the parent', async () => {
    const f = files((s) => {
      s.targets.targets = {};
      s.delegations = [
        { name: 'targets/releases', keys: [releaseKey], paths: ['v1'], targets: { 'v1.0': V1, '2.0': V2 } },
        { name: 'targets/releases/sub', keys: [releaseKey], paths: ['', 'v1.5'], targets: { 'v1.5': V2, '3.0': V2 } },
      ];
    });
    expect((await verifyFiles(f, `${GUN}:v1.0`)).digest).toBe(V1);
    expect(await codeOf(verifyFiles(f, `${GUN}:2.0`))).toBe('TAG_NOT_SIGNED');
    const sub = [{ role: 'targets/releases/sub', keys: undefined }];
    expect(await codeOf(verifyFiles(f, `${GUN}:3.0`, { signers: sub }))).toBe('SIGNER_MISSING');
    expect((await verifyFiles(f, `${GUN}:v1.5`, { signers: sub })).digest).toBe(V2);
  });
});

describe('digest rules', () => {
  it('name:tag@digest passes only with the signed digest', async () => {
    expect((await verifyFiles(files(), `${GUN}:1.0@${V1}`)).reference).toBe(`${GUN}:1.0@${V1}`);
    expect(await codeOf(verifyFiles(files(), `${GUN}:1.0@${V2}`))).toBe('DIGEST_NOT_SIGNED');
  });

  it('name@digest passes only when some tag is signed with it', async () => {
    const v = await verifyFiles(files(), `${GUN}@${V1}`);
    expect(v).toMatchObject({ reference: `${GUN}@${V1}`, tag: undefined, signedTags: ['1.0', 'latest'] });
    expect(await codeOf(verifyFiles(files(), `${GUN}@${V2}`))).toBe('DIGEST_NOT_SIGNED');
  });

  it('allowUnsignedDigests admits name@digest without trust data, as docker does', async () => {
    const v = await verifyFiles(new Map(), `${GUN}@${V2}`, { allowUnsignedDigests: true });
    expect(v).toMatchObject({ unchecked: true, digest: V2 });
    expect(await codeOf(verifyFiles(new Map(), `${GUN}:1.0@${V2}`, { allowUnsignedDigests: true }))).toBe('NO_TRUST_DATA');
  });
});

describe('refusals, one per rule', () => {
  it('NO_TRUST_DATA: nothing on the server', async () => {
    expect(await codeOf(verifyFiles(new Map(), `${GUN}:1.0`))).toBe('NO_TRUST_DATA');
  });

  it.each(['timestamp', 'snapshot', 'targets', 'root'] as const)('EXPIRED: %s', async (role) => {
    const f = files((s) => {
      s[role].expires = NOW - 1000;
    });
    expect(await codeOf(verifyFiles(f, `${GUN}:1.0`))).toBe('EXPIRED');
  });

  it('EXPIRED: a needed delegation', async () => {
    const f = files((s) => {
      s.delegations = [{ name: 'targets/releases', keys: [releaseKey], targets: { '1.0': V1 }, expires: NOW - 1000 }];
    });
    expect(await codeOf(verifyFiles(f, `${GUN}:1.0`))).toBe('EXPIRED');
  });

  it('THRESHOLD_NOT_MET: signed by a key the root does not list for the role', async () => {
    const stranger = TestKey.generate('ed25519');
    expect(await codeOf(verifyFiles(files((s) => { s.timestamp.signers = [stranger]; }), `${GUN}:1.0`))).toBe('THRESHOLD_NOT_MET');
    expect(await codeOf(verifyFiles(files((s) => { s.snapshot.signers = []; }), `${GUN}:1.0`))).toBe('THRESHOLD_NOT_MET');
  });

  it('THRESHOLD_NOT_MET: one key signing twice counts once', async () => {
    const second = TestKey.generate('ecdsa');
    const f = files((s) => {
      s.targets.keys = [keys.targets, second];
      s.targets.threshold = 2;
      s.targets.signers = [keys.targets, keys.targets];
    });
    expect(await codeOf(verifyFiles(f, `${GUN}:1.0`))).toBe('THRESHOLD_NOT_MET');
    const ok = files((s) => {
      s.targets.keys = [keys.targets, second];
      s.targets.threshold = 2;
    });
    expect((await verifyFiles(ok, `${GUN}:1.0`)).digest).toBe(V1);
  });

  it('THRESHOLD_NOT_MET: a certificate and the bare key inside it are one key', async () => {
    const cert = TestKey.generate('ecdsa-x509', { cn: 'signer' });
    const twin = cert.bareTwin();
    expect(twin.id).not.toBe(cert.id);
    expect(twin.id).toBe(cert.canonicalId);
    const f = files((s) => {
      s.targets.keys = [cert, twin];
      s.targets.threshold = 2;
    });
    expect(await codeOf(verifyFiles(f, `${GUN}:1.0`))).toBe('THRESHOLD_NOT_MET');
  });

  it('THRESHOLD_NOT_MET: a signature under another method than the key allows', async () => {
    const f = files((s) => {
      // The snapshot is built over the tampered bytes, so only the signature check can object.
      s.targets.tamper = (env) => {
        (env.signatures[0] as { method: string }).method = 'eddsa';
      };
    });
    expect(await codeOf(verifyFiles(f, `${GUN}:1.0`))).toBe('THRESHOLD_NOT_MET');
  });

  it('THRESHOLD_NOT_MET: content changed after signing (snapshot re-pointed to the tampered file)', async () => {
    // Tamper targets, then build snapshot/timestamp over the tampered bytes: only the signature can tell.
    const s = spec((x) => {
      x.targets.tamper = (env) => {
        (env.signed.targets as Record<string, unknown>)['1.0'] = { hashes: { sha256: Buffer.from(V2.slice(7), 'hex').toString('base64') }, length: 1 };
      };
    });
    expect(await codeOf(verifyFiles(buildRepository(s).files, `${GUN}:1.0`))).toBe('THRESHOLD_NOT_MET');
  });

  it('HASH_MISMATCH: snapshot bytes differ from what the timestamp declares', async () => {
    const f = new Map(files());
    const ts = JSON.parse(f.get('timestamp')!.toString());
    const snapName = [...f.keys()].find((k) => k.startsWith('snapshot.'))!;
    const same = Buffer.from(f.get(snapName)!.toString().replace('"version":1', '"version":2'));
    expect(same.length).toBe(ts.signed.meta.snapshot.length);
    // The server serves the same bytes by name (asked for ahead of the timestamp) and by hash.
    f.set(snapName, same);
    f.set('snapshot', same);
    expect(await codeOf(verifyFiles(f, `${GUN}:1.0`))).toBe('HASH_MISMATCH');
  });

  it('TOO_LARGE: a role longer than its parent declares is not read past that length', async () => {
    const f = new Map(files());
    const snapName = [...f.keys()].find((k) => k.startsWith('snapshot.'))!;
    const longer = Buffer.concat([f.get(snapName)!, Buffer.from('   ')]);
    f.set(snapName, longer);
    f.set('snapshot', longer);
    expect(await codeOf(verifyFiles(f, `${GUN}:1.0`))).toBe('TOO_LARGE');
  });

  it('HASH_MISMATCH: targets bytes differ from what the snapshot declares', async () => {
    const f = files((s) => {
      s.editSnapshotMeta = (meta) => {
        (meta.targets as { hashes: { sha256: string } }).hashes.sha256 = Buffer.alloc(32, 7).toString('base64');
      };
    });
    // The file is fetched by the declared checksum; serve the real bytes under that name.
    const m = new Map(f);
    const real = [...f.entries()].find(([k]) => /^targets\.[0-9a-f]{64}$/.test(k))![1];
    m.set(`targets.${Buffer.alloc(32, 7).toString('hex')}`, real);
    expect(await codeOf(verifyFiles(m, `${GUN}:1.0`))).toBe('HASH_MISMATCH');
  });

  it('HASH_MISMATCH: the root in use is not the one the snapshot lists', async () => {
    const f = files((s) => {
      s.editSnapshotMeta = (meta) => {
        (meta.root as { hashes: { sha256: string } }).hashes.sha256 = Buffer.alloc(32, 1).toString('base64');
      };
    });
    expect(await codeOf(verifyFiles(f, `${GUN}:1.0`))).toBe('HASH_MISMATCH');
  });

  it.each(['timestamp', 'snapshot', 'targets'] as const)('ROLLBACK: an older %s than one already trusted', async (role) => {
    const fetcher = new RecordedFetcher(files((s) => { s[role].version = 5; }));
    const client = new TrustClient();
    await verifyFiles(new Map(), `${GUN}:1.0`, { client, fetcher });
    fetcher.serve(files((s) => { s[role].version = 3; }));
    expect(await codeOf(verifyFiles(new Map(), `${GUN}:1.0`, { client, fetcher }))).toBe('ROLLBACK');
  });

  it('INVALID_METADATA: a key listed under an ID that is not its own', async () => {
    const f = files((s) => {
      s.root.edit = (signed) => {
        const k = signed.keys as Record<string, unknown>;
        k['0'.repeat(64)] = k[keys.timestamp.id];
      };
    });
    expect(await codeOf(verifyFiles(f, `${GUN}:1.0`))).toBe('INVALID_METADATA');
  });

  it('UNSUPPORTED_KEY: a role held by a key type notary does not have', async () => {
    const odd = TestKey.generate('ed25519').withKeyType('dsa');
    const f = files((s) => { s.timestamp.keys = [odd]; });
    expect(await codeOf(verifyFiles(f, `${GUN}:1.0`))).toBe('UNSUPPORTED_KEY');
  });

  it.each([
    ['not JSON', (b: Buffer) => Buffer.from(`${b.toString()}garbage`)],
    ['wrong _type', (b: Buffer) => Buffer.from(b.toString().replace('"Timestamp"', '"Snapshot"'))],
    ['bad expires', (b: Buffer) => Buffer.from(b.toString().replace(/"expires":"[^"]+"/, '"expires":"tomorrow"'))],
    ['deep nesting', () => Buffer.from(`${'['.repeat(5000)}${']'.repeat(5000)}`)],
    ['a float version', (b: Buffer) => Buffer.from(b.toString().replace(/"version":1/, '"version":1.5'))],
  ])('INVALID_METADATA: timestamp with %s', async (_name, bytes) => {
    const f = files((s) => { s.timestamp.bytes = bytes; });
    expect(await codeOf(verifyFiles(f, `${GUN}:1.0`))).toBe('INVALID_METADATA');
  });

  it('DELEGATION_LIMIT: delegations nested deeper than the limit', async () => {
    const names = ['targets/a', 'targets/a/b', 'targets/a/b/c', 'targets/a/b/c/d', 'targets/a/b/c/d/e'];
    const f = files((s) => {
      s.delegations = names.map((name) => ({ name, keys: [releaseKey], targets: { '1.0': V1 } }));
    });
    const signers = [{ role: 'targets/a/b/c/d/e', keys: undefined }];
    expect(await codeOf(verifyFiles(f, `${GUN}:1.0`, { signers }))).toBe('DELEGATION_LIMIT');
    expect((await verifyFiles(f, `${GUN}:1.0`, { signers: [{ role: 'targets/a/b/c/d', keys: undefined }] })).digest).toBe(V1);
  });

  it('TOO_LARGE: a role declared larger than the limit', async () => {
    const client = new TrustClient({ limits: { ...DEFAULT_LIMITS, roleBytes: 100 } });
    expect(await codeOf(verifyFiles(files(), `${GUN}:1.0`, { client }))).toBe('TOO_LARGE');
  });
});
