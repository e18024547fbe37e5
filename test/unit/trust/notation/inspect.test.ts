// inspect: what an image's Notation signatures say, without any trust policy.
import { parseReference } from '../../../../src/reference/index.js';
import { formatNotationReport, inspectNotation } from '../../../../src/trust/notation/inspect.js';
import { MemoryRegistry } from '../../../support/memory-registry.js';
import { makeCose, makeJws, makePki, pushImage, pushSignature } from '../../../support/notation-pki.js';

const REPO = 'team/app';
const conn = { registry: 'registry.test:5000', insecure: true, caBundle: undefined, credentials: undefined, signal: undefined, timeoutMs: 5000 };

it('lists each signature: envelope, scheme, chain, times, what the payload names; and junk as unreadable', async () => {
  const pki = makePki();
  const reg = new MemoryRegistry();
  const target = pushImage(reg, REPO, '1.0');
  const other = pushImage(reg, REPO, '2.0', 'other');
  const expiry = Math.floor((Date.now() + 86400_000) / 1000) * 1000;
  const chain = [pki.leaf.der, pki.intermediate.der, pki.root.der];
  pushSignature(reg, REPO, target, makeJws({ target, chain, key: pki.leafKey, expiry }));
  pushSignature(reg, REPO, target, makeCose({ target: other, chain, key: pki.leafKey, scheme: 'notary.x509.signingAuthority' }), 'application/cose');
  pushSignature(reg, REPO, target, Buffer.from('junk'));
  const report = await inspectNotation(reg, conn, parseReference(`registry.test:5000/${REPO}:1.0`));
  expect(report).toMatchObject({ image: `registry.test:5000/${REPO}`, digest: target.digest, tag: '1.0' });
  const bySchemes = report.signatures.map((s) => [s.envelope, s.signingScheme, s.signedDigest]);
  expect(bySchemes).toEqual(expect.arrayContaining([['jws', 'notary.x509', target.digest], ['cose', 'notary.x509.signingAuthority', other.digest], [undefined, undefined, undefined]]));
  const jws = report.signatures.find((s) => s.envelope === 'jws')!;
  expect(jws.chain.map((c) => c.subject)).toEqual([expect.stringContaining('CN=acme-signer'), expect.stringContaining('CN=Acme Intermediate'), expect.stringContaining('CN=Acme Root')]);
  expect(jws.expiry).toBe(new Date(expiry).toISOString());
  expect(report.signatures.find((s) => s.envelope === undefined)?.problem).toMatch(/^SIGNATURE_INVALID/);
  const text = formatNotationReport(report);
  expect(text).toContain('3 Notation signatures');
  expect(text).toContain('payload names: this image');
  expect(text).toContain(`payload names: ANOTHER image, ${other.digest}`);
});
