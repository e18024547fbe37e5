// The policies `check` and `pin` decide with: serve's policy files (the same loader, so the same
// format and the same rule that an ImagePolicy only adds to the ClusterImagePolicy covering an
// image), or what a cluster has in force (the same informers and compile path, read once).
import { pino } from 'pino';
import { loadPolicyFiles, PolicyError, PolicySet } from '../../src/policy/index.js';
import { printable } from '../../src/reference/index.js';
import { UsageError } from './errors.js';

/** Waiting for the API server to list both policy kinds. */
const CLUSTER_READ_TIMEOUT_MS = 15_000;

export async function loadPolicies(files: readonly string[] | undefined, kubeconfig: string | undefined): Promise<PolicySet> {
  if ((files === undefined || files.length === 0) === (kubeconfig === undefined)) throw new UsageError('give --policies FILE (repeatable) or --kubeconfig FILE, one of them');
  if (files !== undefined && files.length > 0) {
    try {
      return loadPolicyFiles(files, process.cwd()).set;
    } catch (error) {
      throw new UsageError(error instanceof PolicyError ? error.message : String(error));
    }
  }
  // Loaded only when used: @kubernetes/client-node alone takes ~0.4 s to import.
  const { loadKubeConfig, readPoliciesOnce } = await import('../../src/kube/index.js');
  let lastProblem = '';
  const logger = pino({ level: 'warn' }, { write: (line: string) => (lastProblem = problemOf(line)) });
  try {
    return new PolicySet(await readPoliciesOnce(loadKubeConfig(kubeconfig), logger, CLUSTER_READ_TIMEOUT_MS));
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    // The thrown error carries the failure; a timeout, what the informers last logged.
    const problem = lastProblem && !why.includes(lastProblem) ? `${why} (${lastProblem})` : why;
    throw new UsageError(`--kubeconfig: cannot read the cluster's policies: ${printable(problem, 300)}`);
  }
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
