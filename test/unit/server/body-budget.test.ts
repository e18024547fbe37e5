import { BodyBudget, bodyCost } from '../../../src/server/body-budget.js';

describe('BodyBudget', () => {
  it('holds what fits and refuses the rest, unchanged', () => {
    const budget = new BodyBudget(100);
    const a = budget.hold();
    const b = budget.hold();
    expect(a.resize(60)).toBe(true);
    expect(budget.fits(40)).toBe(true);
    expect(budget.fits(41)).toBe(false);
    expect(b.resize(41)).toBe(false);
    expect(budget.inUse).toBe(60);
    expect(b.resize(40)).toBe(true);
    expect(budget.inUse).toBe(100);
    expect(a.resize(10)).toBe(true); // shrinking always fits
    expect(budget.inUse).toBe(50);
  });

  it('gives back what a hold held, once', () => {
    const budget = new BodyBudget(100);
    const a = budget.hold();
    a.resize(70);
    a.release();
    a.release();
    expect(budget.inUse).toBe(0);
    expect(a.resize(10)).toBe(false); // released holds hold nothing more
    expect(budget.inUse).toBe(0);
  });
});

describe('bodyCost', () => {
  it('charges a body twice its size, and each JSON value 64 bytes', () => {
    expect(bodyCost(1000)).toBe(2000);
    expect(bodyCost(1000, 10)).toBe(2640);
  });
});
