// The wording of decisions, in one place: what a person reads in kubectl's error, warnings and
// audit annotations. docs/troubleshooting.md explains each code at length.
import { printable } from '../reference/index.js';
import { ContainerType, type ContainerImage } from './workloads.js';

/**
 * The key of audit-mode findings in a response's auditAnnotations. kube-apiserver files it
 * under the webhook's name (`validate.trustgate.dev/audit`, `mutate.trustgate.dev/audit`) and
 * drops a key that is not then a qualified name, so it must carry no prefix of its own
 * (k8s.io/apiserver pkg/admission/attributes.go, checkKeyFormat).
 */
export const AUDIT_ANNOTATION = 'audit';

/** What would fix each refusal, in a few words. */
const FIXES: Readonly<Record<string, string>> = {
  NO_TRUST_DATA: 'sign the image (docker trust sign) or check the policy\'s trust server',
  TAG_NOT_SIGNED: 'sign this tag (docker trust sign IMAGE:TAG) or deploy a signed tag',
  DIGEST_NOT_SIGNED: 'use the signed digest (trustgate verify IMAGE:TAG prints it) or sign this one',
  SIGNER_MISSING: 'have the required signer sign this tag, or change the policy\'s signers',
  SIGNER_KEY_MISMATCH: 'check the signer\'s keys (trustgate inspect IMAGE) against the policy\'s pins',
  ROOT_KEY_MISMATCH: 'check the repository\'s root key (trustgate inspect IMAGE) against the policy\'s rootKeys',
  INVALID_ROOT_CERTIFICATE: 'the publisher must rotate the root key; check this node\'s clock',
  EXPIRED: 'the publisher must re-sign (an expired timestamp means the Notary server is not re-signing)',
  THRESHOLD_NOT_MET: 'treat as tampering unless the publisher changed keys',
  HASH_MISMATCH: 'treat as tampering or a broken trust server',
  ROLLBACK: 'the trust server is serving stale metadata; find out why',
  TOO_LARGE: 'the trust server sent more than any real repository needs; suspect it',
  DELEGATION_LIMIT: 'simplify the repository\'s delegations or require a shallower signer',
  INVALID_METADATA: 'the trust server does not serve Notary v1 metadata; check the policy\'s trust server',
  UNSUPPORTED_KEY: 'the publisher must sign with standard Notary keys',
  TIMEOUT: 'the trust server is slow or unreachable; retry, and check its health',
  UNREACHABLE: 'check the trust server address and its CA (policy trust.server, trust.caBundle)',
  SERVER_ERROR: 'check the trust server\'s logs',
  AUTH_FAILED: 'give the pod an imagePullSecret that can read the repository, or fix the credentials',
  INVALID_OPTION: 'fix the policy\'s trust settings',
  NO_SIGNATURES: 'sign the image with cosign (cosign sign --key … IMAGE@DIGEST) or check the policy\'s registry',
  SIGNATURE_INVALID: 'sign with a key (or identity) the policy names; trustgate inspect IMAGE --kind cosign lists the signatures',
  PAYLOAD_MISMATCH: 'the signature is for another image: sign this digest (cosign sign IMAGE@DIGEST)',
  IDENTITY_MISMATCH: 'sign from an identity the policy names, or add the signer\'s identity (issuer + subject) to the policy',
  CERTIFICATE_INVALID: 'the certificate does not chain to the policy\'s trusted root at signing time; check keyless.trustedRoot',
  TLOG_INVALID: 'sign with the transparency log (no --tlog-upload=false), or set tlog.required: false for keys signed offline',
  REGISTRY_ERROR: 'check the image exists and the registry answers (policy registry.caBundle, registry.insecure)',
  INVALID_REFERENCE: 'write the image as docker accepts it (lowercase, sha256 digests)',
  POLICY_DENIED: 'this image is denied by policy; use an allowed image or ask the cluster admins',
  POLICY_REFUSED: 'fix the policy: kubectl get imagepolicy/clusterimagepolicy NAME -o jsonpath={.status.message} says why it was refused',
  NO_POLICY: 'ask the cluster admins for a policy that covers this image',
  TOO_MANY_IMAGES: 'split the workload: no real pod names this many distinct images',
  TOO_MANY_PULL_SECRETS: 'list at most 64 imagePullSecrets; one dockerconfigjson secret can hold many registries',
  DIGEST_CONFLICT: 'the cluster and namespace policies resolve the tag to different digests; align their trust servers',
  NOT_PINNED: 'another mutating webhook rewrote the image after trustgate pinned it; stop it changing images, or deploy IMAGE:TAG@DIGEST',
};

export function fixFor(code: string): string {
  return FIXES[code] ?? 'see docs/troubleshooting.md';
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
