// ATTACK (i11-nattack): `trustgate inspect IMAGE --kind notation` prints what the attacker's
// registry serves. The envelope's unsigned `io.cncf.notary.signingAgent` header and the payload's
// targetArtifact.digest (inspect verifies nothing) reach the text report as written. With terminal
// control sequences an attacker can rewrite what the operator sees: erase the "payload names:
// ANOTHER image" warning and print "payload names: this image" in its place, or a fake signer.
// Safe: the text report carries no control characters (C0 other than the newlines it writes
// itself, DEL, C1), whatever the registry serves.
import { parseReference } from '../../src/reference/index.js';
import { formatNotationReport, inspectNotation } from '../../src/trust/notation/inspect.js';
import { MemoryRegistry } from '../support/memory-registry.js';
import { dn, makeCert, makeJws, makePki, pushImage, pushSignature, type Target } from '../support/notation-pki.js';

const REPO = 'team/app';
const NAME = `registry.test:5000/${REPO}`;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

async function report(reg: MemoryRegistry): Promise<string> {
  const conn = { registry: 'registry.test:5000', insecure: true, caBundle: undefined, credentials: undefined, signal: new AbortController().signal, timeoutMs: 5000 };
  return formatNotationReport(await inspectNotation(reg, conn, parseReference(`${NAME}:1.0`)));
}

function withAgent(envelope: Buffer, agent: string): Buffer {
  const doc = JSON.parse(envelope.toString()) as { header: Record<string, unknown> };
  doc.header['io.cncf.notary.signingAgent'] = agent;
  return Buffer.from(JSON.stringify(doc));
}

it('a signing agent with ANSI escapes cannot hide the "ANOTHER image" warning', async () => {
  const pki = makePki();
  const reg = new MemoryRegistry();
  const img = pushImage(reg, REPO, '1.0');
  const other: Target = { ...img, digest: `sha256:${'b'.repeat(64)}` };
  // Cursor up one line, erase it, print the reassuring line instead.
  const agent = 'notation-go/1.3.0\u001b[1A\u001b[2K\r  payload names: this image';
  pushSignature(reg, REPO, img, withAgent(makeJws({ target: other, chain: [pki.leaf.der, pki.intermediate.der, pki.root.der], key: pki.leafKey }), agent));
  const text = await report(reg);
  expect(text).toContain('ANOTHER image');
  expect(text).not.toMatch(CONTROL);
});

it('a payload digest with escapes (inspect does not verify the payload) is not printed raw', async () => {
  const pki = makePki();
  const reg = new MemoryRegistry();
  const img = pushImage(reg, REPO, '1.0');
  const lie = { ...img, digest: '\u001b[2K\r  payload names: this image\u001b[8m' };
  pushSignature(reg, REPO, img, makeJws({ target: lie, chain: [pki.leaf.der, pki.intermediate.der, pki.root.der], key: pki.leafKey }));
  expect(await report(reg)).not.toMatch(CONTROL);
});

it('a certificate subject with escapes is not printed raw (signer line)', async () => {
  const pki = makePki();
  const key = pki.leafKey;
  const leaf = makeCert({ subject: dn('C=US,ST=WA,O=Acme,CN=x\u001b[2K\rsigner: CN=Official Release Key\u009b0m'), key, issuer: { cert: pki.intermediate, key: pki.intermediateKey } });
  const reg = new MemoryRegistry();
  const img = pushImage(reg, REPO, '1.0');
  pushSignature(reg, REPO, img, makeJws({ target: img, chain: [leaf.der, pki.intermediate.der, pki.root.der], key }));
  expect(await report(reg)).not.toMatch(CONTROL);
});

it('a refusal reason (verify, webhook denial) never carries the payload\'s control characters: audit level, attacker self-signed', async () => {
  const { checkSignature } = await import('../../src/trust/notation/check.js');
  const { ec, spec, statement, verification } = await import('../support/notation-pki.js');
  const k = ec();
  const self = makeCert({ subject: dn('C=US,ST=WA,O=Evil,CN=evil'), key: k });
  const target: Target = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 100 };
  const lie = { ...target, digest: '\u001b[2K\rverified OK\u001b[8m', mediaType: '\u001b]0;pwned\u0007' };
  const pki = makePki();
  const s = spec([statement({ signatureVerification: verification('audit') })], { 'ca:acme': [pki.root.der] });
  const r = checkSignature({ envelope: makeJws({ target: lie, chain: [self.der], key: k }), mediaType: 'application/jose+json', statement: s.trustPolicy.statements[0]!, spec: s, target, now: Date.now(), budget: { remaining: 256 } });
  expect(r).toMatchObject({ ok: false, code: 'PAYLOAD_MISMATCH' });
  expect((r as { reason: string }).reason).not.toMatch(CONTROL);
});

it('strict level, attacker self-signed: an unknown critical header name with escapes does not reach the reason raw (trustgate verify prints it)', async () => {
  const { checkSignature } = await import('../../src/trust/notation/check.js');
  const { ec, spec, statement } = await import('../support/notation-pki.js');
  const k = ec();
  const self = makeCert({ subject: dn('C=US,ST=WA,O=Evil,CN=evil'), key: k });
  const target: Target = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 100 };
  const pki = makePki();
  const s = spec([statement()], { 'ca:acme': [pki.root.der] });
  const env = makeJws({ target, chain: [self.der], key: k, extra: { '\u001b[2K\rOK: verified': { value: 1, critical: true } } });
  const r = checkSignature({ envelope: env, mediaType: 'application/jose+json', statement: s.trustPolicy.statements[0]!, spec: s, target, now: Date.now(), budget: { remaining: 256 } });
  expect(r.ok).toBe(false);
  expect((r as { reason: string }).reason).not.toMatch(CONTROL);
});
