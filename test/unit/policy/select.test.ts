import { PolicySet } from '../../../src/policy/index.js';
import { policy, TOFU } from '../../support/policies.js';

describe('PolicySet.applicable', () => {
  const set = new PolicySet([
    policy('everything', ['**'], TOFU),
    policy('team', ['registry.example.com/team/**'], TOFU),
    policy('team-app', ['registry.example.com/team/app'], TOFU),
    policy('strict-a', ['registry.example.com/**'], TOFU, 'team-a'),
    policy('other-ns', ['**'], TOFU, 'team-b'),
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
    const tie = new PolicySet([policy('b', ['registry.example.com/*'], TOFU), policy('a', ['registry.example.com/*'], TOFU)]);
    expect(tie.applicable(undefined, 'registry.example.com/x').cluster?.policy.name).toBe('a');
  });
});
