// A bundle's transparency-log entry must record the signer: the policy key, or the bundle's
// certificate (found by an attacker in issue 10; the defence: check-bundle.ts recordsVerifier).
//
// The finding (low): ADR 10 says what sigstore-js does not check — "that the log entry
// records the same key or certificate (cosign's comparePublicKey) — is ours". check-legacy.ts
// does compare (TLOG_INVALID "the transparency-log entry records another public key"); the
// bundle path (check-bundle.ts checkWithSigstore) does not, and sigstore-js's dsse 0.0.1 body
// check compares only the signature and payload hash. So a keyed bundle whose log entry records
// ANOTHER verifier key is admitted under `tlog.required: true`. Why it matters: the log is how a
// key's owner monitors what their key signed (search Rekor by public key). For ECDSA every
// signature also verifies under a second public key (the one recovered from −R), which Rekor
// accepts as the entry's verifier; whoever stole the key signs, logs the entry under that twin
// key, and the owner's monitoring never sees it — while trustgate counts it as logged.
import { createHash, sign } from 'node:crypto';
import { attachBundle, cosignStatement, keyPair, pae, pushImage, signBytes } from '../support/cosign-format.js';
import { cosignSpec, refusal, verifyCosign } from '../support/cosign-verify.js';
import { MemoryRegistry } from '../support/memory-registry.js';
import { PrivateRekor } from '../support/private-rekor.js';
import { ATTESTATION, bundleRegistry, LEGACY } from '../support/cosign-fixtures.js';

async function attempt(entry: { verifier: 'signer' | 'other'; recordedSignature?: 'same' | 'other' }): Promise<{ code: string; message: string }> {
  const rekor = new PrivateRekor();
  const signer = keyPair('ecdsa-p256');
  const other = keyPair('ecdsa-p256');
  const registry = new MemoryRegistry();
  const repo = 'team/app';
  const digest = pushImage(registry, repo, '1.0', 'release');
  const payloadType = 'application/vnd.in-toto+json';
  const statement = cosignStatement(digest);
  const signature = signBytes(signer.privateKey, pae(payloadType, statement));

  // A dsse 0.0.1 entry recording this very signature and payload, but `other`'s key as verifier.
  const body = Buffer.from(JSON.stringify({
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: createHash('sha256').update('x').digest('hex') },
      payloadHash: { algorithm: 'sha256', value: createHash('sha256').update(statement).digest('hex') },
      signatures: [{ signature: (entry.recordedSignature === 'other' ? signBytes(other.privateKey, statement) : signature).toString('base64'), verifier: Buffer.from(entry.verifier === 'other' ? other.pem : signer.pem).toString('base64') }],
    },
  }));
  const integratedTime = Math.floor(Date.now() / 1000) - 60;
  const logIndex = 0;
  // A one-entry tree: the root is the leaf hash; the checkpoint is signed by the log.
  const root = createHash('sha256').update(Buffer.concat([Buffer.from([0]), body])).digest();
  const note = `rekor.test - 1\n1\n${root.toString('base64')}\n`;
  const noteSig = Buffer.concat([rekor.logId.subarray(0, 4), sign('sha256', Buffer.from(note), rekor.key.privateKey)]);
  const checkpoint = `${note}\n\u2014 rekor.test ${noteSig.toString('base64')}\n`;
  const canonical = `{"body":"${body.toString('base64')}","integratedTime":${integratedTime},"logID":"${rekor.logId.toString('hex')}","logIndex":${logIndex}}`;
  const set = sign('sha256', Buffer.from(canonical), rekor.key.privateKey);
  const bundle = {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {
      publicKey: { hint: 'signer' },
      tlogEntries: [{
        logIndex: String(logIndex),
        logId: { keyId: rekor.logId.toString('base64') },
        kindVersion: { kind: 'dsse', version: '0.0.1' },
        integratedTime: String(integratedTime),
        inclusionPromise: { signedEntryTimestamp: set.toString('base64') },
        inclusionProof: { logIndex: '0', rootHash: root.toString('base64'), treeSize: '1', hashes: [], checkpoint: { envelope: checkpoint } },
        canonicalizedBody: body.toString('base64'),
      }],
    },
    dsseEnvelope: { payload: statement.toString('base64'), payloadType, signatures: [{ sig: signature.toString('base64'), keyid: '' }] },
  };
  attachBundle(registry, repo, digest, Buffer.from(JSON.stringify(bundle)));

  const spec = cosignSpec({ keys: [signer.pem], tlog: { required: true, trustedRoot: rekor.trustedRoot() } });
  return refusal(verifyCosign(registry, `registry.test:5000/${repo}:1.0`, spec));
}

it('controls: the log entry is checked (its own key: verified; another signature recorded: refused)', async () => {
  expect((await attempt({ verifier: 'signer' })).code).toBe('verified');
  expect((await attempt({ verifier: 'signer', recordedSignature: 'other' })).code).toBe('TLOG_INVALID');
});

it('refuses a keyed bundle whose log entry records another public key (as the legacy path does)', async () => {
  const r = await attempt({ verifier: 'other' });
  expect(`${r.code} ${r.message}`).toMatch(/^TLOG_INVALID.*records another public key/);
});

// Keyless, on a real recorded bundle: its dsse entry's verifier swapped for another genuine
// Fulcio certificate (the legacy recording's). Refused before any crypto, as the legacy path does.
describe('keyless bundle', () => {
  type RecordedBundle = { verificationMaterial: { tlogEntries: { canonicalizedBody: string }[] } };
  const keyless = cosignSpec({ keyless: { identities: [{ issuer: ATTESTATION.issuer, subject: ATTESTATION.identity }] } });
  const image = `${ATTESTATION.name}@${ATTESTATION.digest}`;

  function withVerifier(pem: string | undefined): Buffer {
    const b = JSON.parse(ATTESTATION.bundle.toString('utf8')) as RecordedBundle;
    const entry = b.verificationMaterial.tlogEntries[0]!;
    const body = JSON.parse(Buffer.from(entry.canonicalizedBody, 'base64').toString('utf8')) as { spec: { signatures: { verifier: string }[] } };
    if (pem !== undefined) body.spec.signatures[0]!.verifier = Buffer.from(pem).toString('base64');
    entry.canonicalizedBody = Buffer.from(JSON.stringify(body)).toString('base64');
    return Buffer.from(JSON.stringify(b));
  }

  it('control: the recorded entry records the certificate, and the check goes on (to the statement)', async () => {
    const r = await refusal(verifyCosign(bundleRegistry(withVerifier(undefined), ATTESTATION.repository, ATTESTATION.digest), image, keyless));
    expect(r.code).toBe('PAYLOAD_MISMATCH');
  });

  it('refuses a keyless bundle whose log entry records another certificate', async () => {
    const manifest = JSON.parse(LEGACY.manifest.toString('utf8')) as { layers: { annotations: Record<string, string> }[] };
    const other = manifest.layers[1]!.annotations['dev.sigstore.cosign/certificate']!;
    const r = await refusal(verifyCosign(bundleRegistry(withVerifier(other), ATTESTATION.repository, ATTESTATION.digest), image, keyless));
    expect(`${r.code} ${r.message}`).toMatch(/^TLOG_INVALID.*records another certificate/);
  });
});
