// The wording of decisions, in one place: what a person reads in kubectl's error, warnings and
// audit annotations. docs/troubleshooting.md explains each code at length.
import { printable } from '../reference/index.js';
import { DENIAL_CODES, isDenialCode } from '../shared/denial-codes.js';
import type { StaleAnswer } from '../trust/index.js';
import { ContainerType, type ContainerImage } from './workloads.js';

/**
 * The key of audit-mode findings in a response's auditAnnotations. kube-apiserver files it
 * under the webhook's name (`validate.trustgate.dev/audit`, `mutate.trustgate.dev/audit`) and
 * drops a key that is not then a qualified name, so it must carry no prefix of its own
 * (k8s.io/apiserver pkg/admission/attributes.go, checkKeyFormat).
 */
export const AUDIT_ANNOTATION = 'audit';

/** What would fix the refusal, in a few words (src/shared/denial-codes.ts). */
export function fixFor(code: string): string {
  return (isDenialCode(code) ? DENIAL_CODES[code].fix : undefined) ?? 'see docs/troubleshooting.md';
}

export interface Failure {
  readonly code: string;
  readonly message: string;
  /** `ClusterImagePolicy "signed-only"`, or `default action` */
  readonly policy: string;
}

/** `container "app"`, or `volume "plugins"` for an image volume. */
function subject(container: ContainerImage): string {
  return `${container.type === ContainerType.VOLUME ? 'volume' : 'container'} "${printable(container.name, 63)}"`;
}

/** One line per failing container or image volume: where, image, reason code and words, policy, fix. */
export function denialLine(container: ContainerImage, failure: Failure): string {
  return `${subject(container)} image "${printable(container.image, 200)}": ${failure.code}: ${printable(failure.message, 400)}; required by ${failure.policy}; fix: ${fixFor(failure.code)}`;
}

/** Kubernetes truncates long warnings: keep them short, the log has the rest. */
export function warningLine(container: ContainerImage, failure: Failure): string {
  return `trustgate: ${subject(container)} image "${printable(container.image, 100)}" would be denied: ${failure.code} (${failure.policy}, mode warn)`;
}

/**
 * An image admitted on its last verified answer because its server could not be asked: what
 * failed, and until when that answer may stand in (docs/adr/0014).
 */
export function staleLine(container: ContainerImage, stale: StaleAnswer): string {
  const until = Number.isFinite(stale.until) ? new Date(stale.until).toISOString() : 'its refresh';
  return `trustgate: ${subject(container)} image "${printable(container.image, 100)}" admitted on its last verified answer: its trust server or registry could not be asked (${stale.code}); that answer stands until ${until}`;
}
