// CPU of one cold cosign verification in-process (issue 10: ≤ 2 ms, keyed, legacy and bundle),
// from real cosign output (test/fixtures/cosign/keyed) served by an in-memory registry, against
// the floor measured in the same run: the one ECDSA P-256 check a signature cannot avoid.
//   npm run bench   (or: node dist/bench/cosign-verify-cpu.js)
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseReference } from '../src/reference/index.js';
import { CosignVerifier, parseCosignAuthority, type CosignSpec } from '../src/trust/cosign/index.js';
import { LEGACY, legacyRegistry, TRUSTED_ROOT } from '../test/support/cosign-fixtures.js';
import { MemoryRegistry } from '../test/support/memory-registry.js';
import { fmt, summarise } from './stats.js';

interface Recorded {
  registry: string;
  repository: string;
  publicKey: string;
  registryContents: Parameters<MemoryRegistry['load']>[1];
}

function setup(name: string): { registry: MemoryRegistry; image: string; spec: CosignSpec } {
  const f = JSON.parse(readFileSync(`test/fixtures/cosign/keyed/${name}.json`, 'utf8')) as Recorded;
  const registry = new MemoryRegistry();
  registry.load(f.repository, f.registryContents);
  const parsed = parseCosignAuthority({ keys: [f.publicKey], tlog: { required: false } }, 'bench');
  if ('problems' in parsed) throw new Error(parsed.problems.join('; '));
  return { registry, image: `${f.registry}/${f.repository}:1.0`, spec: parsed.spec };
}

function floor(): () => void {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = createPublicKey({ key: publicKey.export({ format: 'der', type: 'spki' }), format: 'der', type: 'spki' });
  const message = Buffer.alloc(300, 7);
  const signature = sign('sha256', message, privateKey);
  return () => {
    if (!verify('sha256', message, key, signature)) throw new Error('bad');
  };
}

/**
 * Keyless (for information; no budget): the recorded public-good signature (cosign 2.0, Fulcio
 * certificate, Rekor SET; test/fixtures/cosign/README.md), its chain, SCT, SET and identity checked
 * against a trusted root parsed once, as a policy holds it.
 */
function keyless(trustedRoot: string | undefined): { registry: MemoryRegistry; image: string; spec: CosignSpec } {
  const parsed = parseCosignAuthority({ keyless: { identities: [{ issuer: LEGACY.issuer, subject: LEGACY.identity }], ...(trustedRoot !== undefined && { trustedRoot }) } }, 'bench');
  if ('problems' in parsed) throw new Error(parsed.problems.join('; '));
  return { registry: legacyRegistry(), image: `${LEGACY.name}@${LEGACY.digest}`, spec: parsed.spec };
}

async function main(): Promise<void> {
  const baseline = floor();
  console.log('cold cosign verification in-process (real cosign output; in-memory registry; a new verifier each time, trust material parsed once as a policy holds it)');
  const cases: [string, () => { registry: MemoryRegistry; image: string; spec: CosignSpec }][] = [
    ['ecdsa-p256-legacy', () => setup('ecdsa-p256-legacy')],
    ['ecdsa-p256-bundle', () => setup('ecdsa-p256-bundle')],
    ['keyless-legacy', () => keyless(TRUSTED_ROOT)],
    ['keyless-public-good', () => keyless(undefined)],
  ];
  for (const [name, make] of cases) {
    const { registry, image, spec } = make();
    const ref = parseReference(image);
    const run = () => new CosignVerifier(registry).verify(ref, spec, { credentials: undefined, signal: new AbortController().signal, timeoutMs: 5000 });
    for (let i = 0; i < 100; i++) await run(); // warm up the JIT
    const cpuUs: number[] = [];
    const floorUs: number[] = [];
    for (let r = 0; r < 7; r++) {
      let t = performance.now();
      for (let i = 0; i < 200; i++) baseline();
      floorUs.push(((performance.now() - t) * 1000) / 200);
      const cpu = process.cpuUsage();
      t = performance.now();
      for (let i = 0; i < 200; i++) await run();
      const used = process.cpuUsage(cpu);
      cpuUs.push((used.user + used.system) / 200);
    }
    const v = summarise(cpuUs);
    const f = summarise(floorUs);
    const budget = name.startsWith('keyless') ? 'no budget (information)' : `budget 2000 µs: ${v.median <= 2000 ? 'met' : 'NOT met'}`;
    console.log(`  ${name.padEnd(19)} median ${fmt(v.median)} µs CPU  p90 ${fmt(v.p90)} µs  = ${fmt(v.median / f.median, 2)}× one ECDSA check (${fmt(f.median)} µs); ${budget}`);
  }
}

await main();
