// Signed-then-broken trust data served by a server of our own. For every fixture the real
// notary client is asked first: it must accept the unbroken repository and refuse each broken
// one. Then trustgate, over real HTTPS, must refuse it with the right code.
import { constants, createHash, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { canonicalize } from '@tufjs/canonical-json';
import { NO_PINS, TrustClient, DEFAULT_LIMITS } from '../../src/trust/index.js';
import { AttackServer } from '../support/attack-server.js';
import { TestKey } from '../support/keys.js';
import { run } from '../support/processes.js';
import { buildRepository, digestOf, standardKeys, standardSpec, type RepoSpec } from '../support/repo-builder.js';
import { fullSizeExponent, rsaKeyJson, rsaKeyPairWithExponent, rsaSpki } from '../support/rsa-spki.js';
import { makeTls, type TlsFiles } from '../support/tls.js';
import { codeOf } from '../support/verify-helpers.js';

const GUN = '127.0.0.1:5000/attack/app';
const V1 = digestOf('v1');
let tls: TlsFiles;
let server: AttackServer;
let url: string;
const keys = standardKeys(GUN);

beforeAll(async () => {
  tls = await makeTls(mkdtempSync(path.join(os.tmpdir(), 'trustgate-attack-')));
  server = new AttackServer(tls, GUN);
  url = await server.listen();
});

afterAll(async () => {
  await server?.close();
});

function serve(edit?: (s: RepoSpec) => void): void {
  const spec = standardSpec(GUN, keys, { '1.0': V1 });
  edit?.(spec);
  server.files = buildRepository(spec).files;
  server.faults.clear();
}

/** `notary list GUN` with a trust dir of its own (fresh unless given). */
async function notaryList(trustDir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-notary-'))): Promise<{ code: number; out: string; trustDir: string }> {
  const config = path.join(trustDir, 'config.json');
  writeFileSync(config, JSON.stringify({ trust_dir: trustDir, remote_server: { url, root_ca: tls.caCert } }));
  const r = await run('notary', ['-c', config, 'list', GUN], { timeoutMs: 20_000 });
  return { code: r.code, out: r.stdout + r.stderr, trustDir };
}

function load(client = new TrustClient({ requestTimeoutMs: 2000 })) {
  return client.loadRepository({ server: url, gun: GUN, pins: NO_PINS, roles: { all: false, roles: [] }, caBundle: readFileSync(tls.caCert, 'utf8'), credentials: undefined, timeoutMs: 5000 });
}

describe('the unbroken repository', () => {
  it('is accepted by the notary client and by trustgate', async () => {
    serve();
    const notary = await notaryList();
    expect(notary.code).toBe(0);
    expect(notary.out).toContain(V1.slice(7));
    const repo = await load();
    expect(repo.roles.get('targets')?.doc.body.targets.get('1.0')?.sha256.toString('hex')).toBe(V1.slice(7));
  });
});

const DAY = 86_400_000;
const stranger = TestKey.generate('ed25519');

describe.each<[string, string, (s: RepoSpec) => void]>([
  ['expired timestamp', 'EXPIRED', (s) => { s.timestamp.expires = Date.now() - DAY; }],
  ['expired targets', 'EXPIRED', (s) => { s.targets.expires = Date.now() - DAY; }],
  ['targets changed after signing', 'THRESHOLD_NOT_MET', (s) => {
    s.targets.tamper = (env) => { (env.signed.targets as Record<string, unknown>)['1.0'] = { hashes: { sha256: Buffer.alloc(32, 9).toString('base64') }, length: 1234 }; };
  }],
  ['timestamp signed by a key the root does not know', 'THRESHOLD_NOT_MET', (s) => { s.timestamp.signers = [stranger]; }],
  ['snapshot signature missing', 'THRESHOLD_NOT_MET', (s) => { s.snapshot.signers = []; }],
  ['wrong snapshot hash in the timestamp', 'HASH_MISMATCH', (s) => {
    s.timestamp.edit = (signed) => {
      ((signed.meta as Record<string, { hashes: Record<string, string> }>).snapshot!).hashes = { sha256: Buffer.alloc(32, 3).toString('base64') };
    };
  }],
  ['wrong targets hash in the snapshot', 'HASH_MISMATCH', (s) => {
    s.editSnapshotMeta = (meta) => { (meta.targets as { hashes: Record<string, string> }).hashes = { sha256: Buffer.alloc(32, 4).toString('base64') }; };
  }],
  ['a timestamp key of an unknown type', 'UNSUPPORTED_KEY', (s) => { s.timestamp.keys = [stranger.withKeyType('dsa')]; }],
  ['root certificate for another repository', 'INVALID_ROOT_CERTIFICATE', (s) => { s.root.keys = [TestKey.generate('ecdsa-x509', { cn: 'docker.io/library/other' })]; }],
])('%s', (_name, code, edit) => {
  it(`is refused by the notary client, and by trustgate with ${code}`, async () => {
    serve(edit);
    // Hash-named files: serve the real bytes also under a wrong declared hash, so only the
    // hash check (not a 404) can catch it.
    for (const [name, bytes] of [...server.files]) {
      if (/^(snapshot|targets)$/.test(name)) {
        server.files.set(`${name}.${Buffer.alloc(32, name === 'snapshot' ? 3 : 4).toString('hex')}`, bytes);
      }
    }
    const notary = await notaryList();
    expect(notary.code).not.toBe(0);
    expect(notary.out).not.toContain(V1.slice(7));
    expect(await codeOf(load())).toBe(code);
  });
});

describe('replayed older metadata', () => {
  it.each(['timestamp', 'snapshot', 'targets'] as const)('an older %s after a newer one is refused (ROLLBACK)', async (role) => {
    serve((s) => { s[role].version = 5; });
    const first = await notaryList();
    expect(first.code).toBe(0);
    const client = new TrustClient({ requestTimeoutMs: 2000 });
    await load(client);
    serve((s) => { s[role].version = 3; });
    const replay = await notaryList(first.trustDir);
    expect(replay.code).not.toBe(0);
    expect(await codeOf(load(client))).toBe('ROLLBACK');
  });
});

describe('hostile responses', () => {
  it('an endless timestamp is cut off (notary at 1 MiB; trustgate TOO_LARGE)', async () => {
    serve();
    server.faults.set('timestamp', 'endless');
    const notary = await notaryList();
    expect(notary.code).not.toBe(0);
    expect(await codeOf(load())).toBe('TOO_LARGE');
  });

  it('a root larger than the root limit is refused', async () => {
    serve();
    server.faults.set('root', 'endless');
    expect(await codeOf(load())).toBe('TOO_LARGE');
    expect(DEFAULT_LIMITS.rootBytes).toBeLessThan(1024 * 1024);
  });

  it('a stalled response ends in TIMEOUT, not a hang', async () => {
    serve();
    server.faults.set('snapshot', 'stall');
    const notary = await notaryList();
    expect(notary.code).not.toBe(0);
    expect(await codeOf(load())).toBe('TIMEOUT');
  });
});

/**
 * The timestamp role given only `spki`, signed by `privateKey` (PKCS#1 v1.5, as notary's
 * rsapkcs1v15) or, without it, with a junk signature.
 */
function timestampKeyOnly(spki: Buffer, privateKey?: KeyObject): (s: RepoSpec) => void {
  const json = rsaKeyJson(spki);
  const id = createHash('sha256').update(canonicalize(json)).digest('hex');
  return (s) => {
    s.root.edit = (signed) => {
      (signed.keys as Record<string, unknown>)[id] = json;
      (signed.roles as Record<string, { keyids: string[] }>).timestamp!.keyids = [id];
    };
    s.timestamp.tamper = (env) => {
      const message = Buffer.from(canonicalize(env.signed));
      const sig = privateKey ? sign('sha256', message, { key: privateKey, padding: constants.RSA_PKCS1_PADDING }) : randomBytes(2048);
      env.signatures = [{ keyid: id, method: 'rsapkcs1v15', sig: sig.toString('base64') }];
    };
  };
}

// The bounds on what one document may cost (src/trust/keys.ts, src/shared/json-shape.ts) leave a large
// real repository alone. The exponent bound is the notary client's own (Go's crypto/rsa): it
// refuses such a key even under a valid signature. Over 8192 bits is trustgate's own choice
// (Go's crypto/tls bound): there the notary client's refusal below is of the junk signature.
describe('work bounds', () => {
  it('a timestamp key built the same way with e = 65537 is accepted by the notary client and by trustgate (the control)', async () => {
    const { spki, privateKey } = rsaKeyPairWithExponent(2048, 65537n);
    serve(timestampKeyOnly(spki, privateKey));
    const notary = await notaryList();
    expect(notary.code).toBe(0);
    expect(notary.out).toContain(V1.slice(7));
    await expect(load()).resolves.toBeDefined();
  });

  it('a timestamp key with a 3071-bit public exponent, validly signed, is refused by the notary client, and by trustgate with UNSUPPORTED_KEY', async () => {
    const { spki, privateKey } = rsaKeyPairWithExponent(3072, BigInt(`0x${fullSizeExponent(384).toString('hex')}`));
    expect(verify('sha256', Buffer.from('x'), { key: createPublicKey({ key: spki, format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_PADDING }, sign('sha256', Buffer.from('x'), { key: privateKey, padding: constants.RSA_PKCS1_PADDING }))).toBe(true);
    serve(timestampKeyOnly(spki, privateKey));
    const notary = await notaryList();
    expect(notary.code).not.toBe(0);
    expect(notary.out).not.toContain(V1.slice(7));
    expect(await codeOf(load())).toBe('UNSUPPORTED_KEY');
  });

  it('a 16384-bit timestamp key is refused by trustgate with UNSUPPORTED_KEY', async () => {
    serve(timestampKeyOnly(rsaSpki(2048, 65537n)));
    expect((await notaryList()).code).not.toBe(0);
    expect(await codeOf(load())).toBe('UNSUPPORTED_KEY');
  });

  it('a targets file of 50,000 tags is accepted by the notary client and by trustgate', async () => {
    const tags = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`t${i}`, digestOf(`v${i}`)]));
    serve((s) => { s.targets.targets = tags; });
    const notary = await notaryList();
    expect(notary.code).toBe(0);
    expect(notary.out).toContain(digestOf('v49999').slice(7));
    const repo = await load();
    expect(repo.roles.get('targets')?.doc.body.targets.size).toBe(50_000);
  });
});
