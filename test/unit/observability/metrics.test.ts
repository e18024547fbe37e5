import { Metrics } from '../../../src/observability/index.js';

describe('Metrics', () => {
  it('exports the log lines dropped, as a counter that follows its source', async () => {
    const metrics = new Metrics();
    let dropped = 0;
    metrics.countLogDrops(() => dropped);
    expect(await metrics.text()).toMatch(/^trustgate_log_lines_dropped_total 0$/m);
    dropped = 3;
    expect(await metrics.text()).toMatch(/^trustgate_log_lines_dropped_total 3$/m);
    dropped = 5;
    expect(await metrics.text()).toMatch(/^trustgate_log_lines_dropped_total 5$/m);
    expect(await metrics.text()).toMatch(/# TYPE trustgate_log_lines_dropped_total counter/);
  });

  it('exports the Events not written the same way', async () => {
    const metrics = new Metrics();
    let dropped = 7;
    metrics.countEventDrops(() => dropped);
    expect(await metrics.text()).toMatch(/^trustgate_events_dropped_total 7$/m);
    dropped = 9;
    expect(await metrics.text()).toMatch(/^trustgate_events_dropped_total 9$/m);
  });
});
