// The policies `check` and `pin` decide with: serve's policy files (the same loader, so the same
// format and the same rule that an ImagePolicy only adds to the ClusterImagePolicy covering an
// image), or what a cluster has in force (the same informers and compile path, read once).
import { pino } from 'pino';
import { loadPolicyFiles, PolicyError, PolicySet } from '../../src/policy/index.js';
import { printable } from '../../src/reference/index.js';
import { UsageError } from './errors.js';

/** Waiting for the API server to list both policy kinds. */
const CLUSTER_READ_TIMEOUT_MS = 15_000;
/** Trust store ref problems printed; the rest are counted. */
const PROBLEMS_SHOWN = 5;
const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export interface ClusterOptions {
  /** trustgate's namespace: the labelled ConfigMaps and Secrets there are the trust stores refs name. */
  readonly trustgateNamespace: string | undefined;
  /** The namespaces of the objects decided: an ImagePolicy elsewhere cannot change their answer. */
  readonly namespaces: ReadonlySet<string>;
}

export async function loadPolicies(files: readonly string[] | undefined, kubeconfig: string | undefined, cluster: ClusterOptions = { trustgateNamespace: undefined, namespaces: new Set() }): Promise<PolicySet> {
  if ((files === undefined || files.length === 0) === (kubeconfig === undefined)) throw new UsageError('give --policies FILE (repeatable) or --kubeconfig FILE, one of them');
  if (files !== undefined && files.length > 0) {
    if (cluster.trustgateNamespace !== undefined) throw new UsageError('--trustgate-namespace is for --kubeconfig: policy files give their trust stores inline');
    try {
      return loadPolicyFiles(files, process.cwd()).set;
    } catch (error) {
      throw new UsageError(error instanceof PolicyError ? error.message : String(error));
    }
  }
  const trustgateNamespace = cluster.trustgateNamespace ?? 'trustgate';
  if (!NAMESPACE_NAME.test(trustgateNamespace)) throw new UsageError(`--trustgate-namespace must be a namespace name (DNS-1123 label), not "${printable(trustgateNamespace, 80)}"`);
  // Loaded only when used: @kubernetes/client-node alone takes ~0.4 s to import.
  const { loadKubeConfig, readPoliciesOnce } = await import('../../src/kube/index.js');
  let lastProblem = '';
  const logger = pino({ level: 'warn' }, { write: (line: string) => (lastProblem = problemOf(line)) });
  let read;
  try {
    read = await readPoliciesOnce(loadKubeConfig(kubeconfig), logger, CLUSTER_READ_TIMEOUT_MS, trustgateNamespace);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    // The thrown error carries the failure; a timeout, what the informers last logged.
    const problem = lastProblem && !why.includes(lastProblem) ? `${why} (${lastProblem})` : why;
    throw new UsageError(`--kubeconfig: cannot read the cluster's policies: ${printable(problem, 300)}`);
  }
  // A trust store that cannot be resolved (missing, unlabelled, another --trustgate-namespace,
  // Secrets this kubeconfig may not list) is an error of the check, not a verdict: serve would
  // refuse the policy (POLICY_REFUSED), but the cause may be this run's view of the cluster.
  // Only policies that can apply count: ClusterImagePolicies and the decided namespaces'
  // ImagePolicies, so one namespace's broken ImagePolicy does not fail everyone's check.
  const relevant = read.trustStoreRefProblems.filter((p) => p.namespace === undefined || cluster.namespaces.has(p.namespace));
  if (relevant.length > 0) {
    const lines = relevant.slice(0, PROBLEMS_SHOWN).map((p) => `${printable(p.source, 300)}: ${p.problems.map((x) => printable(x, 400)).join('; ')}`);
    if (relevant.length > PROBLEMS_SHOWN) lines.push(`… and ${relevant.length - PROBLEMS_SHOWN} more policies`);
    throw new UsageError(`--kubeconfig: cannot resolve the Notation trust stores of ${relevant.length} ${relevant.length === 1 ? 'policy' : 'policies'} (trustgate's namespace: ${trustgateNamespace}, --trustgate-namespace): ${lines.join(' | ')}`);
  }
  return new PolicySet(read.policies);
}

/** The `err` of a pino line, else its `msg`. */
function problemOf(line: string): string {
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null) return line;
    const { err, msg } = parsed as { err?: unknown; msg?: unknown };
    return typeof err === 'string' ? err : typeof msg === 'string' ? msg : line;
  } catch {
    return line;
  }
}
