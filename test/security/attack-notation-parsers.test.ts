// ATTACK (i11-nattack): parser tricks in what a tenant writes (PEM text of a trust store, DNs of
// trusted identities) and in COSE headers the registry serves. Safe: each is refused or read one
// way, quickly.
import { Guard } from '../../src/shared/guard.js';
import { readTrustStore } from '../../src/trust/notation/trust-store.js';
import { parseDistinguishedName } from '../../src/trust/notation/dn.js';
import { checkSignature } from '../../src/trust/notation/check.js';
import { cbor, makeCose, makePki, spec, statement, type Cbor, type Target } from '../support/notation-pki.js';
import { readCbor } from '../../src/trust/notation/cbor.js';

const target: Target = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 100 };

describe('PEM text of a tenant trust store', () => {
  it.each([
    ['64 BEGIN lines without END, padded to 256 KiB', () => ('-----BEGIN CERTIFICATE-----\n' + 'A'.repeat(4000) + '\n').repeat(64).padEnd(262_000, 'A')],
    ['64 BEGIN lines of distinct types, each followed by a near-miss END', () => Array.from({ length: 64 }, (_, i) => `-----BEGIN CERT${i}-----\n${'A\n'.repeat(1900)}-----END CERT${i}----\n`).join('').slice(0, 262_000)],
    ['one BEGIN then 256 KiB of whitespace and dashes', () => '-----BEGIN CERTIFICATE-----\n' + '- \n'.repeat(87_000)],
  ])('%s: refused within 200 ms', (_what, make) => {
    const text = make();
    expect(text.length).toBeLessThanOrEqual(262_144);
    const g = new Guard(100);
    const t = performance.now();
    const store = readTrustStore(g, { type: 'ca', name: 'x' }, text, 'certificates');
    const took = performance.now() - t;
    expect(store).toBeUndefined();
    expect(took).toBeLessThan(200);
  });
});

describe('trusted identity DNs', () => {
  it.each([
    ['1,000 backslashes', 'C=US,ST=WA,O=' + '\\'.repeat(1000)],
    ['alternating escapes', 'C=US,ST=WA,O=' + '\\2'.repeat(330)],
    ['many empty RDNs', ','.repeat(1000)],
    ['a value of plus signs (multi-valued RDN)', 'C=US,ST=WA,O=a+OU=b'],
    ['BER hex value', 'C=US,ST=WA,O=#0403414243'],
  ])('%s: read quickly, never throws', (_what, text) => {
    const t = performance.now();
    expect(() => parseDistinguishedName(text)).not.toThrow();
    expect(performance.now() - t).toBeLessThan(50);
  });
});

describe('COSE headers where the signature does not reach', () => {
  const pki = makePki();
  const s = spec([statement()], { 'ca:acme': [pki.root.der] });
  const chain = [pki.leaf.der, pki.intermediate.der, pki.root.der];
  const check = (envelope: Buffer) => checkSignature({ envelope, mediaType: 'application/cose', statement: s.trustPolicy.statements[0]!, spec: s, target, now: Date.now(), budget: { remaining: 256 } });

  /** Re-wraps a genuine COSE envelope with `unprot` entries added (the signature is unchanged). */
  function withUnprotected(extra: [number | string, Cbor][]): Buffer {
    const msg = readCbor(makeCose({ target, chain, key: pki.leafKey }), [18, 1]) as { tag: number; value: [Buffer, Map<number | string, Cbor>, Buffer, Buffer] };
    const [prot, unprot, payload, sig] = msg.value;
    const u = new Map(unprot);
    for (const [k, v] of extra) u.set(k, v);
    return cbor({ tag: 18, value: [prot, u, payload, sig] });
  }

  it('the genuine envelope verifies (control)', () => {
    expect(check(withUnprotected([]))).toMatchObject({ ok: true });
  });

  it('an unprotected expiry in the past does not change the signed answer (ignored, not read as the expiry)', () => {
    const r = check(withUnprotected([['io.cncf.notary.expiry', { tag: 1, value: 1 }]]));
    // Either ignored (ok) or refused; never read as the signed expiry and then admitted with a different one.
    if (r.ok) expect(r.evidence.expiry).toBeUndefined();
  });

  it('an unprotected alg or content type beside the protected one is refused (one label, two places)', () => {
    expect(check(withUnprotected([[1, -35]]))).toMatchObject({ ok: false });
    expect(check(withUnprotected([[3, 'application/json']]))).toMatchObject({ ok: false });
  });

  it('an unprotected signing scheme naming signingAuthority does not change the scheme read', () => {
    const r = check(withUnprotected([['io.cncf.notary.signingScheme', 'notary.x509.signingAuthority']]));
    expect(r.ok).toBe(false); // both protected and unprotected: refused
  });

  it('a second x5chain in text label "33" is not read as the chain', () => {
    const other = makePki();
    const r = check(withUnprotected([['33', [other.leaf.der, other.intermediate.der, other.root.der]]]));
    if (r.ok) expect(r.evidence.signer).toContain('acme-signer');
  });
});
