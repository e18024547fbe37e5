// Through outages against Debian's notary-server (issue 12, docs/adr/0014): with the server
// stopped, an image verified before is still admitted and pinned, with the warning, until the
// metadata behind it expires; one never verified is refused, naming the outage. Real
// notary-server and notary CLI, TrustClient, CachingVerifier and decide(); the clock the cache
// reads is injected so that "past maxTtl" and "past the timestamp's expiry" take no waiting.
import { STALE_ANSWER } from '../../src/admission/index.js';
import { stackDecider } from '../support/stack-decider.js';
import { TrustStack } from '../support/stack.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
let stack: TrustStack;
let gun: string;

beforeAll(async () => {
  stack = await TrustStack.start({ registry: false });
  gun = '127.0.0.1:5000/outage/app';
  await stack.init(gun);
  await stack.sign(gun, '1.0', { digest: DIGEST, size: 1234 });
  await stack.sign(gun, '2.0', { digest: DIGEST, size: 1234 });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

it('with notary-server stopped, a verified image is admitted and pinned with a warning until its metadata expires; an unseen one is refused', async () => {
  const decider = stackDecider(stack, gun, { maxTtlMs: 300_000, negativeTtlMs: 10_000 });
  const admit = decider.admit;
  try {
    const first = await admit('1.0');
    expect(first).toMatchObject({ allowed: true, warnings: [] });
    const expires = first.containers[0]!.verified!.expires;
    // notary-server's timestamp lasts 14 days: the answer may stand in about that long.
    expect(expires - decider.now()).toBeGreaterThan(13 * 86_400_000);

    await stack.stopNotary();
    decider.advance(301_000);
    const during = await admit('1.0');
    expect(during.allowed).toBe(true);
    expect(during.reasons).toEqual([STALE_ANSWER]);
    expect(during.warnings[0]).toMatch(/admitted on its last verified answer: its trust server or registry could not be asked \(UNREACHABLE\)/);
    expect(during.patch.some((p) => p.value === `${gun}:1.0@${DIGEST}`)).toBe(true);

    const unseen = await admit('2.0');
    expect(unseen.allowed).toBe(false);
    expect(unseen.message).toMatch(/UNREACHABLE: cannot reach/);

    decider.advance(expires + 1 - decider.now());
    const expired = await admit('1.0');
    expect(expired.allowed).toBe(false);
    expect(expired.message).toMatch(/UNREACHABLE/);
  } finally {
    decider.close();
  }
});
