import { FairShare } from '../../../src/admission/fair-share.js';

/** A task that runs until released, recording when it started. */
function gate(log: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return {
    task: async () => {
      log.push(name);
      await done;
      return name;
    },
    release: () => release(),
  };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('FairShare', () => {
  it('keeps one namespace to its share and gives a free slot to the namespace with the fewest running', async () => {
    const log: string[] = [];
    const fair = new FairShare({ inFlight: 3, perNamespace: 2, queuedPerNamespace: 10 }, () => 0);
    const a = Array.from({ length: 5 }, (_, i) => gate(log, `a${i}`));
    const b = Array.from({ length: 2 }, (_, i) => gate(log, `b${i}`));
    const c = gate(log, 'c0');
    const results = [
      ...a.map((g, i) => fair.run('a', `repo${i}`, 1000, 'x', g.task)),
      ...b.map((g, i) => fair.run('b', `repo${i}`, 1000, 'x', g.task)),
      fair.run('c', 'repo0', 1000, 'x', c.task),
    ];
    await flush();
    expect(log).toEqual(['a0', 'a1', 'b0']); // a at its share of 2; b takes the third slot
    a[0]!.release();
    await flush();
    expect(log.at(-1)).toBe('c0'); // c has none running: its turn comes before a's third
    b[0]!.release();
    await flush();
    expect(log.at(-1)).toBe('b1'); // b has none running now, a one
    c.release();
    await flush();
    expect(log.at(-1)).toBe('a2');
    for (const g of [...a, ...b, c]) g.release();
    await expect(Promise.all(results)).resolves.toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'b0', 'b1', 'c0']);
    expect(fair.sizes()).toEqual({ running: 0, waiting: 0, groups: 0 });
  });

  it('runs every lookup of one repository in the slot of the first', async () => {
    const log: string[] = [];
    const fair = new FairShare({ inFlight: 1, perNamespace: 1, queuedPerNamespace: 10 }, () => 0);
    const tags = Array.from({ length: 100 }, (_, i) => gate(log, `t${i}`));
    const other = gate(log, 'other');
    const first = fair.run('a', 'repo', 1000, 'x', tags[0]!.task); // takes the only slot
    const rest = tags.slice(1).map((g) => fair.run('a', 'repo', 1000, 'x', g.task));
    const elsewhere = fair.run('a', 'other-repo', 1000, 'x', other.task);
    await flush();
    expect(log).toHaveLength(100); // every tag running, the other repository waiting
    expect(fair.sizes()).toEqual({ running: 1, waiting: 1, groups: 2 });
    for (const g of tags) g.release();
    await Promise.all([first, ...rest]);
    await flush();
    expect(log.at(-1)).toBe('other');
    other.release();
    await elsewhere;
  });

  it('refuses with TIMEOUT, without running it, a lookup over the namespace queue bound or past its deadline', async () => {
    const log: string[] = [];
    let clock = 0;
    const fair = new FairShare({ inFlight: 1, perNamespace: 1, queuedPerNamespace: 1 }, () => clock);
    const first = gate(log, 'a0');
    const running = fair.run('a', 'r0', 1000, 'x', first.task);
    const waiting = fair.run('a', 'r1', 1000, 'verification of a1', gate(log, 'a1').task);
    await expect(fair.run('a', 'r2', 1000, 'verification of a2', gate(log, 'a2').task)).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringMatching(/^verification of a2: namespace a already has 1 repositories waiting/) as unknown,
    });
    const b = gate(log, 'b0');
    const other = fair.run('b', 'r0', 5000, 'x', b.task);
    clock = 2000; // a1's review has given up
    first.release();
    await expect(waiting).rejects.toMatchObject({ code: 'TIMEOUT', message: expect.stringMatching(/^verification of a1: no turn/) as unknown });
    await running;
    await flush();
    expect(log).toEqual(['a0', 'b0']);
    b.release();
    await other;
  });
});
