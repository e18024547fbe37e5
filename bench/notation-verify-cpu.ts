// CPU of one cold Notation verification in-process (issue 11: ≤ 2 ms), JWS and COSE, RSA-3072
// and P-256 leaves under root → intermediate (a 3-certificate chain in every envelope), against
// the floor measured in the same run: one signature check of the leaf's key type (RSASSA-PSS
// SHA-384 for RSA-3072, ECDSA SHA-256 for P-256: the spec's "Signature Algorithm Requirements"),
// and, beside it, every public-key operation the verification cannot avoid: that check plus the
// chain's three certificate signatures (leaf by the intermediate, intermediate by the root, the
// root by itself, as notation-core-go's chain check does), keys imported once. The test PKI's
// intermediate CA has a P-384 key, whose check alone costs ~10 P-256 checks.
//
// The fixtures are real notation-go output, made fresh at start rather than recorded: notation-go
// (test/tools/notation-tool, v1.3) signs images pushed to go-containerregistry's registry (the
// referrers API), and what that registry then serves (image manifest, signature manifests,
// envelope blobs) is copied into an in-memory registry the timed runs read. Recorded envelopes
// would stop verifying when the test PKI's certificates expire (and notation-go refuses to sign
// with a certificate whose validity has not begun or has ended, so a long-lived recorded PKI
// would still need regenerating by hand); signing at start costs a few seconds and the test tools
// scripts/bench.sh builds anyway.
//   npm run bench   (or: npm run build && node dist/bench/notation-verify-cpu.js)
import { constants, createPublicKey, generateKeyPairSync, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseReference } from '../src/reference/index.js';
import { clearCertificateCache } from '../src/trust/notation/certificates.js';
import { notationSpecOf } from '../src/trust/notation/spec.js';
import type { NotationSpec } from '../src/trust/notation/types.js';
import { NotationVerifier } from '../src/trust/notation/verifier.js';
import { MemoryRegistry } from '../test/support/memory-registry.js';
import { notationPki, notationSign, notationTrustPolicy, notationVerify, writeNotationConfig, type NotationEnvelope, type NotationSigner } from '../test/support/notation.js';
import { pushImage, registryRequest, startReferrersRegistry, type RegistryServer } from '../test/support/registries.js';
import { fmt, summarise } from './stats.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

interface Case {
  readonly name: string;
  readonly envelope: NotationEnvelope;
  readonly leaf: 'rsa3072' | 'p256';
}

const CASES: readonly Case[] = [
  { name: 'jws-rsa3072', envelope: 'jws', leaf: 'rsa3072' },
  { name: 'cose-rsa3072', envelope: 'cose', leaf: 'rsa3072' },
  { name: 'jws-p256', envelope: 'jws', leaf: 'p256' },
  { name: 'cose-p256', envelope: 'cose', leaf: 'p256' },
];

async function fetchOk(registry: RegistryServer, at: string, accept: string): Promise<Buffer> {
  const res = await registryRequest(registry, at, { headers: { Accept: accept } });
  if (res.status !== 200) throw new Error(`${at}: ${res.status}`);
  return res.body;
}

/** Copies the image, its Notation signature manifests and their envelopes from `registry` into `memory`. */
async function copyInto(memory: MemoryRegistry, registry: RegistryServer, repository: string, tag: string, digest: string): Promise<void> {
  memory.putManifest(repository, await fetchOk(registry, `/v2/${repository}/manifests/${digest}`, OCI_MANIFEST), tag);
  const index = JSON.parse((await fetchOk(registry, `/v2/${repository}/referrers/${digest}`, 'application/vnd.oci.image.index.v1+json')).toString('utf8')) as { manifests?: { digest: string }[] };
  for (const { digest: sig } of index.manifests ?? []) {
    const bytes = await fetchOk(registry, `/v2/${repository}/manifests/${sig}`, OCI_MANIFEST);
    memory.putManifest(repository, bytes);
    for (const layer of (JSON.parse(bytes.toString('utf8')) as { layers: { digest: string }[] }).layers) {
      memory.putBlob(await fetchOk(registry, `/v2/${repository}/blobs/${layer.digest}`, '*/*'));
    }
  }
}

/** The one signature check a Notation signature by this key type cannot avoid. */
function floor(leaf: Case['leaf']): () => void {
  const message = Buffer.alloc(600, 7);
  if (leaf === 'p256') {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = reimport(publicKey);
    const signature = sign('sha256', message, privateKey);
    return () => {
      if (!verify('sha256', message, key, signature)) throw new Error('bad');
    };
  }
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
  const key = reimport(publicKey);
  const pss = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 };
  const signature = sign('sha384', message, { key: privateKey, ...pss });
  return () => {
    if (!verify('sha384', message, { key, ...pss }, signature)) throw new Error('bad');
  };
}

/** The chain's three certificate signature checks (X509Certificate.verify, keys imported once). */
function chainChecks(leafFile: string, intermediateFile: string, rootFile: string): () => void {
  const [leaf, intermediate, root] = [leafFile, intermediateFile, rootFile].map((f) => new X509Certificate(readFileSync(f)));
  const [intermediateKey, rootKey] = [reimport(intermediate!.publicKey), reimport(root!.publicKey)];
  return () => {
    if (!leaf!.verify(intermediateKey) || !intermediate!.verify(rootKey) || !root!.verify(rootKey)) throw new Error('bad chain');
  };
}

function reimport(publicKey: KeyObject): KeyObject {
  return createPublicKey({ key: publicKey.export({ format: 'der', type: 'spki' }), format: 'der', type: 'spki' });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-bench-notation-'));
  const registry = await startReferrersRegistry(dir);
  try {
    const pki = await notationPki();
    const policy = notationTrustPolicy();
    const config = await writeNotationConfig(path.join(dir, 'notation'), policy);
    // The spec compiled once, as a policy holds it: the trust policy and the ca:acme store (the root).
    const compiled = notationSpecOf(policy, [{ ref: { type: 'ca', name: 'acme' }, pem: readFileSync(pki.rootCa, 'utf8') }], { insecure: true, caBundle: undefined });
    if ('problems' in compiled) throw new Error(compiled.problems.join('; '));
    const spec: NotationSpec = compiled.spec;

    const memory = new MemoryRegistry();
    const images = new Map<string, string>();
    for (const c of CASES) {
      const signer: NotationSigner = pki[c.leaf];
      const image = await pushImage(registry, `bench/${c.name}`, '1.0', `notation bench: ${c.name}`, dir);
      await notationSign(image, signer, registry, { envelope: c.envelope, storage: 'referrers' });
      // The reference verdict first: the fixture is one notation-go verifies.
      const verdict = await notationVerify(image.tagged, config, registry);
      if (!verdict.verified) throw new Error(`${c.name}: notation-go does not verify its own fixture: ${verdict.error}`);
      await copyInto(memory, registry, image.repository, '1.0', image.digest);
      images.set(c.name, image.tagged);
    }

    const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
    console.log(`cold Notation verification in-process (real notation-go v1.3 output signed at start; in-memory registry; a new verifier each time, the spec compiled once as a policy holds it); load ${load}, ${os.cpus().length} cores`);
    for (const c of CASES) {
      const ref = parseReference(images.get(c.name)!);
      const run = async () => {
        clearCertificateCache(); // cold: no certificate of the chain parsed before
        const v = await new NotationVerifier(memory).verify(ref, spec, { credentials: undefined, signal: new AbortController().signal, timeoutMs: 5000 });
        if (v.unchecked) throw new Error(`${c.name}: not verified`);
      };
      const baseline = floor(c.leaf);
      const chain = chainChecks(pki[c.leaf].cert, pki.intermediateCa, pki.rootCa);
      for (let i = 0; i < 100; i++) await run(); // warm up the JIT
      const cpuUs: number[] = [];
      const floorUs: number[] = [];
      const allOpsUs: number[] = [];
      for (let r = 0; r < 7; r++) {
        let t = performance.now();
        for (let i = 0; i < 200; i++) baseline();
        floorUs.push(((performance.now() - t) * 1000) / 200);
        t = performance.now();
        for (let i = 0; i < 200; i++) {
          baseline();
          chain();
        }
        allOpsUs.push(((performance.now() - t) * 1000) / 200);
        const cpu = process.cpuUsage();
        t = performance.now();
        for (let i = 0; i < 200; i++) await run();
        const used = process.cpuUsage(cpu);
        cpuUs.push((used.user + used.system) / 200);
      }
      const v = summarise(cpuUs);
      const f = summarise(floorUs);
      const ops = summarise(allOpsUs);
      const check = c.leaf === 'p256' ? 'ECDSA P-256' : 'RSA-3072 PSS';
      console.log(`  ${c.name.padEnd(13)} median ${fmt(v.median)} µs CPU  p90 ${fmt(v.p90)} µs  = ${fmt(v.median / f.median, 2)}× one ${check} check (${fmt(f.median)} µs)`
        + ` = ${fmt(v.median / ops.median, 2)}× its 4 public-key operations (${fmt(ops.median)} µs); budget 2000 µs: ${v.median <= 2000 ? 'met' : 'NOT met'}`);
    }
  } finally {
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
