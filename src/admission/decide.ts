// The decision for one AdmissionReview, from the policies in force and an ImageVerifier.
// No I/O of its own: the verifier is injected, the clock comes in through the deadline.
import { formatPinned, parseReference, ReferenceError, type ImageReference } from '../reference/index.js';
import type { Credentials } from '../registry/index.js';
import { Action, describePolicy, Mode, type Policy, type PolicySet } from '../policy/index.js';
import { TrustError, type VerifiedImage } from '../trust/index.js';
import { denialLine, warningLine, type Failure } from './messages.js';
import { pinPatch, type PatchOperation } from './patch.js';
import type { ReviewRequest } from './review.js';
import type { ImageVerifier } from './verifier.js';
import { containerImages, isPod, isReviewedKind, WorkloadError, type ContainerImage } from './workloads.js';

export type Endpoint = 'mutate' | 'validate';

export interface DecisionContext {
  readonly policies: PolicySet;
  readonly verifier: ImageVerifier;
  /** For images no cluster policy matches. */
  readonly defaultAction: 'allow' | 'deny';
  /** Rewrite workload templates too, not only pods. */
  readonly mutateWorkloads: boolean;
  /** All images of one review must be verified within this (ms). */
  readonly deadlineMs: number;
  /** Credentials for the image's registry / trust server (imagePullSecrets, later). */
  readonly credentialsFor: (ref: ImageReference) => Credentials | undefined;
}

export interface ContainerOutcome {
  readonly container: ContainerImage;
  readonly failures: readonly (Failure & { mode: Mode })[];
  readonly verified: VerifiedImage | undefined;
  /** The image as written, pinned to the verified digest, when that is what it should become. */
  readonly pinned: string | undefined;
}

export interface Decision {
  readonly allowed: boolean;
  /** Denial message: one line per failing container. */
  readonly message: string;
  readonly warnings: readonly string[];
  readonly auditAnnotations: Readonly<Record<string, string>>;
  readonly patch: readonly PatchOperation[];
  /** For logs and metrics: why, in codes. */
  readonly reasons: readonly string[];
  /** `allow`, `deny`, `warn`, `audit` or `skip` (not reviewed). */
  readonly decision: 'allow' | 'deny' | 'warn' | 'audit' | 'skip';
  readonly images: readonly string[];
  readonly policies: readonly string[];
  readonly containers: readonly ContainerOutcome[];
}

const DEFAULT_POLICY = 'the default action (no ClusterImagePolicy matches)';

export async function decide(req: ReviewRequest, endpoint: Endpoint, ctx: DecisionContext): Promise<Decision> {
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return skip('operation not reviewed');
  if (!isReviewedKind(req.kind.kind)) {
    return deny([`trustgate does not review ${req.kind.kind} objects; remove ${req.resource} from the webhook's rules`], ['UNSUPPORTED_KIND']);
  }
  let containers: ContainerImage[];
  try {
    containers = containerImages(req.kind.kind, req.object);
  } catch (error) {
    if (error instanceof WorkloadError) return deny([`malformed ${req.kind.kind}: ${error.message}`], ['MALFORMED_OBJECT']);
    throw error;
  }
  if (req.operation === 'UPDATE' && unchangedImages(req, containers)) return skip('update changes no image');

  const outcomes = await evaluate(containers, req.namespace, ctx);
  const mutate = endpoint === 'mutate' && (isPod(req) || ctx.mutateWorkloads);
  return summarise(outcomes, mutate ? pinsFor(outcomes) : [], req);
}

/**
 * An UPDATE that leaves every image as it was (finalizers removed, labels changed, an object
 * being deleted) is never blocked: its images were checked when they were set.
 */
function unchangedImages(req: ReviewRequest, containers: ContainerImage[]): boolean {
  const metadata = req.object?.metadata;
  if (typeof metadata === 'object' && metadata !== null && 'deletionTimestamp' in metadata && metadata.deletionTimestamp) return true;
  let before: ContainerImage[];
  try {
    before = containerImages(req.kind.kind, req.oldObject);
  } catch {
    return false;
  }
  const key = (c: ContainerImage) => `${c.pointer}=${c.image}`;
  const old = new Set(before.map(key));
  return containers.every((c) => old.has(key(c)));
}

/** Each distinct image once, all in parallel, under one deadline. */
async function evaluate(containers: ContainerImage[], namespace: string | undefined, ctx: DecisionContext): Promise<ContainerOutcome[]> {
  const deadline = deadlineTimer(ctx.deadlineMs);
  try {
    const distinct = [...new Set(containers.map((c) => c.image))];
    const results = new Map(await Promise.all(distinct.map(async (image) => [image, await evaluateImage(image, namespace, ctx, deadline.promise)] as const)));
    return containers.map((container) => ({ container, ...results.get(container.image)! }));
  } finally {
    deadline.cancel();
  }
}

interface ImageResult {
  readonly failures: (Failure & { mode: Mode })[];
  readonly verified: VerifiedImage | undefined;
  readonly pinned: string | undefined;
}

async function evaluateImage(image: string, namespace: string | undefined, ctx: DecisionContext, deadline: Promise<'deadline'>): Promise<ImageResult> {
  let ref: ImageReference;
  try {
    ref = parseReference(image);
  } catch (error) {
    const message = error instanceof ReferenceError ? error.reason : String(error);
    return { failures: [{ code: 'INVALID_REFERENCE', message, policy: 'image reference syntax', mode: Mode.ENFORCE }], verified: undefined, pinned: undefined };
  }
  const { cluster, namespace: local } = ctx.policies.applicable(namespace, ref.name);
  const requirements: (Policy | undefined)[] = [cluster?.policy, ...(local ? [local.policy] : [])];
  const failures: (Failure & { mode: Mode })[] = [];
  const verified: VerifiedImage[] = [];
  await Promise.all(
    requirements.map(async (policy) => {
      const result = await checkRequirement(ref, policy, ctx, deadline);
      if ('failure' in result) failures.push(result.failure);
      else if (result.verified) verified.push(result.verified);
    }),
  );
  const [first, ...others] = verified;
  const conflict = others.find((v) => v.digest !== first?.digest);
  if (first && conflict) {
    failures.push({ code: 'DIGEST_CONFLICT', message: `one policy resolves ${image} to ${first.digest}, another to ${conflict.digest}`, policy: 'the cluster and namespace policies', mode: Mode.ENFORCE });
  }
  const ok = failures.length === 0 ? first : undefined;
  // Digests admitted unchecked, and name@digest references, are left as written.
  const pinned = ok && !ok.unchecked && ok.tag !== undefined ? formatPinned(ref, ok.digest) : undefined;
  return { failures, verified: ok, pinned };
}

type RequirementResult = { failure: Failure & { mode: Mode } } | { verified: VerifiedImage | undefined };

async function checkRequirement(ref: ImageReference, policy: Policy | undefined, ctx: DecisionContext, deadline: Promise<'deadline'>): Promise<RequirementResult> {
  if (!policy) {
    return ctx.defaultAction === 'allow'
      ? { verified: undefined }
      : { failure: { code: 'NO_POLICY', message: `no ClusterImagePolicy covers ${ref.name} and the default action is deny`, policy: DEFAULT_POLICY, mode: Mode.ENFORCE } };
  }
  const name = describePolicy(policy);
  switch (policy.action) {
    case Action.ALLOW:
      return { verified: undefined };
    case Action.DENY:
      return { failure: { code: 'POLICY_DENIED', message: `${ref.name} is denied`, policy: name, mode: policy.mode } };
    case Action.VERIFY: {
      const verification = ctx.verifier.verify(ref, policy.trust, ctx.credentialsFor(ref));
      try {
        const result = await Promise.race([verification, deadline]);
        if (result === 'deadline') {
          verification.catch(() => undefined); // it may still settle; nobody is waiting
          return { failure: { code: 'TIMEOUT', message: `verification of ${ref.written} did not finish within ${ctx.deadlineMs} ms`, policy: name, mode: policy.mode } };
        }
        return { verified: policy.mutate ? result : undefined };
      } catch (error) {
        const e = error instanceof TrustError ? error : new TrustError('SERVER_ERROR', String(error));
        return { failure: { code: e.code, message: e.message, policy: name, mode: policy.mode } };
      }
    }
  }
}

/** The images to rewrite: verified, mutation wanted, and not already carrying the digest. */
function pinsFor(outcomes: ContainerOutcome[]): { pointer: string; container: string; from: string; to: string }[] {
  return outcomes.flatMap(({ container, pinned }) =>
    pinned === undefined || pinned === container.image ? [] : [{ pointer: container.pointer, container: container.name, from: container.image, to: pinned }],
  );
}

function summarise(outcomes: ContainerOutcome[], pins: ReturnType<typeof pinsFor>, req: ReviewRequest): Decision {
  const denials: string[] = [];
  const warnings: string[] = [];
  const audits: string[] = [];
  const reasons = new Set<string>();
  const policies = new Set<string>();
  for (const { container, failures } of outcomes) {
    for (const failure of failures) {
      reasons.add(failure.code);
      policies.add(failure.policy);
      if (failure.mode === Mode.ENFORCE) denials.push(denialLine(container, failure));
      else if (failure.mode === Mode.WARN) warnings.push(warningLine(container, failure));
      else audits.push(denialLine(container, failure));
    }
  }
  const images = [...new Set(outcomes.map((o) => o.container.image))];
  const base = { images, policies: [...policies], containers: outcomes, reasons: [...reasons] };
  if (denials.length > 0) {
    return { ...base, allowed: false, message: denials.join('\n'), warnings, auditAnnotations: {}, patch: [], decision: 'deny' };
  }
  const patch = req.object ? pinPatch(req.object, pins) : [];
  return {
    ...base,
    allowed: true,
    message: '',
    warnings,
    auditAnnotations: audits.length > 0 ? { 'trustgate.dev/audit': audits.join('\n').slice(0, 10_000) } : {},
    patch,
    decision: warnings.length > 0 ? 'warn' : audits.length > 0 ? 'audit' : 'allow',
  };
}

function skip(reason: string): Decision {
  return { allowed: true, message: '', warnings: [], auditAnnotations: {}, patch: [], reasons: [reason], decision: 'skip', images: [], policies: [], containers: [] };
}

function deny(lines: string[], reasons: string[]): Decision {
  return { allowed: false, message: lines.join('\n'), warnings: [], auditAnnotations: {}, patch: [], reasons, decision: 'deny', images: [], policies: [], containers: [] };
}

function deadlineTimer(ms: number): { promise: Promise<'deadline'>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}
