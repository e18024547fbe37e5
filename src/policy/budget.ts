// A budget's running total: one namespace's ImagePolicy objects (NAMESPACE_BUDGET), or the
// cluster's ClusterImagePolicy objects (CLUSTER_BUDGET), counted oldest first on the raw objects,
// as they cost once compiled (src/policy/authorities.ts rawCost), before anything is parsed.
import type { PolicyCost } from './authorities.js';
import type { Budget } from './limits.js';

export class BudgetUsage {
  policies = 0;
  keys = 0;
  patternStates = 0;
  trustedRootBytes = 0;
  /** Trusted roots counted (by content digest): a second use of one costs nothing more (spec.ts shares the parse). */
  private readonly roots = new Set<string>();

  constructor(readonly budget: Budget) {}

  /**
   * Counts one object if it fits the budget and returns undefined; else counts nothing and
   * returns what it would exceed (for the object's status).
   */
  add(cost: PolicyCost): string | undefined {
    const b = this.budget;
    let rootBytes = 0;
    const fresh = new Set<string>();
    for (const root of cost.trustedRoots) {
      if (this.roots.has(root.id) || fresh.has(root.id)) continue;
      fresh.add(root.id);
      rootBytes += root.bytes;
    }
    const over: string[] = [];
    if (this.policies + 1 > b.policies) over.push(`${b.policies} objects`);
    if (this.keys + cost.keys > b.keys) over.push(`${b.keys} pinned keys`);
    if (this.patternStates + cost.patternStates > b.patternStates) over.push(`${b.patternStates} identity-pattern states`);
    if (this.trustedRootBytes + rootBytes > b.trustedRootBytes) over.push(`${b.trustedRootBytes} characters of trusted roots`);
    if (over.length > 0) return over.join(', ');
    this.policies += 1;
    this.keys += cost.keys;
    this.patternStates += cost.patternStates;
    this.trustedRootBytes += rootBytes;
    for (const id of fresh) this.roots.add(id);
    return undefined;
  }
}
