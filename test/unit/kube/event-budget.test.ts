import { EventBudget } from '../../../src/kube/index.js';

describe('EventBudget', () => {
  it('allows a burst, then refills at its rate, never above the burst', () => {
    let now = 0;
    const budget = new EventBudget(2, 5, () => now);
    expect(Array.from({ length: 7 }, () => budget.take())).toEqual([true, true, true, true, true, false, false]);
    now += 500; // half a second at 2/s: one more
    expect([budget.take(), budget.take()]).toEqual([true, false]);
    now += 60_000; // a long quiet spell refills to the burst, not beyond
    expect(Array.from({ length: 6 }, () => budget.take()).filter(Boolean)).toHaveLength(5);
  });
});
