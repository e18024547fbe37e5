import { PolicySet } from '../../../src/policy/index.js';
import { policy } from '../../support/policies.js';

describe('PolicySet.applicable', () => {
  const set = new PolicySet([
    policy('everything', ['**']),
    policy('team', ['registry.example.com/team/**']),
    policy('team-app', ['registry.example.com/team/app']),
    policy('strict-a', ['registry.example.com/**'], {}, 'team-a'),
    policy('other-ns', ['**'], {}, 'team-b'),
  ]);

  it('picks the most specific cluster policy', () => {
    expect(set.applicable('x', 'registry.example.com/team/app').cluster?.policy.name).toBe('team-app');
    expect(set.applicable('x', 'registry.example.com/team/db').cluster?.policy.name).toBe('team');
    expect(set.applicable('x', 'docker.io/library/nginx').cluster?.policy.name).toBe('everything');
  });

  it('adds the namespace policy of the pod\'s own namespace only', () => {
    expect(set.applicable('team-a', 'registry.example.com/team/app').namespace?.policy.name).toBe('strict-a');
    expect(set.applicable('team-c', 'registry.example.com/team/app').namespace).toBeUndefined();
    expect(set.applicable(undefined, 'registry.example.com/team/app').namespace).toBeUndefined();
  });

  it('breaks ties by policy name, so the choice is stable', () => {
    const tie = new PolicySet([policy('b', ['registry.example.com/*']), policy('a', ['registry.example.com/*'])]);
    expect(tie.applicable(undefined, 'registry.example.com/x').cluster?.policy.name).toBe('a');
  });
});
