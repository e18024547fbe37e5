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
// Second test: 100 signature manifests of just under 4 MiB (MAX_MANIFEST_BYTES) and 50,000 JSON
// values each cost ~50 ms apiece to shape-check and parse, ~5 s and 400 MiB read per image.
// Measured as this process's CPU time, not wall time: the machine is shared (CI runs suites in
// parallel), and a preempted process's wall time says nothing of the work it did. That the event
// loop is not held for a whole verification is shown by a 1 ms timer still firing during it.
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

/** CPU milliseconds of this process (user + system) since `from`. */
const cpuMs = (from: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
};

/** Counts a 1 ms timer's firings while `work` runs: how often the event loop got a turn. */
async function loopTurns<T>(work: () => Promise<T>): Promise<{ result: T; turns: number; cpu: number }> {
  let turns = 0;
  const timer = setInterval(() => turns++, 1);
  const from = process.cpuUsage();
  try {
    const result = await work();
    return { result, turns, cpu: cpuMs(from) };
  } finally {
    clearInterval(timer);
  }
}

it('100 signatures of 10 fat certificates each: refused, with the event loop served meanwhile, < 1 s of CPU in all', async () => {
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
  const { result: r, turns, cpu } = await loopTurns(() => refusal(new NotationVerifier(reg).verify(parseReference(`${NAME}:1.0`), s, { credentials: undefined, signal: new AbortController().signal, timeoutMs: 60_000 })));
  console.log(`per fat cert ${perCert.toFixed(2)} ms; verify ${cpu.toFixed(0)} ms CPU; loop turns ${turns}; code ${r.code}`);
  expect(r.code).not.toBe('OK');
  expect(turns).toBeGreaterThan(0);
  expect(cpu).toBeLessThan(1000);
}, 120_000);

it('100 signatures of 10 DISTINCT fat certificates each (no two alike, so no cache hit): the per-image parse budget bounds it', async () => {
  const reg = new MemoryRegistry();
  const img = pushImage(reg, REPO, '1.0');
  for (let i = 0; i < 100; i++) {
    const chain = Array.from({ length: 10 }, () => fatCert(7900));
    pushSignature(reg, REPO, img, makeJws({ target: img, chain, key: ec() }));
  }
  const { result: r, turns, cpu } = await loopTurns(() => refusal(new NotationVerifier(reg).verify(parseReference(`${NAME}:1.0`), s, { credentials: undefined, signal: new AbortController().signal, timeoutMs: 60_000 })));
  console.log(`distinct fat certs: verify ${cpu.toFixed(0)} ms CPU; loop turns ${turns}; code ${r.code}`);
  expect(r.code).not.toBe('OK');
  expect(r.message).toContain('may have parsed are spent');
  expect(turns).toBeGreaterThan(0);
  expect(cpu).toBeLessThan(1000);
}, 120_000);

it('signature manifests of 4 MiB each (notation-go\'s maxManifestSizeLimit): the per-manifest cost, 20 of them, extrapolated to 100 under 1 s', async () => {
  const reg = new MemoryRegistry();
  const img = pushImage(reg, REPO, '1.0');
  const env = makeJws({ target: img, chain: [pki.leaf.der, pki.intermediate.der, pki.root.der], key: pki.leafKey, tamper: (x) => Buffer.from(x.map((b) => b ^ 1)) });
  const blob = reg.putBlob(env);
  const empty = reg.putBlob(Buffer.from('{}'));
  const N = 20;
  for (let i = 0; i < N; i++) {
    // 49,000 annotation values of ~80 bytes: just under the JSON value bound, just under 4 MiB.
    const annotations: Record<string, string> = {};
    for (let j = 0; j < 24_000; j++) annotations[`k${i}.${j}`] = 'x'.repeat(160);
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.cncf.notary.signature', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty.digest, size: 2 }, layers: [{ mediaType: 'application/jose+json', digest: blob.digest, size: blob.size }], subject: img, annotations }));
    expect(bytes.length).toBeLessThanOrEqual(4 * 1024 * 1024);
    reg.putManifest(REPO, bytes);
  }
  // The in-memory registry lists referrers by parsing every manifest it holds (~18 ms per 4 MiB
  // one): a registry's work, not trustgate's, so it is listed once before the clock starts.
  const conn = { registry: 'registry.test:5000', insecure: true, caBundle: undefined, credentials: undefined, signal: new AbortController().signal, timeoutMs: 5000 };
  const listed = await reg.referrers(conn, REPO, img.digest, 'application/vnd.cncf.notary.signature', 1000);
  expect(listed).toHaveLength(N);
  const served = Object.assign(Object.create(reg) as MemoryRegistry, { referrers: () => Promise.resolve(listed) });
  const from = process.cpuUsage();
  const r = await refusal(new NotationVerifier(served).verify(parseReference(`${NAME}:1.0`), s, { credentials: undefined, signal: new AbortController().signal, timeoutMs: 60_000 }));
  const took = cpuMs(from);
  expect(r.code).not.toBe('OK');
  console.log(`${N} manifests of ~4 MiB: ${took.toFixed(0)} ms CPU (${(took / N).toFixed(1)} ms each; ×100 ≈ ${((took / N) * 100).toFixed(0)} ms); code ${r.code}`);
  expect((took / N) * 100).toBeLessThan(1000);
}, 120_000);
