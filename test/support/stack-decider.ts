// decide() against a TrustStack's notary-server, as serve would call it, with the clock the cache
// reads in the test's hands: outage tests move it past maxTtl instead of waiting.
import { readFileSync } from 'node:fs';
import { CachingVerifier, decide, parseReview, type Decision } from '../../src/admission/index.js';
import { PolicySet } from '../../src/policy/index.js';
import { TrustClient } from '../../src/trust/index.js';
import { policy } from './policies.js';
import { review, workload } from './reviews.js';
import type { TrustStack } from './stack.js';

export interface StackDecider {
  /** A pod of `${gun}:${tag}` reviewed on /mutate. */
  admit: (tag: string) => Promise<Decision>;
  /** Moves the cache's clock forward. */
  advance: (ms: number) => void;
  now: () => number;
  close: () => void;
}

export function stackDecider(stack: TrustStack, gun: string, cache: { maxTtlMs: number; negativeTtlMs: number }): StackDecider {
  let clock = Date.now();
  const client = new TrustClient({ requestTimeoutMs: 2000 });
  const verifier = new CachingVerifier(client, { maxEntries: 100, maxBytes: 1 << 20, ...cache, timeoutMs: 5000, servers: {}, now: () => clock }, { hit() {}, miss() {}, evicted() {}, size() {}, verified() {} });
  const notary = policy('notary', ['**'], { trust: { server: stack.notaryUrl, caBundle: readFileSync(stack.tls.caCert, 'utf8'), trustOnFirstUse: true } });
  const ctx = { policies: new PolicySet([notary]), verifier, defaultAction: 'deny', mutateWorkloads: false, deadlineMs: 4000, credentialsFor: () => undefined } as const;
  return {
    admit: (tag) => decide(parseReview(review('Pod', workload('Pod', 'web', { containers: [{ name: 'app', image: `${gun}:${tag}` }] }))), 'mutate', ctx),
    advance: (ms) => {
      clock += ms;
    },
    now: () => clock,
    close: () => client.close(),
  };
}
