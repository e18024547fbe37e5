// Issue 9 item 12: a pinned repository's root rotates to keys nobody pinned, validly signed by
// the old root. notary's trustpinning.ValidateRoot checks every root it loads against the trust
// pinning "regardless of having a previous root" (trustpinning/certs.go), intermediate roots
// included (tuf/builder.go loadRoot). Its client applies the pins to a rotation only when its
// on-disk root has expired, though: while that cached root is valid, the cache itself is the pin
// (client/tufclient.go bootstrapClient). trustgate remembers roots only in memory, so it checks
// every new root against the pins: a warm process answers as a freshly started one would.
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NO_PINS, parsePins, TrustClient, type RootPins } from '../../src/trust/index.js';
import { AttackServer } from '../support/attack-server.js';
import { TestKey } from '../support/keys.js';
import { notaryList } from '../support/notary-list.js';
import { buildRepository, digestOf, standardKeys, standardSpec, type RepoSpec } from '../support/repo-builder.js';
import { makeTls, type TlsFiles } from '../support/tls.js';
import { codeOf } from '../support/verify-helpers.js';

const GUN = '127.0.0.1:5000/rotation/app';
const V1 = digestOf('v1');
const V2 = digestOf('v2');
const keys = standardKeys(GUN);
const pinnedRoot = keys.root;
const unpinnedRoot = TestKey.generate('ecdsa-x509', { cn: GUN });
let tls: TlsFiles;
let server: AttackServer;
let url: string;

beforeAll(async () => {
  tls = await makeTls(mkdtempSync(path.join(os.tmpdir(), 'trustgate-rotation-')));
  server = new AttackServer(tls, GUN);
  url = await server.listen();
});

afterAll(async () => {
  await server?.close();
});

const SECOND = 1000;

function original(rootExpires?: number): Map<string, Buffer> {
  const spec = standardSpec(GUN, keys, { '1.0': V1 });
  if (rootExpires !== undefined) spec.root.expires = rootExpires;
  return buildRepository(spec).files;
}

/**
 * The root moved from `first` through `chain` (one root key per version after 1, each version
 * signed by its own key and its predecessor's), with a new timestamp key so that both clients
 * must take the new root to read anything.
 */
function rotatedThrough(first: Map<string, Buffer>, chain: TestKey[]): Map<string, Buffer> {
  const history = new Map<number, Buffer>([[1, first.get('root')!]]);
  const timestamp = TestKey.generate('ed25519');
  let previous = pinnedRoot;
  let files = first;
  chain.forEach((key, i) => {
    const spec: RepoSpec = { ...standardSpec(GUN, { ...keys, timestamp }, { '1.0': V2 }), root: { keys: [key], signers: [previous, key], version: i + 2 } };
    spec.rootHistory = new Map(history);
    files = buildRepository(spec).files;
    history.set(i + 2, files.get('root')!);
    previous = key;
  });
  return files;
}

function load(client: TrustClient, pins: RootPins) {
  return client.loadRepository({ server: url, gun: GUN, pins, roles: { all: false, roles: [] }, caBundle: readFileSync(tls.caCert, 'utf8'), credentials: undefined, timeoutMs: 5000 });
}

const signedDigest = (repo: Awaited<ReturnType<typeof load>>) => repo.roles.get('targets')?.doc.body.targets.get('1.0')?.sha256.toString('hex');
const trustPinning = { certs: { [GUN]: [pinnedRoot.id] } };
const pins = parsePins([pinnedRoot.id]);

describe.each<[string, TestKey[], 'refused' | 'followed']>([
  ['v1 → v2 held by an unpinned key', [unpinnedRoot], 'refused'],
  // v3 is signed by the v1 key, so notary takes it directly; the root trusted in the end is
  // pinned, as a freshly started process would find it.
  ['v1 → v2 held by an unpinned key → v3 held by the pinned key again', [unpinnedRoot, pinnedRoot], 'followed'],
])('a rotation %s', (_name, chain, withPins) => {
  it('is followed when nothing is pinned (notary and trustgate): the rotation itself is valid', async () => {
    const v1 = (server.files = original());
    const first = await notaryList(url, tls.caCert, GUN);
    expect(first.code).toBe(0);
    const client = new TrustClient({ requestTimeoutMs: 2000 });
    await load(client, NO_PINS);
    server.files = rotatedThrough(v1, chain);
    const after = await notaryList(url, tls.caCert, GUN, { trustDir: first.trustDir });
    expect(after.out).toContain(V2.slice(7));
    expect(after.code).toBe(0);
    expect(signedDigest(await load(client, NO_PINS))).toBe(V2.slice(7));
  });

  it(`is ${withPins} with the old root key pinned, by notary (pins applied to the rotation) and by trustgate`, async () => {
    // The first root expires in a few seconds, so that notary validates the rotation with its
    // trust_pinning instead of with its cache.
    const rootExpires = Date.now() + 8 * SECOND;
    const v1 = (server.files = original(rootExpires));
    const first = await notaryList(url, tls.caCert, GUN, { trustPinning });
    expect(first.code).toBe(0);
    const client = new TrustClient({ requestTimeoutMs: 2000 });
    expect(signedDigest(await load(client, pins))).toBe(V1.slice(7));
    await new Promise((resolve) => setTimeout(resolve, rootExpires - Date.now() + SECOND));

    server.files = rotatedThrough(v1, chain);
    const after = await notaryList(url, tls.caCert, GUN, { trustDir: first.trustDir, trustPinning });
    if (withPins === 'refused') {
      expect(after.out).not.toContain(V2.slice(7));
      expect(after.code).not.toBe(0);
      expect(await codeOf(load(client, pins))).toBe('ROOT_KEY_MISMATCH');
    } else {
      expect(after.out).toContain(V2.slice(7));
      expect(signedDigest(await load(client, pins))).toBe(V2.slice(7));
    }
  });
});

it('a process that trusted the pinned root refuses the rotation to an unpinned key, as a freshly started one does', async () => {
  const v1 = (server.files = original());
  const first = await notaryList(url, tls.caCert, GUN, { trustPinning });
  expect(first.code).toBe(0);
  const client = new TrustClient({ requestTimeoutMs: 2000 });
  expect(signedDigest(await load(client, pins))).toBe(V1.slice(7));

  server.files = rotatedThrough(v1, [unpinnedRoot]);
  // What trustgate deliberately does not copy: notary's client, whose cached root is still
  // valid, takes that cache as the pin and follows the rotation.
  const cachedNotary = await notaryList(url, tls.caCert, GUN, { trustDir: first.trustDir, trustPinning });
  expect(cachedNotary.out).toContain(V2.slice(7));
  // With nothing cached, notary refuses it, and trustgate answers the same warm or cold.
  const freshNotary = await notaryList(url, tls.caCert, GUN, { trustPinning });
  expect(freshNotary.code).not.toBe(0);
  expect(await codeOf(load(new TrustClient({ requestTimeoutMs: 2000 }), pins))).toBe('ROOT_KEY_MISMATCH');
  expect(await codeOf(load(client, pins))).toBe('ROOT_KEY_MISMATCH');
});
