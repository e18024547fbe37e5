// The dashboard and alerts in deploy/ query only metrics trustgate exports.
import { readFileSync } from 'node:fs';
import { Metrics } from '../../../src/observability/index.js';

const exported = new Set((await new Metrics().registry.getMetricsAsJSON()).map((m) => m.name));
const used = (file: string) => [...new Set(readFileSync(file, 'utf8').match(/trustgate_[a-z_]+/g) ?? [])].map((n) => n.replace(/_(bucket|count|sum)$/, ''));

describe.each(['deploy/grafana-dashboard.json', 'deploy/prometheus-rules.yaml'])('%s', (file) => {
  it('queries only exported metrics', () => {
    const names = used(file);
    expect(names.length).toBeGreaterThan(3);
    expect(names.filter((n) => !exported.has(n))).toEqual([]);
  });
});

it('the dashboard is valid JSON with a panel per concern', () => {
  const dashboard = JSON.parse(readFileSync('deploy/grafana-dashboard.json', 'utf8')) as { panels: unknown[] };
  expect(dashboard.panels.length).toBeGreaterThanOrEqual(8);
});
