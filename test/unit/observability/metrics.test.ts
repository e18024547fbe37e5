import { Metrics } from '../../../src/observability/index.js';

describe('Metrics', () => {
  it.each([
    ['trustgate_log_lines_dropped_total', (m: Metrics, read: () => number) => m.countLogDrops(read)],
    ['trustgate_events_dropped_total', (m: Metrics, read: () => number) => m.countEventDrops(read)],
  ])('exports %s as a counter that follows its source', async (name, follow) => {
    const metrics = new Metrics();
    let dropped = 0;
    follow(metrics, () => dropped);
    const value = async () => new RegExp(`^${name} (\\d+)$`, 'm').exec(await metrics.text())?.[1];
    expect(await value()).toBe('0');
    dropped = 3;
    expect(await value()).toBe('3');
    dropped = 5;
    expect(await value()).toBe('5');
    expect(await metrics.text()).toContain(`# TYPE ${name} counter`);
  });
});
