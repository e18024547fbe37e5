// `trustgate verify` and `inspect` end to end against Debian's notary-server and docker-registry,
// with images pushed by skopeo and signed by the notary CLI as `docker trust sign` would.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { trustgate } from '../support/cli.js';
import { runOk } from '../support/processes.js';
import { TrustStack, type PushedImage } from '../support/stack.js';

let stack: TrustStack;
let gun: string;
let signed: PushedImage;
let trust: string[];

beforeAll(async () => {
  stack = await TrustStack.start();
  gun = `${stack.registry}/team/app`;
  trust = ['--trust-server', stack.notaryUrl, '--ca-file', stack.tls.caCert];
  signed = await stack.pushImage('team/app', '1.0', 'first build');
  await stack.init(gun);
  await stack.sign(gun, '1.0', signed);
});

afterAll(async () => {
  await stack?.stop();
});

/** The digest the registry currently serves for a tag. */
async function registryDigest(repository: string, tag: string): Promise<string> {
  const out = await runOk('skopeo', ['--insecure-policy', 'inspect', '--tls-verify=false', `docker://${stack.registry}/${repository}:${tag}`]);
  return (JSON.parse(out) as { Digest: string }).Digest;
}

describe('trustgate verify against a real notary-server', () => {
  it('prints the reference pinned to the signed digest first, and exits 0', async () => {
    const r = await trustgate(['verify', `${gun}:1.0`, ...trust]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(`${gun}:1.0@${signed.digest}`);
    expect(r.stdout).toMatch(/trust: +on first use — no root key is pinned/);
  });

  it('agrees with the notary client, the reference verifier', async () => {
    const listed = await stack.notaryOk(['list', gun]);
    expect(listed).toContain(signed.digest.slice(7));
    const r = await trustgate(['verify', `${gun}:1.0`, ...trust, '--output', 'json']);
    const json = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(json).toMatchObject({
      verified: true,
      image: gun,
      reference: `${gun}:1.0@${signed.digest}`,
      digest: signed.digest,
      tag: '1.0',
      signedBy: ['targets'],
      trustOnFirstUse: true,
    });
    expect(json.rootKeyId).toMatch(/^[0-9a-f]{64}$/);
    expect(await stack.notaryOk(['key', 'list'])).toContain(String(json.rootKeyId));
  });

  it('keeps returning the signed digest after an unsigned manifest is pushed over the tag', async () => {
    const pushedOver = await stack.pushImage('team/app', '1.0', 'unsigned rebuild');
    expect(await registryDigest('team/app', '1.0')).toBe(pushedOver.digest);
    expect(pushedOver.digest).not.toBe(signed.digest);
    const r = await trustgate(['verify', `${gun}:1.0`, ...trust]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(`${gun}:1.0@${signed.digest}`);
    const pinnedToUnsigned = await trustgate(['verify', `${gun}:1.0@${pushedOver.digest}`, ...trust]);
    expect(pinnedToUnsigned.code).toBe(1);
    expect(pinnedToUnsigned.stderr).toMatch(/DIGEST_NOT_SIGNED/);
  });

  it('refuses an unsigned tag of a signed repository (exit 1, code and reason on stderr)', async () => {
    await stack.pushImage('team/app', 'unsigned', 'never signed');
    const r = await trustgate(['verify', `${gun}:unsigned`, ...trust]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/TAG_NOT_SIGNED: tag "unsigned" of .*team\/app is not signed/);
    expect(r.stdout).toBe('');
  });

  it('refuses a repository with no trust data, with a JSON verdict in JSON mode', async () => {
    await stack.pushImage('team/plain', 'latest', 'plain image');
    const r = await trustgate(['verify', `${stack.registry}/team/plain`, ...trust, '--output', 'json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ verified: false, code: 'NO_TRUST_DATA' });
    expect(r.stderr).toMatch(/no trust data available/);
  });

  it('admits name@digest only when the digest is signed, unless --allow-unsigned-digests', async () => {
    expect((await trustgate(['verify', `${gun}@${signed.digest}`, ...trust])).code).toBe(0);
    const other = await stack.pushImage('team/app', 'other', 'other build');
    expect((await trustgate(['verify', `${gun}@${other.digest}`, ...trust])).stderr).toMatch(/DIGEST_NOT_SIGNED/);
    const lax = await trustgate(['verify', `${gun}@${other.digest}`, ...trust, '--allow-unsigned-digests']);
    expect(lax.code).toBe(0);
    expect(lax.stdout).toMatch(/without trust data/);
  });

  it('requires a targets/releases signer when asked, like docker trust signer add', async () => {
    await stack.addSigner(gun, 'targets/releases', 'releaser');
    const release = await stack.pushImage('team/app', '1.1', 'release build');
    await stack.sign(gun, '1.1', release, ['targets/releases']);

    const ok = await trustgate(['verify', `${gun}:1.1`, ...trust, '--signer', 'targets/releases', '--output', 'json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ digest: release.digest, signedBy: ['targets/releases'] });
    const repoKeyOnly = await trustgate(['verify', `${gun}:1.0`, ...trust, '--signer', 'targets/releases']);
    expect(repoKeyOnly.code).toBe(1);
    expect(repoKeyOnly.stderr).toMatch(/SIGNER_MISSING: tag "1.0" .* is not signed by targets\/releases/);

    const inspect = await trustgate(['inspect', gun, ...trust, '--output', 'json']);
    const delegationIds = (await stack.notaryOk(['delegation', 'list', gun])).match(/[0-9a-f]{64}/g);
    // Pinning the signer's key: the key notary lists counts, another does not.
    const pinned = await trustgate(['verify', `${gun}:1.1`, ...trust, '--signer', `targets/releases=${delegationIds![0]}`]);
    expect(pinned.code).toBe(0);
    const wrongKey = await trustgate(['verify', `${gun}:1.1`, ...trust, '--signer', `targets/releases=${'0'.repeat(64)}`]);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(/SIGNER_KEY_MISMATCH: targets\/releases was signed by key\(s\) \w+, not by the pinned signer keys/);
    expect(JSON.parse(inspect.stdout)).toMatchObject({
      name: gun,
      delegations: [{ role: 'targets/releases', keyIds: delegationIds }],
    });
  });

  it('follows snapshot and root key rotation, and honours root pins', async () => {
    const before = JSON.parse((await trustgate(['verify', `${gun}:1.0`, ...trust, '--output', 'json'])).stdout) as { rootKeyId: string };
    await stack.notaryOk(['key', 'rotate', gun, 'snapshot', '-r']);
    await stack.rotateRootKey(gun);
    const after = await stack.pushImage('team/app', '1.2', 'after rotation');
    await stack.sign(gun, '1.2', after);

    const r = await trustgate(['verify', `${gun}:1.2`, ...trust, '--output', 'json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { digest: string; rootKeyId: string };
    expect(json.digest).toBe(after.digest);
    expect(json.rootKeyId).not.toBe(before.rootKeyId);

    const pinnedNew = await trustgate(['verify', `${gun}:1.2`, ...trust, '--root-key', json.rootKeyId]);
    expect(pinnedNew.code).toBe(0);
    expect(pinnedNew.stdout).toMatch(/root key pinned/);
    const pinnedOld = await trustgate(['verify', `${gun}:1.2`, ...trust, '--root-key', before.rootKeyId]);
    expect(pinnedOld.code).toBe(1);
    expect(pinnedOld.stderr).toMatch(/ROOT_KEY_MISMATCH/);
  });

  it('reads a pin from a PEM file', async () => {
    const root = JSON.parse((await runOk('curl', ['-s', '--cacert', stack.tls.caCert, `${stack.notaryUrl}/v2/${gun}/_trust/tuf/root.json`]))) as {
      signed: { keys: Record<string, { keyval: { public: string } }>; roles: { root: { keyids: string[] } } };
    };
    const certPem = Buffer.from(root.signed.keys[root.signed.roles.root.keyids[0]!]!.keyval.public, 'base64').toString();
    const file = path.join(stack.dir, 'root-cert.pem');
    writeFileSync(file, certPem);
    expect((await trustgate(['verify', `${gun}:1.0`, ...trust, '--root-key', file])).code).toBe(0);
  });

  it('says plainly when TLS fails, and exits 1', async () => {
    const r = await trustgate(['verify', `${gun}:1.0`, '--trust-server', stack.notaryUrl]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/UNREACHABLE: .*TLS verification failed: pass the server CA with --ca-file/);
  });

  it('exits 2 on usage errors, never with a stack trace', async () => {
    for (const args of [['verify'], ['verify', 'Bad/Name'], ['verify', 'x', '--timeout', 'soon'], ['verify', 'x', '--signer', 'releases'], ['verify', 'x', '--nope'], ['frobnicate']]) {
      const r = await trustgate(args);
      expect(r.code).toBe(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
