// After notary-server comes back, everything recovers without restarting trustgate (issue 12):
// the durable stack (notary-server and notary-signer on PostgreSQL, test/support/stack.ts) is
// killed with SIGKILL and started again; the same TrustClient and cache then verify an image
// seen before (while down: on its last answer, an unseen tag refused naming the outage), and a tag
// the publisher signs after the restart (a new timestamp, signed with the key notary-signer kept)
// verifies. A memory notary-server could not show this: it restarts empty, with new keys.
import { STALE_ANSWER } from '../../src/admission/index.js';
import { stackDecider } from '../support/stack-decider.js';
import { TrustStack } from '../support/stack.js';

const DIGEST = `sha256:${'b'.repeat(64)}`;
const OTHER = `sha256:${'c'.repeat(64)}`;
let stack: TrustStack;
const gun = '127.0.0.1:5000/restart/app';

beforeAll(async () => {
  stack = await TrustStack.start({ registry: false, durable: true });
  await stack.init(gun);
  await stack.sign(gun, '1.0', { digest: DIGEST, size: 1234 });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

it('a killed notary-server restarted on its data serves the same trust: verified again without restarting trustgate, and new signatures verify', async () => {
  const decider = stackDecider(stack, gun, { maxTtlMs: 60_000, negativeTtlMs: 0 });
  const admit = decider.admit;
  try {
    expect(await admit('1.0')).toMatchObject({ allowed: true, reasons: [] });

    await stack.stopNotary({ kill: true });
    decider.advance(61_000);
    const during = await admit('1.0');
    expect(during).toMatchObject({ allowed: true, reasons: [STALE_ANSWER] });
    const unseen = await admit('3.0');
    expect(unseen.allowed).toBe(false);
    expect(unseen.message).toMatch(/UNREACHABLE/);

    await stack.startNotary();
    decider.advance(61_000);
    const after = await admit('1.0');
    // Verified afresh (no stale warning), pinned to the same signed digest.
    expect(after).toMatchObject({ allowed: true, reasons: [], warnings: [] });
    expect(after.patch.some((p) => p.value === `${gun}:1.0@${DIGEST}`)).toBe(true);

    await stack.sign(gun, '2.0', { digest: OTHER, size: 99 });
    const fresh = await admit('2.0');
    expect(fresh).toMatchObject({ allowed: true, reasons: [] });
    expect(fresh.patch.some((p) => p.value === `${gun}:2.0@${OTHER}`)).toBe(true);
  } finally {
    decider.close();
  }
}, 120_000);
