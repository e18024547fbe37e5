// The parsed-certificate cache (certificates.ts): one parse per distinct DER, bounded, and the
// per-image parse budget counts only the certificates it did not have.
import { certificateCacheSize, clearCertificateCache, readCertificate } from '../../../../src/trust/notation/certificates.js';
import { CERTIFICATE_CACHE_ENTRIES } from '../../../../src/trust/notation/limits.js';
import { dn, ec, makeCert, makePki } from '../../../support/notation-pki.js';

beforeEach(() => clearCertificateCache());

it('a certificate read twice is parsed once: the second read is the same object and costs no parse budget', () => {
  const pki = makePki();
  const budget = { remaining: 0, parseBytes: 100_000 };
  const first = readCertificate(pki.leaf.der, 0, budget);
  const spent = 100_000 - budget.parseBytes;
  expect(spent).toBe(pki.leaf.der.length);
  expect(readCertificate(Buffer.from(pki.leaf.der), 0, budget)).toBe(first);
  expect(budget.parseBytes).toBe(100_000 - spent);
});

it('a certificate not cached is refused (TOO_LARGE) once the parse budget is spent; a malformed one stays malformed', () => {
  const pki = makePki();
  expect(readCertificate(pki.leaf.der, 0, { remaining: 0, parseBytes: 10 })).toMatchObject({ code: 'TOO_LARGE' });
  const junk = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]);
  expect(readCertificate(junk, 1)).toMatchObject({ code: 'SIGNATURE_INVALID' });
  expect(readCertificate(junk, 1)).toMatchObject({ code: 'SIGNATURE_INVALID', reason: 'certificate 1 of the chain is not a well-formed X.509 certificate' });
});

it(`holds at most ${CERTIFICATE_CACHE_ENTRIES} certificates, the least recently used dropped`, () => {
  const key = ec();
  const certs = Array.from({ length: CERTIFICATE_CACHE_ENTRIES + 20 }, (_, i) => makeCert({ subject: dn(`C=US,ST=WA,O=Acme,CN=c${i}`), key }).der);
  for (const [i, der] of certs.entries()) readCertificate(der, i);
  expect(certificateCacheSize()).toBe(CERTIFICATE_CACHE_ENTRIES);
  const budget = { remaining: 0, parseBytes: 1_000_000 };
  readCertificate(certs[certs.length - 1]!, 0, budget); // recent: cached
  expect(budget.parseBytes).toBe(1_000_000);
  readCertificate(certs[0]!, 0, budget); // dropped: parsed again
  expect(budget.parseBytes).toBe(1_000_000 - certs[0]!.length);
});
