// CPU cost of one cold verification from recorded notary-server metadata (no network), against
// the floor measured in the same run: the raw signature checks it cannot avoid.
//   npm run bench   (or: node dist/bench/verify-cpu.js)
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { clearParsedKeys } from '../src/trust/keys.js';
import { loadScenario } from '../test/support/fixtures.js';
import { verifyFiles } from '../test/support/verify-helpers.js';
import { fmt, summarise } from './stats.js';

async function coldVerify(files: Map<string, Buffer>, gun: string, now: number): Promise<void> {
  // A new client each time (verifyFiles makes one): nothing remembered, every signature checked again.
  await verifyFiles(files, `${gun}:1.0`, { now });
}

/**
 * The floor the issue names: five ECDSA P-256 signature checks with keys already imported.
 * (This fixture has four ECDSA signatures and one cheaper ed25519 one.)
 */
function floor(): () => void {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = createPublicKey({ key: publicKey.export({ format: 'der', type: 'spki' }), format: 'der', type: 'spki' });
  const message = Buffer.alloc(1500, 7);
  const signature = sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return () => {
    for (let i = 0; i < 5; i++) {
      if (!verify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, signature)) throw new Error('bad');
    }
  };
}

async function main(): Promise<void> {
  const { scenario, files, now } = loadScenario('releases');
  const baseline = floor();
  const rounds = 7;
  const perRound = 200;
  const verifyUs: number[] = [];
  const firstUs: number[] = [];
  const floorUs: number[] = [];
  for (let i = 0; i < 50; i++) await coldVerify(files, scenario.gun, now); // warm up the JIT
  for (let r = 0; r < rounds; r++) {
    // Interleave so both see the same machine load.
    let t = performance.now();
    for (let i = 0; i < perRound; i++) baseline();
    floorUs.push(((performance.now() - t) * 1000) / perRound);
    t = performance.now();
    for (let i = 0; i < perRound; i++) await coldVerify(files, scenario.gun, now);
    verifyUs.push(((performance.now() - t) * 1000) / perRound);
    t = performance.now();
    for (let i = 0; i < perRound; i++) {
      clearParsedKeys();
      await coldVerify(files, scenario.gun, now);
    }
    firstUs.push(((performance.now() - t) * 1000) / perRound);
  }
  const v = summarise(verifyUs);
  const first = summarise(firstUs);
  const f = summarise(floorUs);
  console.log('cold verification from recorded metadata (fixture: releases, tag 1.0; new TrustClient each time)');
  console.log(`  floor: 5 × ECDSA P-256 verify          median ${fmt(f.median)} µs  p90 ${fmt(f.p90)} µs`);
  console.log(`  keys never parsed before (first ever)  median ${fmt(first.median)} µs  p90 ${fmt(first.p90)} µs  = ${fmt(first.median / f.median, 2)}× floor`);
  console.log(`  keys parsed before (a running server)  median ${fmt(v.median)} µs  p90 ${fmt(v.p90)} µs  = ${fmt(v.median / f.median, 2)}× floor`);
}

await main();
