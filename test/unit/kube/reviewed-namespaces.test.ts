import { isReviewed } from '../../../src/kube/index.js';

// The same test as the chart's namespaceSelector (charts/trustgate/templates/webhooks.yaml).
describe('isReviewed', () => {
  const optIn = { scope: 'optIn', excluded: ['kube-system', 'trustgate'] } as const;
  const wide = { scope: 'clusterWide', excluded: ['kube-system', 'trustgate'] } as const;

  it.each([
    [optIn, 'team-a', { 'trustgate.dev/enforce': 'true' }, true],
    [optIn, 'team-a', {}, false],
    [optIn, 'team-a', { 'trustgate.dev/enforce': 'false' }, false],
    [optIn, 'kube-system', { 'trustgate.dev/enforce': 'true' }, false],
    [optIn, 'trustgate', { 'trustgate.dev/enforce': 'true' }, false],
    [optIn, 'gone', undefined, false],
    [wide, 'team-a', {}, true],
    [wide, 'team-a', { 'trustgate.dev/enforce': 'false' }, false],
    [wide, 'kube-system', {}, false],
    [wide, 'gone', undefined, false],
  ] as const)('%j: %s labelled %j → %s', (scope, namespace, labels, expected) => {
    expect(isReviewed(scope, namespace, labels)).toBe(expected);
  });
});
