// The Notation fixtures and what notation-go v1.3.2's own verifier says about each: every
// expected verdict of trustgate's Notation tests stands on these. Signed by test/tools/notation-tool
// as `notation sign` does, on both registries (Debian's docker-registry: the referrers tag schema;
// the referrers registry: the referrers API), in both envelope formats; test/fixtures/README.md
// tabulates the verdicts and notation-go's reasons.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  NOTATION_ARTIFACT_TYPE, NOTATION_ENVELOPE_MEDIA_TYPES, NOTATION_STORES, OTHER_ORG_IDENTITY,
  notationAttach, notationCraftJws, notationEnvelope, notationPki, notationSign, notationTrustPolicy, notationVerify, shortLivedLeaf, startNotationTsa, writeNotationConfig,
  type NotationConfig, type NotationTsa, type NotationEnvelope, type NotationPki, type NotationSigner, type NotationVerdict,
} from '../support/notation.js';
import { getManifest, pushImage, registryRequest, type PushedImage, type RegistryServer, startDockerRegistry, startReferrersRegistry } from '../support/registries.js';
import { testTools } from '../support/test-tools.js';
import { makeTls } from '../support/tls.js';

// Built (minutes on a fresh machine) while the file loads, before jest's hook timeouts run.
testTools();

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
// How long the short-lived leaf and the expiring signatures last: long enough to sign and check
// all four variants before they expire on a loaded machine.
const SHORT_SECONDS = 20;

let dir: string;
let docker: RegistryServer;
let referrers: RegistryServer;
let pki: NotationPki;
let good: NotationConfig;
let unrelatedCa: NotationConfig;
let otherIdentity: NotationConfig;
let withTsa: NotationConfig;
let tsa: NotationTsa;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-notation-reference-'));
  [docker, referrers, pki] = await Promise.all([startDockerRegistry(dir), startReferrersRegistry(dir), notationPki()]);
  tsa = await startNotationTsa(dir);
  good = await writeNotationConfig(path.join(dir, 'good'), notationTrustPolicy());
  unrelatedCa = await writeNotationConfig(path.join(dir, 'unrelated-ca'), notationTrustPolicy({ trustStores: [NOTATION_STORES.unrelated] }));
  otherIdentity = await writeNotationConfig(path.join(dir, 'other-identity'), notationTrustPolicy({ trustedIdentities: [OTHER_ORG_IDENTITY] }));
  withTsa = await writeNotationConfig(path.join(dir, 'with-tsa'), notationTrustPolicy({ trustStores: [NOTATION_STORES.acme, NOTATION_STORES.tsa] }));
});

afterAll(async () => {
  await Promise.all([docker?.stop(), referrers?.stop(), tsa?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

type Variant = readonly [RegistryServer['kind'], NotationEnvelope];
const VARIANTS: readonly Variant[] = [
  ['docker-registry', 'jws'], ['docker-registry', 'cose'], ['referrers-registry', 'jws'], ['referrers-registry', 'cose'],
];
const registryOf = (kind: RegistryServer['kind']) => (kind === 'docker-registry' ? docker : referrers);
let images = 0;
const push = (kind: RegistryServer['kind'], repository: string) => {
  const n = ++images;
  return pushImage(registryOf(kind), repository, `v${n}`, `notation reference ${n}`, dir);
};

/** The refusal's reason, and the verification type that gave it, of the one signature examined. */
function expectRefused(verdict: NotationVerdict, type: string, reason: string): void {
  expect(verdict.verified).toBe(false);
  expect(verdict.signatures).toHaveLength(1);
  const failed = verdict.results.find((r) => r.error !== null);
  expect(failed).toMatchObject({ type, action: 'enforce' });
  expect(failed?.error).toContain(reason);
  expect(verdict.error).toContain(reason);
}

describe.each(VARIANTS)('%s, %s envelope', (kind, envelope) => {
  const registry = () => registryOf(kind);

  test('a good signature is verified; stored as a referrer where the API exists, else with the tag schema', async () => {
    const image = await push(kind, 'good/app');
    await notationSign(image, pki.p256, registry(), { envelope });
    const verdict = await notationVerify(image, good, registry());
    expect(verdict).toMatchObject({ verified: true, digest: image.digest, error: null, level: 'strict' });
    expect(verdict.results.map((r) => [r.type, r.action, r.error])).toEqual([
      ['integrity', 'enforce', null], ['authenticity', 'enforce', null], ['expiry', 'enforce', null],
      ['authenticTimestamp', 'enforce', null], ['revocation', 'enforce', null],
    ]);
    expect(verdict.signatures[0]?.mediaType).toBe(NOTATION_ENVELOPE_MEDIA_TYPES[envelope]);

    const api = await registryRequest(registry(), `/v2/${image.repository}/referrers/${image.digest}`);
    const tagSchema = await getManifest(registry(), image.repository, image.digest.replace(':', '-'));
    const listed = kind === 'docker-registry' ? tagSchema.json : JSON.parse(api.body.toString());
    if (kind === 'docker-registry') {
      expect(api.status).toBe(404);
      expect(tagSchema.mediaType).toBe(OCI_INDEX);
    } else {
      expect(api.status).toBe(200);
      expect(tagSchema.status).toBe(404);
    }
    expect(listed.manifests).toHaveLength(1);
    expect(listed.manifests[0]).toMatchObject({ mediaType: OCI_MANIFEST, artifactType: NOTATION_ARTIFACT_TYPE });
    expect(verdict.signatures.map((s) => s.digest)).toEqual([listed.manifests[0].digest]);
    const manifest = await getManifest(registry(), image.repository, listed.manifests[0].digest);
    // notation-go (registry/repository.go uploadSignatureManifest) writes no `artifactType`: the
    // config's media type is the signature's type (signature-specification.md, "Storage"), the
    // config blob the empty JSON `{}`; the referrers list takes its artifactType from there.
    expect(manifest.json.artifactType).toBeUndefined();
    expect(manifest.json).toMatchObject({
      config: { mediaType: NOTATION_ARTIFACT_TYPE, digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 },
      subject: { digest: image.digest },
      layers: [{ mediaType: NOTATION_ENVELOPE_MEDIA_TYPES[envelope] }],
    });
    expect(manifest.json.annotations['io.cncf.notary.x509chain.thumbprint#S256']).toMatch(/^\["[0-9a-f]{64}"/);
  });

  test.each<[string, () => NotationSigner]>([
    ['RSA-3072', () => pki.rsa3072], ['ECDSA P-384', () => pki.p384],
  ])('an %s leaf verifies too', async (_name, signer) => {
    const image = await push(kind, 'keys/app');
    await notationSign(image, signer(), registry(), { envelope });
    expect((await notationVerify(image, good, registry())).verified).toBe(true);
  });

  test('wrong CA: a trust store holding only an unrelated CA, and a leaf of the unrelated CA with the acme subject', async () => {
    const image = await push(kind, 'wrong-ca/app');
    await notationSign(image, pki.p256, registry(), { envelope });
    expectRefused(await notationVerify(image, unrelatedCa, registry()), 'authenticity', "the signature's certificate chain does not contain any trusted certificate");

    const stranger = await push(kind, 'wrong-ca/app');
    await notationSign(stranger, pki.unrelated, registry(), { envelope });
    expectRefused(await notationVerify(stranger, good, registry()), 'authenticity', "the signature's certificate chain does not contain any trusted certificate");
  });

  test('identity mismatch: the trusted identity names another organisation', async () => {
    const image = await push(kind, 'identity/app');
    await notationSign(image, pki.p256, registry(), { envelope });
    expectRefused(await notationVerify(image, otherIdentity, registry()), 'authenticity',
      'signing certificate from the digital signature does not match the X.509 trusted identities [map["C":"US" "O":"Other Org" "ST":"WA"]] defined in the trust policy "test"');
    // … and the other organisation's leaf under the acme identity.
    const other = await push(kind, 'identity/app');
    await notationSign(other, pki.otherOrg, registry(), { envelope });
    expectRefused(await notationVerify(other, good, registry()), 'authenticity', 'does not match the X.509 trusted identities [map["C":"US" "O":"Acme Rockets" "ST":"WA"]]');
  });

  test('signature moved to another image: the payload names the first image', async () => {
    const signed = await push(kind, 'moved/app');
    const victim = await push(kind, 'moved/app');
    const bytes = await notationEnvelope(signed, pki.p256, registry(), { envelope });
    await notationAttach(victim, bytes, registry(), { mediaType: NOTATION_ENVELOPE_MEDIA_TYPES[envelope] });
    const verdict = await notationVerify(victim, good, registry());
    expect(verdict.verified).toBe(false);
    // Every check of the envelope passes; only the descriptor comparison fails.
    expect(verdict.results.every((r) => r.error === null)).toBe(true);
    expect(verdict.error).toContain('content descriptor mismatch');
    // The same bytes on the image they name verify.
    await notationAttach(signed, bytes, registry(), { mediaType: NOTATION_ENVELOPE_MEDIA_TYPES[envelope] });
    expect((await notationVerify(signed, good, registry())).verified).toBe(true);
  });

  test('tampered envelope: one bit of the signature flipped', async () => {
    const image = await push(kind, 'tampered/app');
    const bytes = await notationEnvelope(image, pki.p256, registry(), { envelope });
    await notationAttach(image, tamper(bytes, envelope), registry(), { mediaType: NOTATION_ENVELOPE_MEDIA_TYPES[envelope] });
    const verdict = await notationVerify(image, good, registry());
    expectRefused(verdict, 'integrity', envelope === 'jws' ? 'signature is invalid. Error: crypto/ecdsa: verification error' : 'signature is invalid. Error: verification error');
    expect(verdict.results).toHaveLength(1);
  });

  test('an unknown critical signed attribute: notation-go v1.3.2 verifies it (it checks extended critical attributes only for verification plugins)', async () => {
    const image = await push(kind, 'critical/app');
    await notationSign(image, pki.p256, registry(), { envelope, criticalHeaders: { 'io.example.unknown': 'must be understood' } });
    const verdict = await notationVerify(image, good, registry());
    // The spec says a verifier must refuse what it does not understand in `crit`; notation-go
    // v1.3.2 (verifier/verifier.go processSignature) does not. Should a release start refusing
    // it, this fails and the fixtures README must change.
    expect(verdict.verified).toBe(true);
  });

  test('no signature at all', async () => {
    const image = await push(kind, 'unsigned/app');
    const verdict = await notationVerify(image, good, registry());
    expect(verdict).toMatchObject({ verified: false, digest: image.digest, signatures: [] });
    expect(verdict.error).toBe(`no signature is associated with "${image.ref}", make sure the artifact was signed successfully`);
  });
});

describe('time: an expired certificate and a passed signature expiry', () => {
  const expiredCert = new Map<string, PushedImage>();
  const expiredSignature = new Map<string, PushedImage>();
  const timestamped = new Map<string, PushedImage>();
  const key = (kind: string, envelope: string) => `${kind}/${envelope}`;
  const fixture = (map: Map<string, PushedImage>, kind: string, envelope: string): PushedImage => {
    const image = map.get(key(kind, envelope));
    if (!image) throw new Error(`no fixture for ${kind} ${envelope}`);
    return image;
  };

  beforeAll(async () => {
    const leaf = await shortLivedLeaf(SHORT_SECONDS);
    let expired = leaf.notAfter.getTime();
    for (const variant of VARIANTS) {
      const [kind, envelope] = variant;
      const a = await push(kind, 'expired-cert/app');
      await notationSign(a, leaf, registryOf(kind), { envelope });
      expiredCert.set(key(kind, envelope), a);
      const b = await push(kind, 'expired-signature/app');
      await notationSign(b, pki.p256, registryOf(kind), { envelope, expirySeconds: SHORT_SECONDS });
      expiredSignature.set(key(kind, envelope), b);
      const c = await push(kind, 'timestamped/app');
      await notationSign(c, leaf, registryOf(kind), { envelope, timestamp: tsa });
      timestamped.set(key(kind, envelope), c);
      expired = Math.max(expired, Date.now() + (SHORT_SECONDS + 1) * 1000);
    }
    // Both were good while they lasted.
    for (const [kind, envelope] of VARIANTS) {
      expect((await notationVerify(fixture(expiredCert, kind, envelope), good, registryOf(kind))).verified).toBe(true);
      expect((await notationVerify(fixture(expiredSignature, kind, envelope), good, registryOf(kind))).verified).toBe(true);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expired - Date.now())));
  }, 180_000);

  test.each(VARIANTS)('%s, %s: the certificate has expired (no tsa store: the chain must be valid now)', async (kind, envelope) => {
    const verdict = await notationVerify(fixture(expiredCert, kind, envelope), good, registryOf(kind));
    expectRefused(verdict, 'authenticTimestamp', 'verification time is after certificate "CN=short-lived-');
    expect(verdict.error).toMatch(/validity period, it was expired at "[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000"/);
  });

  test.each(VARIANTS)('%s, %s: an RFC 3161 timestamp from a TSA of the tsa store keeps the expired certificate\'s signature good', async (kind, envelope) => {
    const image = fixture(timestamped, kind, envelope);
    expect((await notationVerify(image, withTsa, registryOf(kind))).verified).toBe(true);
    // Without the tsa store the timestamp is not looked at: the chain must be valid now.
    expectRefused(await notationVerify(image, good, registryOf(kind)), 'authenticTimestamp', 'validity period, it was expired at');
    // A tsa store with another root: the countersignature does not chain to it.
    const otherTsa = await writeNotationConfig(path.join(dir, `other-tsa-${kind}-${envelope}`), notationTrustPolicy({ trustStores: [NOTATION_STORES.acme, 'tsa:other'] }), [
      { store: NOTATION_STORES.acme, certificates: [pki.rootCa] }, { store: 'tsa:other', certificates: [pki.unrelatedCa] },
    ]);
    expectRefused(await notationVerify(image, otherTsa, registryOf(kind)), 'authenticTimestamp', 'failed to verify the timestamp countersignature');
  });

  test.each(VARIANTS)('%s, %s: the signature expiry has passed', async (kind, envelope) => {
    const verdict = await notationVerify(fixture(expiredSignature, kind, envelope), good, registryOf(kind));
    expectRefused(verdict, 'expiry', 'digital signature has expired on "');
  });
});

describe('the reference verifier itself', () => {
  test('a crafted JWS with notation\'s own header verifies; with crit naming an absent header, or without crit, it is refused', async () => {
    const craft = async (image: PushedImage, header: Record<string, unknown>): Promise<NotationVerdict> => {
      await notationAttach(image, await notationCraftJws(image, pki.p256, referrers, header), referrers);
      return notationVerify(image, good, referrers);
    };
    expect((await craft(await push('referrers-registry', 'crafted/app'), {})).verified).toBe(true);
    expectRefused(await craft(await push('referrers-registry', 'crafted/app'), { crit: ['io.cncf.notary.signingScheme', 'io.example.absent'] }),
      'integrity', '"io.example.absent" header is marked critical but not present');
    expectRefused(await craft(await push('referrers-registry', 'crafted/app'), { crit: null }), 'integrity', 'missing "crit" header');
  });

  test('revocation: a leaf with an unreachable CRL distribution point is refused by strict, passes when revocation is logged', async () => {
    const image = await push('referrers-registry', 'revocation/app');
    await notationSign(image, pki.crl, referrers);
    const strict = await notationVerify(image, good, referrers);
    expectRefused(strict, 'revocation', 'signing certificate with subject "CN=acme-signer-crl,O=Acme Rockets,L=Seattle,ST=WA,C=US" revocation status is unknown');
    const permissive = await writeNotationConfig(path.join(dir, 'permissive'), notationTrustPolicy({ signatureVerification: { level: 'permissive' } }));
    const logged = await notationVerify(image, permissive, referrers);
    expect(logged.verified).toBe(true);
    expect(logged.results.find((r) => r.type === 'revocation')).toMatchObject({ action: 'log', error: expect.stringContaining('revocation status is unknown') });
  });

  test('notary.x509.signingAuthority: a self-signed signing certificate in a signingAuthority store', async () => {
    const image = await push('referrers-registry', 'signing-authority/app');
    await notationSign(image, pki.selfSigned, referrers, { signingScheme: 'notary.x509.signingAuthority' });
    const sa = await writeNotationConfig(path.join(dir, 'signing-authority'), notationTrustPolicy({ trustStores: [NOTATION_STORES.selfSignedSigningAuthority] }));
    expect((await notationVerify(image, sa, referrers)).verified).toBe(true);
    // The scheme picks the store type: a `ca` store with the same certificate does not serve it.
    const ca = await writeNotationConfig(path.join(dir, 'self-signed-ca'), notationTrustPolicy({ trustStores: [NOTATION_STORES.selfSigned] }));
    expectRefused(await notationVerify(image, ca, referrers), 'authenticity', 'no trusted certificates are found to verify authenticity');

    // The scheme with a CA chain: the root in a signingAuthority store.
    const chained = await push('referrers-registry', 'signing-authority/app');
    await notationSign(chained, pki.p256, referrers, { signingScheme: 'notary.x509.signingAuthority' });
    const acmeSa = await writeNotationConfig(path.join(dir, 'acme-signing-authority'), notationTrustPolicy({ trustStores: [NOTATION_STORES.acmeSigningAuthority] }));
    expect((await notationVerify(chained, acmeSa, referrers)).verified).toBe(true);
    expectRefused(await notationVerify(chained, good, referrers), 'authenticity', 'no trusted certificates are found to verify authenticity');
  });

  test('many signatures: notation-go stops after --max-signatures and says so; a good one among few verifies', async () => {
    const image = await push('referrers-registry', 'many/app');
    const bad = tamper(await notationEnvelope(image, pki.p256, referrers), 'jws');
    for (let i = 0; i < 3; i++) {
      // Distinct manifests (an annotation each), the same tampered envelope.
      await notationAttach(image, bad, referrers, { annotations: { 'test.trustgate.dev/n': String(i) } });
    }
    const stopped = await notationVerify(image, good, referrers, { maxSignatures: 2 });
    expect(stopped.verified).toBe(false);
    expect(stopped.signatures).toHaveLength(2);
    expect(stopped.error).toBe('signature evaluation stopped. The configured limit of 2 signatures to verify per artifact exceeded');
    await notationSign(image, pki.p256, referrers);
    expect((await notationVerify(image, good, referrers)).verified).toBe(true);
  });

  test('levels: audit logs a wrong CA and verifies, skip verifies an unsigned image, no applicable scope refuses', async () => {
    const image = await push('referrers-registry', 'levels/app');
    await notationSign(image, pki.unrelated, referrers);
    const audit = await writeNotationConfig(path.join(dir, 'audit'), notationTrustPolicy({ signatureVerification: { level: 'audit' } }));
    const audited = await notationVerify(image, audit, referrers);
    expect(audited).toMatchObject({ verified: true, level: 'audit' });
    expect(audited.results.find((r) => r.type === 'authenticity')).toMatchObject({ action: 'log', error: "the signature's certificate chain does not contain any trusted certificate" });
    // audit still enforces integrity: a tampered envelope is refused.
    const tampered = await push('referrers-registry', 'levels/app');
    await notationAttach(tampered, tamper(await notationEnvelope(tampered, pki.p256, referrers), 'jws'), referrers);
    expectRefused(await notationVerify(tampered, audit, referrers), 'integrity', 'signature is invalid');

    const unsigned = await push('referrers-registry', 'levels/app');
    const skip = await writeNotationConfig(path.join(dir, 'skip'), notationTrustPolicy({ signatureVerification: { level: 'skip' }, trustStores: [], trustedIdentities: [] }));
    expect(await notationVerify(unsigned, skip, referrers)).toMatchObject({ verified: true, level: 'skip', signatures: [] });

    const elsewhere = await writeNotationConfig(path.join(dir, 'elsewhere'), notationTrustPolicy({ registryScopes: ['registry.example/other'] }));
    const unscoped = await notationVerify(image, elsewhere, referrers);
    expect(unscoped).toMatchObject({ verified: false, signatures: [] });
    expect(unscoped.error).toBe(`artifact "${image.ref}" has no applicable trust policy statement. Trust policy applicability for a given artifact is determined by registryScopes. To create a trust policy, see: https://notaryproject.dev/docs/quickstart/#create-a-trust-policy`);
  });

  test('registry scopes: the statement naming the repository wins over `*`', async () => {
    const image = await push('referrers-registry', 'scoped/app');
    await notationSign(image, pki.p256, referrers);
    const statement = notationTrustPolicy().trustPolicies[0]!;
    const scoped = await writeNotationConfig(path.join(dir, 'scoped'), {
      version: '1.0',
      trustPolicies: [
        { ...statement, name: 'wildcard', registryScopes: ['*'], trustStores: [NOTATION_STORES.unrelated] },
        { ...statement, name: 'exact', registryScopes: [`${referrers.host}/scoped/app`] },
      ],
    });
    expect((await notationVerify(image, scoped, referrers)).verified).toBe(true);
    const other = await push('referrers-registry', 'unscoped/app');
    await notationSign(other, pki.p256, referrers);
    expectRefused(await notationVerify(other, scoped, referrers), 'authenticity', "the signature's certificate chain does not contain any trusted certificate");
  });

  test('the tag schema can be forced on the referrers registry (notation sign --force-referrers-tag)', async () => {
    const image = await push('referrers-registry', 'forced-tag/app');
    await notationSign(image, pki.p256, referrers, { storage: 'tag' });
    const tagSchema = await getManifest(referrers, image.repository, image.digest.replace(':', '-'));
    expect(tagSchema.status).toBe(200);
    expect(tagSchema.json.manifests).toEqual([expect.objectContaining({ artifactType: NOTATION_ARTIFACT_TYPE })]);
    expect((await notationVerify(image, good, referrers)).verified).toBe(true);
  });
});

describe('registries with TLS and with authentication', () => {
  test.each(['docker-registry', 'referrers-registry'] as const)('%s over TLS with a test CA: signed and verified', async (kind) => {
    const tlsDir = mkdtempSync(path.join(dir, 'tls-'));
    const tls = await makeTls(tlsDir);
    const registry = kind === 'docker-registry' ? await startDockerRegistry(tlsDir, { tls }) : await startReferrersRegistry(tlsDir, { tls });
    try {
      expect(registry.url).toMatch(/^https:/);
      const image = await pushImage(registry, 'tls/app', 'v1', `notation tls ${kind}`, tlsDir);
      await notationSign(image, pki.p256, registry, { envelope: 'cose' });
      expect((await notationVerify(image, good, registry)).verified).toBe(true);
    } finally {
      await registry.stop();
    }
  });

  test('docker-registry with basic auth: signed and verified with credentials, refused without', async () => {
    const authDir = mkdtempSync(path.join(dir, 'auth-'));
    const creds = { username: 'signer', password: 'notation-secret' };
    const registry = await startDockerRegistry(authDir, { htpasswd: creds });
    try {
      const image = await pushImage(registry, 'auth/app', 'v1', 'notation auth', authDir, { creds });
      await notationSign(image, pki.p256, registry, { creds });
      expect((await notationVerify(image, good, registry, { creds })).verified).toBe(true);
      const anonymous = await notationVerify(image, good, registry);
      expect(anonymous.verified).toBe(false);
      expect(anonymous.error).toContain('basic credential not found');
    } finally {
      await registry.stop();
    }
  });
});

/** One bit of the signature value flipped: JWS's `signature` field; COSE_Sign1's last byte (the signature ends the array). */
function tamper(bytes: Buffer, envelope: NotationEnvelope): Buffer {
  if (envelope === 'cose') {
    const out = Buffer.from(bytes);
    out[out.length - 1]! ^= 0x01;
    return out;
  }
  const jws = JSON.parse(bytes.toString()) as { signature: string };
  const sig = Buffer.from(jws.signature, 'base64url');
  sig[0]! ^= 0x01;
  return Buffer.from(JSON.stringify({ ...jws, signature: sig.toString('base64url') }));
}
