// `trustgate check`: the webhook's decision for manifests, before a deploy (CI).
import { parseArgs } from 'node:util';
import { isReviewedKind, type ImageVerifier } from '../../src/admission/index.js';
import { readDockerConfig } from './common-options.js';
import { credentialsFor, registriesOf } from './check-credentials.js';
import { evaluateManifests, findingsOf, objectNamespace, type ObjectResult } from './check-evaluate.js';
import { jsonReport, sarifReport, textReport } from './check-output.js';
import { loadPolicies } from './check-policies.js';
import type { Environment } from './environment.js';
import { ExitCode, UsageError } from './errors.js';
import { parseManifests, readSources, type Manifest, type Source } from './manifests.js';
import type { Output } from './output.js';
import { buildVerifiers } from './verifiers.js';

export const CHECK_USAGE = `Usage: trustgate check -f FILE|DIR|- ... (--policies FILE ... | --kubeconfig FILE) [options]

Decides every Pod, workload (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob,
ReplicationController) and List in the manifests as the webhook would on CREATE, through the
same decision code, and prints one line per finding in the words of its denial. Every object
is decided as if its namespace were labelled trustgate.dev/enforce=true. Other kinds are skipped.

  -f, --file FILE|DIR|-      multi-document YAML or JSON; a directory: its *.yaml, *.yml and
                             *.json files (symlinks leading out of it are not followed); -: stdin
  --policies FILE            policy files, as serve's policies.files reads them; repeatable
  --kubeconfig FILE          read the cluster's ClusterImagePolicies and ImagePolicies once instead,
                             and the Notation trust stores their configMapRef/secretRef name
  --trustgate-namespace NS   where those trust stores live, trustgate's own (default: trustgate)
  --docker-config DIR|FILE   registry and trust-server credentials: a docker config.json (or the
                             directory holding it), its auths or credential helpers (default:
                             $DOCKER_CONFIG/config.json, else ~/.docker/config.json, if present).
                             Sent only for images on the registry they are for; pods'
                             imagePullSecrets are not read
  --namespace NS             for objects that name none (default: default)
  --default-action allow|deny  for images no ClusterImagePolicy covers (default: deny, as serve)
  --timeout SECONDS          verifications of one object (default 30)
  --output text|json|sarif

Exit status: 0 everything would be admitted, 1 something would be denied, 2 usage or input error.`;

/** What check and pin are given: the process's, and a verifier in place of the real ones (tests). */
export type CheckEnvironment = Environment & { readonly verifier?: ImageVerifier };

/** The options check and pin share. */
export const DECISION_OPTIONS = {
  file: { type: 'string', short: 'f', multiple: true },
  policies: { type: 'string', multiple: true },
  kubeconfig: { type: 'string' },
  'trustgate-namespace': { type: 'string' },
  'docker-config': { type: 'string' },
  namespace: { type: 'string' },
  'default-action': { type: 'string' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface DecisionValues {
  file?: string[] | undefined;
  policies?: string[] | undefined;
  kubeconfig?: string | undefined;
  'trustgate-namespace'?: string | undefined;
  'docker-config'?: string | undefined;
  namespace?: string | undefined;
  'default-action'?: string | undefined;
  timeout?: string | undefined;
}

export async function runCheck(argv: string[], environment: CheckEnvironment, out: Output): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...DECISION_OPTIONS, output: { type: 'string' } }, allowPositionals: true, strict: true });
  if (values.help) {
    out.stdout(CHECK_USAGE);
    return ExitCode.OK;
  }
  if (positionals.length > 0) throw new UsageError(`check takes manifests with -f, not "${positionals[0]}"`);
  const output = values.output ?? 'text';
  if (output !== 'text' && output !== 'json' && output !== 'sarif') throw new UsageError(`--output must be text, json or sarif, not "${output}"`);
  if (!values.file?.length) throw new UsageError('-f FILE|DIR|- is required');
  const sources = await readSources(values.file, environment.readStdin);
  const results = await decideManifests(sources, values, environment);
  const findings = findingsOf(results);
  if (output === 'json') out.stdout(jsonReport(results));
  else if (output === 'sarif') out.stdout(sarifReport(findings));
  else out.stdout(textReport(results, findings));
  return results.some((r) => r.decision?.allowed === false) ? ExitCode.REFUSED : ExitCode.OK;
}

/** Parses the sources, loads the policies and decides every object; check and pin both. */
export async function decideManifests(sources: readonly Source[], values: DecisionValues, environment: CheckEnvironment): Promise<ObjectResult[]> {
  const defaultAction = values['default-action'] ?? 'deny';
  if (defaultAction !== 'allow' && defaultAction !== 'deny') throw new UsageError(`--default-action must be allow or deny, not "${defaultAction}"`);
  const timeoutSeconds = values.timeout === undefined ? 30 : Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0 || timeoutSeconds > 600) throw new UsageError('--timeout must be a number of seconds, above 0 and at most 600');
  const counts = { documents: 0, objects: 0 };
  // Every input is read and parsed before any policy or trust server is asked anything.
  const manifests: Manifest[] = sources.flatMap((s) => parseManifests(s, counts));
  // Then the credentials, once per registry, before the cluster or any trust server is asked.
  const credentials = await credentialsFor(readDockerConfig(values['docker-config'], environment), registriesOf(manifests));
  const namespaces = new Set(manifests.filter((m) => isReviewedKind(m.kind)).map((m) => objectNamespace(m, values.namespace)));
  const policies = await loadPolicies(values.policies, values.kubeconfig, { trustgateNamespace: values['trustgate-namespace'], namespaces });
  const built = environment.verifier ? undefined : buildVerifiers(OFFLINE_VERIFIERS(timeoutSeconds), NO_OBSERVER);
  try {
    return await evaluateManifests(manifests, {
      policies,
      verifier: environment.verifier ?? built!.verifier,
      namespace: values.namespace,
      defaultAction,
      deadlineMs: timeoutSeconds * 1000,
      credentialsFor: credentials,
    });
  } finally {
    built?.close();
  }
}

/** serve's defaults, with the run's deadline: one run, so the cache only shares work between objects. */
const OFFLINE_VERIFIERS = (deadlineSeconds: number) => ({
  deadlineSeconds,
  trust: { requestTimeoutSeconds: Math.min(60, deadlineSeconds), servers: {} },
  cache: { maxEntries: 10_000, maxBytes: 64 * 1024 * 1024, maxTtlSeconds: 300, negativeTtlSeconds: 300, staleForSeconds: 0 },
});

/** No metrics in a one-shot command. */
const NO_OBSERVER = { hit: () => undefined, miss: () => undefined, evicted: () => undefined, size: () => undefined, verified: () => undefined };
