// What the audit says about each image of a running pod, from the webhook's own Decision
// (src/admission/decide.ts): the audit never decides anything itself, so it can never disagree
// with admission. A result is pass / fail / warn / error as the Kubernetes policy working
// group's PolicyReport defines them (wgpolicyk8s.io/v1alpha2, PolicyReportResult.result;
// kubernetes-sigs/wg-policy-prototypes policy-report/crd/v1alpha2).
import { Mode } from '../policy/index.js';
import type { ContainerOutcome, Decision } from '../admission/index.js';
import { parseReference, printable, ReferenceError, type ImageReference } from '../reference/index.js';
import type { TrustKind } from '../trust/index.js';

export type AuditStatus = 'pass' | 'fail' | 'warn' | 'error';

/** Worst first: the order a report sorts by, and a pod's omitted results are summed up in. */
export const STATUS_ORDER: readonly AuditStatus[] = ['fail', 'error', 'warn', 'pass'];

export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export interface Finding {
  readonly pod: PodRef;
  /** The container's (or image volume's) name; empty for a result about the whole pod. */
  readonly container: string;
  /** initContainers, containers, ephemeralContainers, volumes; empty for the whole pod. */
  readonly containerType: string;
  /** The image as the pod names it (bounded, printable). */
  readonly image: string;
  readonly status: AuditStatus;
  /** The denial code (TAG_NOT_SIGNED, …), VERIFIED, ALLOWED, or an audit code below. */
  readonly code: string;
  /** The policy behind the result (`ClusterImagePolicy "name"`), or what stood for it. */
  readonly policy: string;
  readonly message: string;
  /** The kinds of trust that verified it, as admitted (decide()'s `kinds`). */
  readonly kinds: readonly TrustKind[];
  /** The signed digest, when verified. */
  readonly digest: string | undefined;
  /** The repository (for the DCT-only count), when the reference parsed. */
  readonly repository: string | undefined;
  /** Runs by tag: no digest in the reference, so the registry may serve anything for it. */
  readonly byTag: boolean;
  /** Pinned (`name:tag@digest`) to a digest its tag is no longer signed for. */
  readonly stalePin: boolean;
  /**
   * Admission would have changed or refused the pod as it is: an enforcing policy pins the image
   * and it is not pinned. The pod started before trustgate reviewed its namespace (before
   * trustgate, or before the namespace was labelled), which admission cannot see.
   */
  readonly notAdmitted: boolean;
}

/** Audit codes of their own, beside the webhook's denial codes (docs/audit.md). */
export const AuditCode = {
  VERIFIED: 'VERIFIED',
  /** No verification asked for: an allow policy, or the default action allow. */
  ALLOWED: 'ALLOWED',
  /** Verified, but running by tag where admission would have pinned it. */
  NOT_ADMITTED: 'NOT_ADMITTED',
  /** Results of one pod beyond MAX_RESULTS_PER_POD, summed up in one. */
  RESULTS_OMITTED: 'RESULTS_OMITTED',
} as const;

/** The refusals that say a server could not be asked, not what it answered: `error`, not `fail`. */
const OUTAGES: ReadonlySet<string> = new Set(['TIMEOUT', 'UNREACHABLE', 'SERVER_ERROR']);

/**
 * Results kept per pod. The API server takes pods with thousands of containers; one pod's results
 * must not fill a report object on their own. The worst results are kept, the rest summed up.
 */
export const MAX_RESULTS_PER_POD = 32;
/** Characters kept of an image, a message, a policy name (a pod's fields are a tenant's). */
export const MAX_IMAGE_CHARS = 512;
export const MAX_MESSAGE_CHARS = 1024;
export const MAX_NAME_CHARS = 253;

const references = new Map<string, ImageReference | undefined>();

function referenceOf(image: string): ImageReference | undefined {
  // A small memo: a round parses the same few images for thousands of pods.
  if (references.has(image)) return references.get(image);
  let ref: ImageReference | undefined;
  try {
    ref = parseReference(image);
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
  }
  if (references.size >= 10_000) references.clear();
  references.set(image, ref);
  return ref;
}

/** Bounded and printable: pod fields are written into reports others read with kubectl. */
export function bounded(text: string, max: number): string {
  return printable(text, max);
}

/** The findings for one pod: one per container image (at most MAX_RESULTS_PER_POD). */
export function findingsOf(pod: PodRef, decision: Decision): Finding[] {
  if (decision.containers.length === 0) {
    // Refused whole (malformed, too many images) or not reviewed: one result for the pod.
    const status: AuditStatus = decision.allowed ? 'pass' : 'fail';
    const code = decision.reasons[0] ?? (decision.allowed ? AuditCode.ALLOWED : 'MALFORMED_OBJECT');
    return [podFinding(pod, status, code, decision.allowed ? 'no image to verify' : decision.message)];
  }
  const all = decision.containers.map((o) => findingOf(pod, o));
  return limitPerPod(pod, all);
}

function podFinding(pod: PodRef, status: AuditStatus, code: string, message: string): Finding {
  return {
    pod, container: '', containerType: '', image: '', status, code, policy: 'trustgate', message: bounded(message, MAX_MESSAGE_CHARS),
    kinds: [], digest: undefined, repository: undefined, byTag: false, stalePin: false, notAdmitted: false,
  };
}

function findingOf(pod: PodRef, o: ContainerOutcome): Finding {
  const image = o.container.image;
  const ref = referenceOf(image);
  const byTag = ref !== undefined && ref.digest === undefined;
  const enforced = o.failures.find((f) => f.mode === Mode.ENFORCE);
  const reported = enforced ?? o.failures[0];
  let status: AuditStatus;
  let code: string;
  let policy: string;
  let message: string;
  if (reported) {
    status = enforced ? (OUTAGES.has(enforced.code) ? 'error' : 'fail') : 'warn';
    code = reported.code;
    policy = reported.policy;
    message = o.failures.map((f) => `${f.code}: ${f.message}`).join('; ');
  } else if (o.kinds.length > 0 || o.verified) {
    status = 'pass';
    code = AuditCode.VERIFIED;
    policy = 'verified';
    message = `verified by ${o.kinds.join(',') || 'its policy'}${o.verified ? ` as ${o.verified.digest}` : ''}`;
  } else {
    status = 'pass';
    code = AuditCode.ALLOWED;
    policy = 'allowed';
    message = 'allowed without verification (an allow policy or the default action)';
  }
  // Admission pins what an enforcing policy verified, and /validate refuses it unpinned
  // (NOT_PINNED): a pod running it unpinned never went through trustgate's admission.
  const notAdmitted = o.pinnedBy !== undefined && o.pinned !== undefined && o.pinned !== image;
  if (status === 'pass' && notAdmitted) {
    status = 'warn';
    code = AuditCode.NOT_ADMITTED;
    policy = o.pinnedBy ?? policy;
    message = `runs by tag; admission would pin it to ${o.pinned}: this pod did not go through trustgate's admission (it started before trustgate reviewed its namespace)`;
  }
  if (status === 'pass' && policy === 'verified') policy = o.pinnedBy ?? 'verified';
  const stalePin = ref !== undefined && ref.tag !== undefined && ref.digest !== undefined && o.failures.some((f) => f.code === 'DIGEST_NOT_SIGNED');
  return {
    pod,
    container: bounded(o.container.name, MAX_NAME_CHARS),
    containerType: o.container.type,
    image: bounded(image, MAX_IMAGE_CHARS),
    status,
    code,
    policy: bounded(policy, MAX_NAME_CHARS),
    message: bounded(message, MAX_MESSAGE_CHARS),
    kinds: o.kinds,
    digest: o.verified?.digest,
    repository: o.repository,
    byTag,
    stalePin,
    notAdmitted,
  };
}

/** The worst MAX_RESULTS_PER_POD results, and one that sums up the others (with the worst status among them). */
function limitPerPod(pod: PodRef, all: Finding[]): Finding[] {
  if (all.length <= MAX_RESULTS_PER_POD) return all;
  const sorted = [...all].sort((a, b) => STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status));
  const kept = sorted.slice(0, MAX_RESULTS_PER_POD - 1);
  const rest = sorted.slice(MAX_RESULTS_PER_POD - 1);
  const counts = STATUS_ORDER.map((s) => [s, rest.filter((f) => f.status === s).length] as const).filter(([, n]) => n > 0);
  const worst = counts[0]![0];
  return [...kept, podFinding(pod, worst, AuditCode.RESULTS_OMITTED, `${rest.length} more images of this pod (${counts.map(([s, n]) => `${n} ${s}`).join(', ')}); at most ${MAX_RESULTS_PER_POD} results per pod are reported`)];
}
