// `trustgate verify|inspect IMAGE --kind notation`: its flags, notation's default locations, and
// reading a trust store directory as notation-go's x509TrustStore does. Verification itself is
// tested against notation-go's verdicts (test/integration/notation-*.test.ts).
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../../cmd/cli/main.js';
import { verifiedJson } from '../../../cmd/cli/notation.js';
import { defaultTrustPolicyFile, NOTATION_FILE_LIMITS, notationConfigDir, readTrustPolicyFile, readTrustStoreDirectory, storesNamedBy } from '../../../cmd/cli/notation-files.js';
import type { Output } from '../../../cmd/cli/output.js';
import type { TrustStoreRef } from '../../../src/trust/notation/types.js';
import { MemoryRegistry } from '../../support/memory-registry.js';
import { selfSignedCertificate } from '../../support/keys.js';
import { makeJws, makePki, pushImage, pushSignature } from '../../support/notation-pki.js';

const ca = selfSignedCertificate(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, { cn: 'acme root', ca: true });
const other = selfSignedCertificate(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, { cn: 'acme tsa', ca: true });
const der = (pem: string) => new X509Certificate(pem).raw;
const fingerprints = (pem: string) => [...pem.matchAll(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)].map((m) => new X509Certificate(m[0]).fingerprint256);

const POLICY = {
  version: '1.0',
  trustPolicies: [
    { name: 'acme', registryScopes: ['registry.test/team/app'], signatureVerification: { level: 'strict' }, trustStores: ['ca:acme', 'tsa:acme-tsa'], trustedIdentities: ['*'] },
    { name: 'rest', registryScopes: ['*'], signatureVerification: { level: 'skip' } },
  ],
};

function tmp(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'notation-cli-'));
}

/** A trust store directory as `notation cert add` leaves it. */
function storeDir(files: Record<string, string | Uint8Array>): string {
  const dir = tmp();
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), content);
  }
  return dir;
}

const ACME: TrustStoreRef = { type: 'ca', name: 'acme' };

describe('notation\'s default locations (notation-go dir/path.go, verifier/trustpolicy/oci.go)', () => {
  it('is $XDG_CONFIG_HOME/notation, else ~/.config/notation, on Linux', () => {
    expect(notationConfigDir({ XDG_CONFIG_HOME: '/x/config', HOME: '/home/a' }, 'linux')).toBe('/x/config/notation');
    expect(notationConfigDir({ HOME: '/home/a' }, 'linux')).toBe('/home/a/.config/notation');
    // Go's os.UserConfigDir refuses a relative one; notation falls back to ./.notation.
    expect(notationConfigDir({ XDG_CONFIG_HOME: 'relative', HOME: '/home/a' }, 'linux')).toBe('.notation');
    expect(notationConfigDir({ HOME: '/Users/a' }, 'darwin')).toBe('/Users/a/Library/Application Support/notation');
  });

  it('prefers trustpolicy.oci.json and falls back to trustpolicy.json', () => {
    const dir = tmp();
    expect(defaultTrustPolicyFile(dir)).toBe(path.join(dir, 'trustpolicy.json'));
    writeFileSync(path.join(dir, 'trustpolicy.oci.json'), '{}');
    expect(defaultTrustPolicyFile(dir)).toBe(path.join(dir, 'trustpolicy.oci.json'));
  });

  it('refuses a trust policy that is a symlink, as notation-go does', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'real.json'), JSON.stringify(POLICY));
    symlinkSync(path.join(dir, 'real.json'), path.join(dir, 'trustpolicy.json'));
    expect(() => readTrustPolicyFile(path.join(dir, 'trustpolicy.json'))).toThrow(/symlink/);
    expect(readTrustPolicyFile(path.join(dir, 'real.json'))).toEqual(POLICY);
  });

  it('refuses a trust policy larger than its bound without parsing it', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'big.json'), ' '.repeat(NOTATION_FILE_LIMITS.trustPolicyBytes + 1));
    expect(() => readTrustPolicyFile(path.join(dir, 'big.json'))).toThrow(/larger than/);
  });
});

describe('the stores a trust policy names', () => {
  it('are every statement\'s, once each', () => {
    expect(storesNamedBy({ trustPolicies: [...POLICY.trustPolicies, { trustStores: ['ca:acme', 'nonsense', 7] }] })).toEqual([ACME, { type: 'tsa', name: 'acme-tsa' }]);
  });

  it('are bounded', () => {
    const many = Array.from({ length: NOTATION_FILE_LIMITS.stores + 1 }, (_, i) => `ca:s${i}`);
    expect(() => storesNamedBy({ trustPolicies: [{ trustStores: many }] })).toThrow(/more than 64 trust stores/);
  });
});

describe('a trust store directory (notation-go verifier/truststore/truststore.go)', () => {
  it('reads PEM and DER files, several certificates to a file, in file name order', () => {
    const dir = storeDir({ 'x509/ca/acme/a.pem': ca + other, 'x509/ca/acme/b.cer': der(other), 'x509/ca/acme/c.crt': Buffer.concat([der(ca), der(other)]) });
    const [store] = readTrustStoreDirectory(dir, [ACME]);
    expect(store?.ref).toEqual(ACME);
    const [x, y] = [new X509Certificate(ca).fingerprint256, new X509Certificate(other).fingerprint256];
    expect(fingerprints(store!.pem)).toEqual([x, y, y, x, y]);
  });

  it('reads only the stores it is asked for', () => {
    // A store nobody names may be anything: it is never opened.
    const dir = storeDir({ 'x509/ca/acme/a.pem': ca, 'x509/ca/unused/key.pem': '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' });
    symlinkSync('/etc/passwd', path.join(dir, 'x509/ca/unused/link.pem'));
    expect(readTrustStoreDirectory(dir, [ACME])).toHaveLength(1);
  });

  it.each([
    ['a missing store', {}, /trust store "ca:acme" does not exist/],
    ['an empty store', { 'x509/ca/acme/.keep': '' }, /holds no PEM or DER certificate/],
    ['a private key', { 'x509/ca/acme/key.pem': '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }, /key\.pem holds no PEM or DER certificate/],
    ['a certificate and a key in one file', { 'x509/ca/acme/both.pem': `${ca}-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n` }, /both\.pem holds no PEM or DER certificate/],
    ['text', { 'x509/ca/acme/readme.txt': 'hello' }, /readme\.txt holds no PEM or DER certificate/],
  ])('refuses %s', (_what, files, message) => {
    expect(() => readTrustStoreDirectory(storeDir(files), [ACME])).toThrow(message);
  });

  it('refuses a store directory with no files at all', () => {
    const dir = tmp();
    mkdirSync(path.join(dir, 'x509/ca/acme'), { recursive: true });
    expect(() => readTrustStoreDirectory(dir, [ACME])).toThrow(/no x509 certificates were found in trust store "ca:acme"/);
  });

  it('refuses a symlinked store directory, a symlinked file and a subdirectory, as notation-go does', () => {
    const real = storeDir({ 'x509/ca/acme/a.pem': ca });
    const linkedStore = tmp();
    mkdirSync(path.join(linkedStore, 'x509/ca'), { recursive: true });
    symlinkSync(path.join(real, 'x509/ca/acme'), path.join(linkedStore, 'x509/ca/acme'));
    expect(() => readTrustStoreDirectory(linkedStore, [ACME])).toThrow(/not a regular directory \(symlinks are not supported\)/);

    const linkedFile = storeDir({ 'x509/ca/acme/a.pem': ca });
    symlinkSync(path.join(real, 'x509/ca/acme/a.pem'), path.join(linkedFile, 'x509/ca/acme/b.pem'));
    expect(() => readTrustStoreDirectory(linkedFile, [ACME])).toThrow(/b\.pem is not a regular file/);

    const nested = storeDir({ 'x509/ca/acme/a.pem': ca, 'x509/ca/acme/sub/b.pem': ca });
    expect(() => readTrustStoreDirectory(nested, [ACME])).toThrow(/sub is not a regular file/);
  });

  it('refuses store names that would leave x509/<type>/', () => {
    const dir = storeDir({ 'x509/ca/a.pem': ca });
    for (const name of ['..', '.', '../ca', 'a/b']) expect(() => readTrustStoreDirectory(dir, [{ type: 'ca', name }])).toThrow(/\[a-zA-Z0-9_.-\]\+/);
  });

  it('bounds the files of a store and the bytes of a file', () => {
    const files: Record<string, string> = {};
    for (let i = 0; i <= NOTATION_FILE_LIMITS.filesPerStore; i++) files[`x509/ca/acme/${i}.pem`] = ca;
    expect(() => readTrustStoreDirectory(storeDir(files), [ACME])).toThrow(/more than 256 files/);
    const big = storeDir({ 'x509/ca/acme/big.pem': ca + ' '.repeat(NOTATION_FILE_LIMITS.fileBytes) });
    expect(() => readTrustStoreDirectory(big, [ACME])).toThrow(/larger than/);
  });
});

async function cli(args: string[], env: Record<string, string> = {}, registry = new MemoryRegistry()): Promise<{ code: number; stdout: string; stderr: string }> {
  const lines = { stdout: [] as string[], stderr: [] as string[] };
  const out: Output = { format: 'text', stdout: (t) => lines.stdout.push(t), stderr: (t) => lines.stderr.push(t) };
  const code = await main(args, { env: { HOME: tmp(), DOCKER_CONFIG: tmp(), ...env }, readStdin: () => Promise.resolve('secret\n'), registryClient: () => Promise.resolve(registry) }, out);
  return { code, stdout: lines.stdout.join('\n'), stderr: lines.stderr.join('\n') };
}

describe('trustgate verify --kind notation: usage', () => {
  const config = tmp();
  writeFileSync(path.join(config, 'trustpolicy.json'), JSON.stringify(POLICY));
  const stores = storeDir({ 'x509/ca/acme/a.pem': ca, 'x509/tsa/acme-tsa/t.pem': other });
  const files = ['--trust-policy', path.join(config, 'trustpolicy.json'), '--trust-store', stores];

  it('prints its usage with --help, naming notation\'s defaults', async () => {
    const r = await cli(['verify', '--kind', 'notation', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('trustpolicy.oci.json');
    expect(r.stdout).toContain('$XDG_CONFIG_HOME/notation');
  });

  it.each([
    [['verify', 'registry.test/team/app:1', '--kind', 'notation', ...files, '--output', 'yaml'], '--output must be text or json'],
    [['verify', 'registry.test/team/app:1', 'registry.test/team/other:1', '--kind=notation', ...files], 'takes one IMAGE, got 2'],
    [['verify', '--kind', 'notation', ...files], 'takes one IMAGE, got 0'],
    [['verify', 'registry.test/team/app:1', '--kind', 'notation', ...files, '--timeout', '0'], '--timeout must be'],
    [['verify', 'registry.test/team/app:1', '--kind', 'notation', ...files, '--username', 'u'], '--username needs --password-stdin'],
    [['verify', 'registry.test/team/app:1', '--kind', 'notation', ...files, '--key', 'k.pub'], "Unknown option '--key'"],
    [['verify', 'registry.test/team/app:1', '--kind', 'notation', '--trust-policy', path.join(config, 'nope.json'), '--trust-store', stores], 'cannot read'],
    [['verify', 'registry.test/team/app:1', '--kind', 'notation', '--trust-policy', path.join(config, 'trustpolicy.json'), '--trust-store', tmp()], 'trust store "ca:acme" does not exist'],
    [['verify', 'registry.test/team/app:1', '--kind', 'notation', ...files, '--registry-ca-file', path.join(config, 'nope.pem')], '--registry-ca-file: cannot read'],
    [['inspect', 'registry.test/team/app:1', '--kind', 'notation', ...files], "Unknown option '--trust-policy'"],
    [['verify', 'registry.test/team/app:1', '--kind', 'notaryv2'], '--kind must be notary, cosign or notation'],
  ])('exits 2: %j', async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('reads notation\'s own files when no flag names them', async () => {
    const xdg = tmp();
    mkdirSync(path.join(xdg, 'notation'));
    writeFileSync(path.join(xdg, 'notation', 'trustpolicy.oci.json'), '{ not json');
    const r = await cli(['verify', 'registry.test/team/app:1', '--kind', 'notation'], { XDG_CONFIG_HOME: xdg });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path.join(xdg, 'notation', 'trustpolicy.oci.json')} is not valid JSON`);
    writeFileSync(path.join(xdg, 'notation', 'trustpolicy.oci.json'), JSON.stringify(POLICY));
    const noStore = await cli(['verify', 'registry.test/team/app:1', '--kind', 'notation'], { XDG_CONFIG_HOME: xdg });
    expect(noStore.code).toBe(2);
    expect(noStore.stderr).toContain(`${path.join(xdg, 'notation', 'truststore', 'x509', 'ca', 'acme')}`);
  });

  it('prints no verdict for a usage error, even with --output json', async () => {
    const r = await cli(['verify', 'registry.test/team/app:1', '--kind', 'notation', '--trust-policy', path.join(config, 'trustpolicy.json'), '--trust-store', tmp(), '--output', 'json']);
    // A usage error is exit 2 and prints no verdict; the refusal JSON is main's, shared by every kind.
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });
});

describe('the JSON of a Notation verification', () => {
  it('has cosign\'s keys first, then the statement, level and logged checks', () => {
    const json = verifiedJson({
      kind: 'notation', image: 'registry.test/team/app', reference: 'registry.test/team/app:1@sha256:ab', digest: 'sha256:ab', tag: '1', unchecked: false, expires: Infinity,
      evidence: { kind: 'notation', registry: 'registry.test', trustPolicy: 'acme', level: 'strict', signatures: [], logged: ['expiry: …'] },
    });
    expect(Object.keys(json)).toEqual(['kind', 'image', 'reference', 'digest', 'tag', 'signatures', 'trustPolicy', 'level', 'logged', 'unchecked']);
    expect(json).toMatchObject({ trustPolicy: 'acme', level: 'strict', logged: ['expiry: …'] });
  });
});

describe('trustgate verify IMAGE --kind notation, as docs/migration.md runs it', () => {
  // A registry holding team/app:1.4 signed as notation signs it, and team/app:1.5 unsigned.
  const pki = makePki();
  const registry = new MemoryRegistry();
  const signed = pushImage(registry, 'team/app', '1.4', 'signed');
  pushSignature(registry, 'team/app', signed, makeJws({ target: signed, chain: [pki.leaf.der, pki.intermediate.der, pki.root.der], key: pki.leafKey }));
  pushImage(registry, 'team/app', '1.5', 'unsigned');
  const policyFile = path.join(tmp(), 'trustpolicy.json');
  writeFileSync(policyFile, JSON.stringify({ version: '1.0', trustPolicies: [{ name: 'acme', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:acme'], trustedIdentities: ['*'] }] }));
  const storeFile = storeDir({ 'x509/ca/acme/root.crt': pki.root.der });

  it('admits the signed tag, printing the digest a pod would be pinned to', async () => {
    const r = await cli(['verify', 'registry.test/team/app:1.4', '--kind', 'notation', '--trust-policy', policyFile, '--trust-store', storeFile], {}, registry);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(signed.digest);
  });

  it('refuses the unsigned tag with NO_SIGNATURES', async () => {
    const r = await cli(['verify', 'registry.test/team/app:1.5', '--kind', 'notation', '--trust-policy', policyFile, '--trust-store', storeFile], {}, registry);
    expect(r.code).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toContain('NO_SIGNATURES');
  });

  it('inspect lists the signature it found, without a trust policy', async () => {
    const r = await cli(['inspect', 'registry.test/team/app:1.4', '--kind', 'notation'], {}, registry);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(signed.digest);
    expect(r.stdout).toContain('acme-signer');
  });
});
