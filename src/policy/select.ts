// Which policies apply to an image (docs/policy.md "Precedence"): the most specific matching
// ClusterImagePolicy, and the most specific matching ImagePolicy of the pod's namespace. Both
// must be satisfied, so a namespace can add requirements but never remove the cluster's.
import { Memo } from '../shared/memo.js';
import { compareSpecificity, matchPattern, type Pattern } from './pattern.js';
import { PolicyKind, type Policy } from './types.js';

/** The policies in force, indexed for lookup. Immutable: a reload builds a new one. */
export class PolicySet {
  private readonly cluster: readonly Policy[];
  private readonly namespaced: ReadonlyMap<string, readonly Policy[]>;
  /** Matching walks every pattern; the set never changes, so each answer is kept. */
  private readonly matches = new Memo<Applicable>(10_000);

  constructor(readonly policies: readonly Policy[]) {
    this.cluster = policies.filter((p) => p.kind === PolicyKind.CLUSTER);
    const byNamespace = new Map<string, Policy[]>();
    for (const p of policies) {
      if (p.kind === PolicyKind.NAMESPACED && p.namespace !== undefined) {
        byNamespace.set(p.namespace, [...(byNamespace.get(p.namespace) ?? []), p]);
      }
    }
    this.namespaced = byNamespace;
  }

  /** The best cluster policy and the best policy of `namespace` for a normalised image name. */
  applicable(namespace: string | undefined, imageName: string): Applicable {
    // Neither a namespace nor an image name can contain a space.
    return this.matches.get(`${namespace ?? ''} ${imageName}`, () => ({
      cluster: bestMatch(this.cluster, imageName),
      namespace: namespace === undefined ? undefined : bestMatch(this.namespaced.get(namespace) ?? [], imageName),
    }));
  }
}

export interface Applicable {
  readonly cluster: PolicyMatch | undefined;
  readonly namespace: PolicyMatch | undefined;
}

export interface PolicyMatch {
  readonly policy: Policy;
  readonly pattern: Pattern;
}

/** The most specific pattern wins; on a tie, the policy name decides, so the choice is stable. */
export function bestMatch(policies: readonly Policy[], imageName: string): PolicyMatch | undefined {
  let best: PolicyMatch | undefined;
  for (const policy of policies) {
    for (const pattern of policy.images) {
      if (!matchPattern(pattern, imageName)) continue;
      if (!best || compareSpecificity(pattern, best.pattern) < 0 || (compareSpecificity(pattern, best.pattern) === 0 && policy.name < best.policy.name)) {
        best = { policy, pattern };
      }
    }
  }
  return best;
}
