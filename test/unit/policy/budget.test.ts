// The namespace budget's running total (src/policy/budget.ts): what it counts and what it refuses.
import { BudgetUsage, CLUSTER_BUDGET, NAMESPACE_BUDGET, rawCost } from '../../../src/policy/index.js';

const root = (id: string, bytes: number) => ({ id, bytes });

it('counts a trusted root once however many authorities name it, and a refused object not at all', () => {
  const usage = new BudgetUsage({ policies: 16, keys: 1024, patternStates: 1000, trustedRootBytes: 100 });
  expect(usage.add({ keys: 2, patternStates: 400, trustedRoots: [root('a', 60), root('a', 60)] })).toBeUndefined();
  expect(usage.add({ keys: 2, patternStates: 400, trustedRoots: [root('a', 60)] })).toBeUndefined();
  expect(usage.trustedRootBytes).toBe(60);
  // A second distinct root and too many states: refused, naming both, and nothing is counted.
  expect(usage.add({ keys: 1, patternStates: 300, trustedRoots: [root('b', 60)] })).toBe('1000 identity-pattern states, 100 characters of trusted roots');
  expect([usage.policies, usage.keys, usage.patternStates, usage.trustedRootBytes]).toEqual([2, 4, 800, 60]);
  expect(usage.add({ keys: 0, patternStates: 200, trustedRoots: [] })).toBeUndefined();
});

it('rawCost reads pattern states and roots from the raw spec, unparsed; exact identities cost no states', () => {
  const cost = rawCost({
    images: ['**'],
    authorities: [
      { notary: { rootKeys: ['k'] } },
      { cosign: { keyless: { identities: [{ issuer: 'https://x', subject: 'y' }, { issuerRegExp: 'ab', subjectRegExp: 'a{1000}' }], trustedRoot: '{"not":"parsed"}' } } },
    ],
  });
  expect(cost.keys).toBe(1 + 2 + 1);
  expect(cost.patternStates).toBe(3 + 1025); // 'ab' is 3; 'a{1000}' is counted at most one past the per-pattern cap
  expect(cost.trustedRoots).toEqual([{ id: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), bytes: 16 }]);
});

it('the cluster budget is the larger one', () => {
  for (const k of Object.keys(NAMESPACE_BUDGET) as (keyof typeof NAMESPACE_BUDGET)[]) expect(CLUSTER_BUDGET[k]).toBeGreaterThan(NAMESPACE_BUDGET[k]);
});
