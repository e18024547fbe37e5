// The CLI's text output quotes what registries serve unverified (cosign: a certificate's claimed
// identity and issuer, the digest a payload names; Notation: the signer's subject, logged
// reasons) and refusal messages quoting the same. With terminal control sequences a registry
// could rewrite what the operator reads (erase the "ANOTHER IMAGE" warning, print a fake
// signer). Safe: no text output carries a control character (C0 other than the newlines the
// CLI writes itself, DEL, C1), and the warnings stay.
import { describeFailure } from '../../cmd/cli/errors.js';
import { reportText, verifiedText as cosignVerifiedText } from '../../cmd/cli/cosign.js';
import { verifiedText as notationVerifiedText } from '../../cmd/cli/notation.js';
import { TrustError, TrustErrorCode } from '../../src/trust/errors.js';
import type { Verified } from '../../src/trust/kind.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
const ESC = '\u001b[1A\u001b[2K\r  names:      this image\u009b0m\u0007';
const DIGEST = `sha256:${'a'.repeat(64)}`;

it('cosign inspect text: escapes in subject, issuer, named digest and problem are shown escaped; ANOTHER IMAGE stays', () => {
  const text = reportText({
    image: 'registry.test/team/app',
    digest: DIGEST,
    tag: '1.0',
    signatures: [
      { format: 'bundle', manifestDigest: DIGEST, signer: { subject: `ci${ESC}`, issuer: `https://issuer${ESC}` }, signedDigest: `sha256:${'b'.repeat(64)}${ESC}`, tlog: undefined },
      { format: 'legacy', manifestDigest: DIGEST, layer: 0, signer: { subject: undefined, issuer: undefined }, signedDigest: undefined, tlog: undefined, problem: `unreadable ${ESC}` },
    ],
  });
  expect(text).toContain('(ANOTHER IMAGE)');
  expect(text).toContain('\\u001b[2K');
  expect(text).not.toMatch(CONTROL);
});

it('cosign verify text: a claimed identity with escapes is shown escaped', () => {
  const v = { kind: 'cosign', image: 'registry.test/team/app', reference: 'registry.test/team/app:1.0', digest: DIGEST, evidence: { kind: 'cosign', signatures: [{ format: 'bundle', manifestDigest: DIGEST, identity: { subject: `ci${ESC}`, issuer: `https://issuer${ESC}` } }] } } as unknown as Verified;
  expect(cosignVerifiedText(v)).not.toMatch(CONTROL);
});

it('notation verify text: a signer subject and logged reasons with escapes are shown escaped', () => {
  const v = {
    kind: 'notation',
    image: 'registry.test/team/app',
    reference: 'registry.test/team/app:1.0',
    digest: DIGEST,
    evidence: { kind: 'notation', trustPolicy: 'p', level: 'permissive', logged: [`revocation: ${ESC}`], signatures: [{ envelope: 'jws', manifestDigest: DIGEST, signingScheme: 'notary.x509', signer: `CN=x${ESC}`, certificate: 'c', signedAt: undefined, expiry: undefined }] },
  } as unknown as Verified;
  expect(notationVerifiedText(v)).not.toMatch(CONTROL);
});

it('describeFailure (every CLI refusal on stderr): a reason quoting registry content is shown escaped', () => {
  const d = describeFailure(new TrustError(TrustErrorCode.SIGNATURE_INVALID, `no signature verified: ${ESC}`));
  expect(d.code).toBe('SIGNATURE_INVALID');
  expect(d.message).toContain('no signature verified');
  expect(d.message).not.toMatch(CONTROL);
  expect(describeFailure(new Error(`boom${ESC}`)).message).not.toMatch(CONTROL);
});
