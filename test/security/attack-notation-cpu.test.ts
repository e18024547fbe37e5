// ATTACK (i11-nattack): the CPU a registry can make one image's Notation verification spend, and
// how long it can hold the event loop. The attacker's registry serves 100 signature manifests
// (the most examined), each a JWS of ~240 KiB whose x5c is 10 certificates of ~16 KiB, each
// certificate padded with an unknown non-critical extension of thousands of tiny ASN.1 items:
// every one is parsed (node:crypto and @sigstore/core) before the public-key budget is looked at.
// Safe: the verification ends refused, the event loop is never held for long, and the whole image
// costs bounded CPU: limits.ts MAX_KEY_OPERATIONS says 100 signatures with chains of 10 would cost
// "some 0.5 s"; this asserts twice that. FINDING when it fails: certificate parsing is not
// counted by the key-operation budget (readCertificate runs for all ten x5c entries of every
// signature before the budget is consulted), so ~3.5 ms per 16 KiB certificate × 1,000 = 3-4 s of
// event-loop CPU per image, for ~25 MB served by the attacker's registry.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createPublicKey, sign } from 'node:crypto';
import { parseReference } from '../../src/reference/index.js';
import { readCertificate } from '../../src/trust/notation/certificates.js';
import { NotationVerifier } from '../../src/trust/notation/verifier.js';
import { refusal } from '../support/cosign-verify.js';
import { MemoryRegistry } from '../support/memory-registry.js';
import { ec, makeJws, makePki, oid, pushImage, pushSignature, spec, statement, tlv } from '../support/notation-pki.js';

const REPO = 'team/app';
const NAME = `registry.test:5000/${REPO}`;
const pki = makePki();
const s = spec([statement()], { 'ca:acme': [pki.root.der] });

const seq = (...b: Buffer[]) => tlv(0x30, ...b);
/** A self-signed EC certificate with one extra extension of `items` NULLs (2 bytes each). */
function fatCert(items: number): Buffer {
  const key = ec();
  const name = seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from('fat')))));
  const algId = seq(oid('1.2.840.10045.4.3.2'));
  const t = (d: Date) => tlv(0x17, Buffer.from(d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'));
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const nulls = Buffer.alloc(items * 2);
  for (let i = 0; i < items; i++) nulls[i * 2] = 0x05;
  const ext = seq(oid('1.2.3.4.5.6.7'), tlv(0x04, seq(nulls)));
  const ku = seq(oid('2.5.29.15'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, tlv(0x03, Buffer.from([7, 0x80]))));
  const tbs = seq(tlv(0xa0, tlv(0x02, Buffer.from([2]))), tlv(0x02, Buffer.from([1])), algId, name, seq(t(new Date(Date.now() - 3600_000)), t(new Date(Date.now() + 86400_000))), name, spki, tlv(0xa3, seq(ku, ext)));
  return seq(tbs, algId, tlv(0x03, Buffer.from([0]), sign('sha256', tbs, key)));
}

it('100 signatures of 10 fat certificates each: refused, loop never held > 100 ms, < 1 s of verification in all', async () => {
  const cert = fatCert(7900);
  expect(cert.length).toBeLessThanOrEqual(16 * 1024);
  expect('code' in readCertificate(cert, 0)).toBe(false);
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) readCertificate(cert, 0);
  const perCert = (performance.now() - t0) / 20;

  const reg = new MemoryRegistry();
  const img = pushImage(reg, REPO, '1.0');
  for (let i = 0; i < 100; i++) {
    const env = makeJws({ target: img, chain: Array.from({ length: 10 }, () => cert), key: ec(), extra: { [`n${i}`]: { value: i, critical: false } } });
    expect(env.length).toBeLessThanOrEqual(256 * 1024);
    pushSignature(reg, REPO, img, env);
  }
  const h = monitorEventLoopDelay({ resolution: 5 });
  let maxGap = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 1);
  h.enable();
  const start = performance.now();
  const r = await refusal(new NotationVerifier(reg).verify(parseReference(`${NAME}:1.0`), s, { credentials: undefined, signal: new AbortController().signal, timeoutMs: 60_000 }));
  const took = performance.now() - start;
  clearInterval(timer);
  h.disable();
  console.log(`per fat cert ${perCert.toFixed(2)} ms; verify ${took.toFixed(0)} ms; max gap ${maxGap.toFixed(0)} ms; loop delay max ${(h.max / 1e6).toFixed(0)} ms; code ${r.code}`);
  expect(r.code).not.toBe('OK');
  expect(maxGap).toBeLessThan(100);
  expect(took).toBeLessThan(1000);
}, 120_000);
