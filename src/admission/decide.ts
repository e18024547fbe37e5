// The decision for one AdmissionReview, from the policies in force and an ImageVerifier.
// No I/O of its own: the verifier is injected, the clock comes in through the deadline.
import { setMaxListeners } from 'node:events';
import { formatPinned, parseReference, ReferenceError, type ImageReference } from '../reference/index.js';
import { Action, describePolicy, Mode, Require, type Authority, type Policy, type PolicySet } from '../policy/index.js';
import { Memo } from '../shared/memo.js';
import { TrustError, type StaleAnswer, type TrustKind, type Verified } from '../trust/index.js';
import { credentialScope, isCredentialFailure, type CredentialLookup } from './credentials.js';
import { ALL_KINDS, kindBit, kindLabel, kindList, kindSetOf, NO_KINDS, type KindSet } from './kinds.js';
import { AUDIT_ANNOTATION, denialLine, staleLine, warningLine, type Failure } from './messages.js';
import { originalKey, pinPatch, type PatchOperation } from './patch.js';
import type { ReviewRequest } from './review.js';
import type { ImageVerifier } from './verifier.js';
import { containerImages, hasController, isPod, isReviewedKind, WorkloadError, type ContainerImage } from './workloads.js';

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
  /**
   * The credentials a verification may carry for the image, by who chose its connection
   * (src/admission/credentials.ts, docs/adr/0005); a failure (pull secrets unreadable) fails it.
   */
  readonly credentialsFor: CredentialLookup;
}

export interface ContainerOutcome {
  readonly container: ContainerImage;
  readonly failures: readonly (Failure & { mode: Mode })[];
  readonly verified: Verified | undefined;
  /**
   * The kinds of trust that verified the image, as admitted: those of every passing authority of
   * every verify policy that agrees on its digest. Empty when nothing verified it (allow policies,
   * the default action, or a denial).
   */
  readonly kinds: readonly TrustKind[];
  /** The normalised repository, when the reference parsed. */
  readonly repository: string | undefined;
  /** The image as written, pinned to the verified digest, when that is what it should become. */
  readonly pinned: string | undefined;
  /** The enforcing policy the pin comes from, if one: /validate refuses the image without it (NOT_PINNED). */
  readonly pinnedBy: string | undefined;
  /** Admitted on an answer its server could not refresh (an outage): the warning says so. */
  readonly stale: StaleAnswer | undefined;
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
  /** Every kind of trust that verified an image of the object (the log line's `kinds`); decide() always sets it. */
  readonly kinds?: readonly TrustKind[];
}

const DEFAULT_POLICY = 'the default action (no ClusterImagePolicy matches)';

/** The reason an admission on a stale answer (src/admission/verification-cache.ts) logs. */
export const STALE_ANSWER = 'STALE_ANSWER';

/**
 * Distinct images one object may name: far above any real pod, far below a flood (each
 * distinct image is a lookup at a trust server, all under one review's deadline).
 */
export const MAX_IMAGES_PER_REVIEW = 256;

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
  const before = req.operation === 'UPDATE' ? imagesBefore(req) : NOTHING_BEFORE;
  if (req.operation === 'UPDATE' && containers.every((c) => before.has(imageKey(c)))) return skip('update changes no image');
  if (containers.length > MAX_IMAGES_PER_REVIEW) {
    // Counted only when it could matter: the common pod never pays for the Set.
    const distinct = new Set(containers.map((c) => c.image)).size;
    if (distinct > MAX_IMAGES_PER_REVIEW) {
      return deny([`${req.kind.kind} names ${distinct} distinct images; trustgate verifies at most ${MAX_IMAGES_PER_REVIEW} per object`], ['TOO_MANY_IMAGES']);
    }
  }

  const outcomes = await evaluate(containers, req.namespace, ctx);
  // Pods are pinned whoever made them: the kubelet runs what a pod names. Other kinds only with
  // mutateWorkloads, and only the top-level owner (hasController says why).
  const mutates = isPod(req) || (ctx.mutateWorkloads && !hasController(req.object));
  const checked = endpoint === 'validate' && mutates ? requirePins(outcomes, before) : outcomes;
  const labels = endpoint === 'mutate' && mutates;
  return summarise(checked, labels ? pinsFor(outcomes) : [], req, labels);
}

/**
 * The images the object had before an UPDATE. One that leaves every image as it was
 * (finalizers removed, labels changed) is never blocked: its images were checked when they
 * were set. An object being deleted gets no exception: an UPDATE may still change its images.
 */
function imagesBefore(req: ReviewRequest): ReadonlySet<string> {
  try {
    return new Set(containerImages(req.kind.kind, req.oldObject).map(imageKey));
  } catch {
    return NOTHING_BEFORE;
  }
}

const NOTHING_BEFORE: ReadonlySet<string> = new Set();

const imageKey = (c: ContainerImage) => `${c.pointer}=${c.image}`;

/**
 * /validate runs after every mutating webhook: an image /mutate pins for an enforcing policy
 * must still carry its signed digest, else a later webhook (or the UPDATE itself) swapped it
 * back to a tag the registry may serve anything for. Images an UPDATE leaves untouched keep
 * what they had, so pods created before trustgate can still be labelled or debugged.
 */
function requirePins(outcomes: ContainerOutcome[], before: ReadonlySet<string>): ContainerOutcome[] {
  return outcomes.map((o) => {
    if (o.pinnedBy === undefined || o.pinned === undefined || o.pinned === o.container.image || before.has(imageKey(o.container))) return o;
    const failure = { code: 'NOT_PINNED', message: `it must arrive pinned as ${o.pinned}; something changed it after trustgate pinned it`, policy: o.pinnedBy, mode: Mode.ENFORCE };
    return { container: o.container, failures: [...o.failures, failure], verified: o.verified, kinds: o.kinds, repository: o.repository, pinned: o.pinned, pinnedBy: o.pinnedBy, stale: o.stale };
  });
}

/**
 * Each distinct image once. An image whose every verification the cache already holds (the
 * steady state of a cluster) is decided without timers or promises; the others are verified in
 * parallel, under one deadline.
 */
async function evaluate(containers: ContainerImage[], namespace: string | undefined, ctx: DecisionContext): Promise<ContainerOutcome[]> {
  const results = new Map<string, ImageResult>();
  const unknown: ImagePlan[] = [];
  const seen = new Set<string>();
  for (const { image } of containers) {
    if (seen.has(image)) continue;
    seen.add(image);
    const p = plan(image, namespace, ctx);
    if (!('requirements' in p)) {
      results.set(image, p); // decided already: the reference did not parse
      continue;
    }
    const known = fromCache(p, ctx);
    if (known) results.set(image, known);
    else unknown.push(p);
  }
  if (unknown.length > 0) for (const [image, result] of await verifyAll(unknown, namespace, ctx)) results.set(image, result);
  return containers.map((container) => {
    const r = results.get(container.image)!;
    return { container, failures: r.failures, verified: r.verified, kinds: kindList(r.kinds), repository: r.repository, pinned: r.pinned, pinnedBy: r.pinnedBy, stale: r.stale };
  });
}

interface ImageResult {
  readonly failures: (Failure & { mode: Mode })[];
  readonly verified: Verified | undefined;
  readonly kinds: KindSet;
  readonly repository: string | undefined;
  readonly pinned: string | undefined;
  readonly pinnedBy: string | undefined;
  readonly stale: StaleAnswer | undefined;
}

/** A verification to pin to comes with the mode and name of the policy that asked for it. */
type RequirementResult = { failure: Failure & { mode: Mode } } | { verified: undefined } | Verification;

/** A verify policy's verified answer, with what decides how it counts: its mode, and whether it pins. */
interface Verification {
  readonly verified: Verified;
  readonly mode: Mode;
  readonly policy: string;
  readonly mutate: boolean;
  /** The kinds of the policy's authorities that verified it. */
  readonly kinds: KindSet;
}

/** One authority's answer: verified, or why not (a TrustError, a credential failure). */
type AuthorityOutcome = Verified | { readonly code: string; readonly message: string } | 'deadline';

/** What one applicable policy asks of an image: a result already, or a verification. */
type Requirement = { readonly result: RequirementResult } | { readonly verify: Policy };

/** An image whose reference parsed, with what each applicable policy asks of it. */
interface ImagePlan {
  readonly image: string;
  readonly ref: ImageReference;
  readonly requirements: readonly Requirement[];
}

/** Parsed references by the string written: a cluster runs the same few images all day. */
const references = new Memo<ImageReference | ReferenceError>(10_000);

function parseOrError(image: string): ImageReference | ReferenceError {
  try {
    return parseReference(image);
  } catch (error) {
    if (error instanceof ReferenceError) return error;
    throw error;
  }
}

function plan(image: string, namespace: string | undefined, ctx: DecisionContext): ImagePlan | ImageResult {
  const ref = references.get(image, parseOrError);
  if (ref instanceof ReferenceError) {
    return { failures: [{ code: 'INVALID_REFERENCE', message: ref.reason, policy: 'image reference syntax', mode: Mode.ENFORCE }], verified: undefined, kinds: NO_KINDS, repository: undefined, pinned: undefined, pinnedBy: undefined, stale: undefined };
  }
  const { cluster, namespace: local } = ctx.policies.applicable(namespace, ref.name);
  const requirements = [requirement(ref, cluster?.policy, ctx)];
  if (local) requirements.push(requirement(ref, local.policy, ctx));
  return { image, ref, requirements };
}

function requirement(ref: ImageReference, policy: Policy | undefined, ctx: DecisionContext): Requirement {
  if (!policy) {
    return ctx.defaultAction === 'allow'
      ? { result: { verified: undefined } }
      : { result: { failure: { code: 'NO_POLICY', message: `no ClusterImagePolicy covers ${ref.name} and the default action is deny`, policy: DEFAULT_POLICY, mode: Mode.ENFORCE } } };
  }
  switch (policy.action) {
    case Action.ALLOW:
      return { result: { verified: undefined } };
    case Action.DENY:
      if (policy.refused !== undefined) {
        return { result: { failure: { code: 'POLICY_REFUSED', message: `the policy covering ${ref.name} was refused (${policy.refused})`, policy: describePolicy(policy), mode: policy.mode } } };
      }
      return { result: { failure: { code: 'POLICY_DENIED', message: `${ref.name} is denied`, policy: describePolicy(policy), mode: policy.mode } } };
    case Action.VERIFY:
      return { verify: policy };
  }
}

/** The image's result when the cache holds every verification it needs; else undefined. */
function fromCache(p: ImagePlan, ctx: DecisionContext): ImageResult | undefined {
  const done: RequirementResult[] = [];
  for (const r of p.requirements) {
    if ('result' in r) {
      done.push(r.result);
      continue;
    }
    const policy = r.verify;
    // One authority (every v1alpha1 policy): no list of outcomes to build.
    if (policy.authorities.length === 1) {
      const cached = peekAuthority(p.ref, policy, policy.authorities[0]!, ctx);
      if (cached === undefined) return undefined;
      done.push(verification(p.ref, policy, cached, ctx));
      continue;
    }
    const outcomes: AuthorityOutcome[] = [];
    for (const authority of policy.authorities) {
      const cached = peekAuthority(p.ref, policy, authority, ctx);
      if (cached === undefined) return undefined;
      outcomes.push(cached);
    }
    done.push(ofAuthorities(p.ref, policy, outcomes, ctx));
  }
  return combine(p, done);
}

function peekAuthority(ref: ImageReference, policy: Policy, authority: Authority, ctx: DecisionContext): AuthorityOutcome | undefined {
  const credentials = ctx.credentialsFor(ref, credentialScope(policy, authority));
  if (isCredentialFailure(credentials)) return credentials;
  return ctx.verifier.peek(ref, authority.spec, credentials);
}

/**
 * Every verification the plans need, all in parallel, every authority of every policy too, under
 * one deadline. When it passes, the verifications nobody else waits for are aborted: their
 * fetches stop (ImageVerifier.verify's signal).
 */
async function verifyAll(plans: readonly ImagePlan[], namespace: string | undefined, ctx: DecisionContext): Promise<[string, ImageResult][]> {
  const deadline = deadlineTimer(ctx.deadlineMs);
  try {
    return await Promise.all(
      plans.map(async (p): Promise<[string, ImageResult]> => {
        const done = await Promise.all(p.requirements.map((r) => ('result' in r ? Promise.resolve(r.result) : verifyPolicy(p.ref, r.verify, namespace, ctx, deadline))));
        return [p.image, combine(p, done)];
      }),
    );
  } finally {
    deadline.cancel();
  }
}

async function verifyPolicy(ref: ImageReference, policy: Policy, namespace: string | undefined, ctx: DecisionContext, deadline: Deadline): Promise<RequirementResult> {
  const outcomes = await Promise.all(policy.authorities.map((authority) => verifyWithin(ref, policy, authority, namespace, ctx, deadline)));
  return outcomes.length === 1 ? verification(ref, policy, outcomes[0]!, ctx) : ofAuthorities(ref, policy, outcomes, ctx);
}

async function verifyWithin(ref: ImageReference, policy: Policy, authority: Authority, namespace: string | undefined, ctx: DecisionContext, deadline: Deadline): Promise<AuthorityOutcome> {
  const credentials = ctx.credentialsFor(ref, credentialScope(policy, authority));
  if (isCredentialFailure(credentials)) return credentials;
  const pending = ctx.verifier.verify(ref, authority.spec, credentials, namespace, deadline.signal);
  let outcome: AuthorityOutcome;
  try {
    outcome = await Promise.race([pending, deadline.promise]);
  } catch (error) {
    outcome = error instanceof TrustError ? error : new TrustError('SERVER_ERROR', String(error));
  }
  if (outcome === 'deadline') {
    // At the deadline the cache may still answer: a server that hung is an outage, and the last
    // verified answer it bridges with (verification-cache.ts) settles `pending` within this turn
    // of the event loop. Only that answer counts; anything else is the deadline's TIMEOUT.
    const late = await Promise.race([pending.catch(() => undefined), afterThisTurn()]);
    if (late !== undefined && late !== 'deadline') return late;
    pending.catch(() => undefined); // it may still settle; nobody is waiting
  }
  return outcome;
}

const afterThisTurn = () => new Promise<'deadline'>((resolve) => setImmediate(resolve, 'deadline'));

/** A one-authority verify policy's result (every v1alpha1 policy). */
function verification(ref: ImageReference, policy: Policy, one: AuthorityOutcome, ctx: DecisionContext): RequirementResult {
  if (one === 'deadline' || !('evidence' in one)) return { failure: refusal(ref, one, ctx, describePolicy(policy), policy.mode) };
  // An answer admitted unchecked (Notary's allowUnsignedDigests, a Notation level that did not
  // establish authenticity) verified nothing: it admits, but names no kind as having verified it.
  return { verified: one, mode: policy.mode, policy: describePolicy(policy), mutate: policy.mutate, kinds: one.unchecked ? NO_KINDS : kindBit(one.kind) };
}

function refusal(ref: ImageReference, outcome: Exclude<AuthorityOutcome, Verified>, ctx: DecisionContext, policy: string, mode: Mode): Failure & { mode: Mode } {
  if (outcome === 'deadline') return { code: 'TIMEOUT', message: `verification of ${ref.written} did not finish within ${ctx.deadlineMs} ms`, policy, mode };
  return { code: outcome.code, message: outcome.message, policy, mode };
}

/**
 * Several authorities: `require: any` passes when one verifies, `all` when every one does; those
 * that verify must agree on the digest (else DIGEST_CONFLICT: two kinds of trust name two
 * different images for one tag). A failure lists every failing authority's reason, and carries
 * the first one's code.
 */
function ofAuthorities(ref: ImageReference, policy: Policy, outcomes: readonly AuthorityOutcome[], ctx: DecisionContext): RequirementResult {
  const name = describePolicy(policy);
  let passed: Verified | undefined;
  let passedLabel = '';
  let kinds = NO_KINDS;
  let count = 0;
  const reasons: string[] = [];
  let code: string | undefined;
  for (const [i, outcome] of outcomes.entries()) {
    const label = policy.authorities[i]!.label;
    if (outcome !== 'deadline' && 'evidence' in outcome) {
      if (passed !== undefined && outcome.digest !== passed.digest) {
        return { failure: { code: 'DIGEST_CONFLICT', message: `${passedLabel} resolves ${ref.written} to ${passed.digest}, ${label} to ${outcome.digest}`, policy: name, mode: policy.mode } };
      }
      // A verification that looked at signatures wins over one that admitted the digest unchecked.
      if (passed === undefined || (passed.unchecked && !outcome.unchecked)) {
        passed = outcome;
        passedLabel = label;
      }
      if (!outcome.unchecked) kinds |= kindBit(outcome.kind);
      count++;
      continue;
    }
    const why = refusal(ref, outcome, ctx, name, policy.mode);
    code ??= why.code;
    reasons.push(`${label}: ${why.code}: ${why.message}`);
  }
  const enough = policy.require === Require.ALL ? count === outcomes.length : count > 0;
  if (enough && passed !== undefined) return { verified: passed, mode: policy.mode, policy: name, mutate: policy.mutate, kinds };
  const lead = policy.require === Require.ALL ? `every authority must verify it (require: all)` : 'no authority verified it';
  return { failure: { code: code ?? 'SERVER_ERROR', message: `${lead}: ${reasons.join('; ')}`, policy: name, mode: policy.mode } };
}

/**
 * Every applicable policy's result for one image, and the digest to pin it to. What an
 * enforcing policy verified is pinned whatever a warn- or audit-mode policy found: those may
 * report, never undo (a pod left on its tag runs whatever the registry serves). Every
 * verification counts for agreement, `mutate: false` ones too: a tenant's policy with a server
 * of its own must not pin a digest the cluster's policy resolved differently.
 */
function combine(p: ImagePlan, results: readonly RequirementResult[]): ImageResult {
  const failures: (Failure & { mode: Mode })[] = [];
  const verified: Verification[] = [];
  for (const result of results) {
    if ('failure' in result) failures.push(result.failure);
    else if (result.verified) verified.push(result);
  }
  const basis = verified.find((v) => v.mode === Mode.ENFORCE) ?? verified[0];
  for (const other of verified) {
    if (!basis || other.verified.digest === basis.verified.digest) continue;
    // The basis enforces whenever any verification does, so a conflict denies only when both
    // sides enforce; else it is reported in the other policy's (weaker) mode.
    failures.push({ code: 'DIGEST_CONFLICT', message: `one policy resolves ${p.image} to ${basis.verified.digest}, another to ${other.verified.digest}`, policy: 'the cluster and namespace policies', mode: other.mode });
  }
  const denied = failures.some((f) => f.mode === Mode.ENFORCE);
  const ok = basis && !denied && (basis.mode === Mode.ENFORCE || failures.length === 0) ? basis : undefined;
  // Pinned when a policy that agrees with the basis asks for it (`mutate`); digests admitted
  // unchecked, and name@digest references, are left as written.
  const agreeing = ok ? verified.filter((v) => v.mutate && v.verified.digest === ok.verified.digest) : [];
  // An answer admitted unchecked (a Notation `skip` statement, audit's untrusted signer) pins
  // nothing, and must not hide a verification of the same digest that looked at signatures: a
  // tenant's unchecked answer would otherwise leave the pod on the tag the cluster pinned.
  const wanted = ok && agreeing.length > 0 ? (ok.verified.unchecked ? agreeing.find((v) => !v.verified.unchecked) ?? ok : ok) : undefined;
  const pinned = wanted && !wanted.verified.unchecked && wanted.verified.tag !== undefined ? formatPinned(p.ref, wanted.verified.digest) : undefined;
  // Held at /validate (NOT_PINNED) for an enforcing policy that verified it, not one that admitted it unchecked.
  const pinnedBy = pinned !== undefined ? agreeing.find((v) => v.mode === Mode.ENFORCE && !v.verified.unchecked)?.policy : undefined;
  let kinds = NO_KINDS;
  // Any answer the admission rests on that stood in for an outage is named in a warning.
  let stale: StaleAnswer | undefined;
  if (ok) {
    for (const v of verified) {
      if (v.verified.digest !== ok.verified.digest) continue;
      kinds |= v.kinds;
      stale ??= v.verified.stale;
    }
  }
  return { failures, verified: wanted?.verified, kinds, repository: p.ref.name, pinned, pinnedBy, stale };
}

/** The images to rewrite: verified, mutation wanted, and not already carrying the digest. */
function pinsFor(outcomes: ContainerOutcome[]): { pointer: string; container: string; from: string; to: string; kinds: readonly TrustKind[] }[] {
  const pins = [];
  for (const { container, pinned, kinds } of outcomes) {
    if (pinned !== undefined && pinned !== container.image) pins.push({ pointer: container.pointer, container: originalKey(container), from: container.image, to: pinned, kinds });
  }
  return pins;
}

/**
 * Every Decision is built by `decision()` with the same properties in the same order: objects
 * made by spreading and then extending took a new hidden class per review in V8, and that
 * showed as the single largest cost of a cached review (docs/adr/0003).
 */
function summarise(outcomes: ContainerOutcome[], pins: ReturnType<typeof pinsFor>, req: ReviewRequest, labels: boolean): Decision {
  const denials: string[] = [];
  const warnings: string[] = [];
  const audits: string[] = [];
  const reasons: string[] = [];
  const policies: string[] = [];
  const images: string[] = [];
  let kinds = NO_KINDS;
  // The kinds that verified every image (the verified-by annotation), pinned now or not.
  let everyImage = ALL_KINDS;
  // Warnings of warn-mode policies (the decision is then `warn`), not those of stale answers.
  let warned = false;
  for (const { container, failures, kinds: verifiedBy, stale } of outcomes) {
    const set = kindSetOf(verifiedBy);
    kinds |= set;
    everyImage &= set;
    if (!images.includes(container.image)) images.push(container.image);
    if (stale !== undefined) {
      warnings.push(staleLine(container, stale));
      if (!reasons.includes(STALE_ANSWER)) reasons.push(STALE_ANSWER);
    }
    for (const failure of failures) {
      if (!reasons.includes(failure.code)) reasons.push(failure.code);
      if (!policies.includes(failure.policy)) policies.push(failure.policy);
      if (failure.mode === Mode.ENFORCE) denials.push(denialLine(container, failure));
      else if (failure.mode === Mode.WARN) {
        warnings.push(warningLine(container, failure));
        warned = true;
      }
      else audits.push(denialLine(container, failure));
    }
  }
  if (denials.length > 0) return decision(false, denials.join('\n'), [], NO_ANNOTATIONS, [], reasons, 'deny', images, policies, outcomes, kindList(kinds));
  const patch = req.object ? pinPatch(req.object, pins, labels ? verifiedByLabel(kinds, everyImage) : undefined) : [];
  const annotations = audits.length > 0 ? { [AUDIT_ANNOTATION]: audits.join('\n').slice(0, 10_000) } : NO_ANNOTATIONS;
  const kind = warned ? 'warn' : audits.length > 0 ? 'audit' : 'allow';
  return decision(true, '', warnings, annotations, patch, reasons, kind, images, policies, outcomes, kindList(kinds));
}

/**
 * The verified-by annotation: the kinds that verified every image (`notary,cosign`), empty
 * when images were verified but no one kind verified them all, and null (remove any) when no
 * kind verified any image. Every image counts, including those that arrive pinned, so an
 * author's own value never stands (docs/migration.md step 3 queries it).
 */
function verifiedByLabel(any: KindSet, every: KindSet): string | null {
  return any === NO_KINDS ? null : kindLabel(every);
}

const NO_ANNOTATIONS: Readonly<Record<string, string>> = Object.freeze({});

function decision(
  allowed: boolean,
  message: string,
  warnings: readonly string[],
  auditAnnotations: Readonly<Record<string, string>>,
  patch: readonly PatchOperation[],
  reasons: readonly string[],
  kind: Decision['decision'],
  images: readonly string[],
  policies: readonly string[],
  containers: readonly ContainerOutcome[],
  kinds: readonly TrustKind[],
): Decision {
  return { allowed, message, warnings, auditAnnotations, patch, reasons, decision: kind, images, policies, containers, kinds };
}

const NONE = kindList(NO_KINDS);

function skip(reason: string): Decision {
  return decision(true, '', [], NO_ANNOTATIONS, [], [reason], 'skip', [], [], [], NONE);
}

function deny(lines: string[], reasons: string[]): Decision {
  return decision(false, lines.join('\n'), [], NO_ANNOTATIONS, [], reasons, 'deny', [], [], [], NONE);
}

/** A review's deadline: `promise` resolves, and then `signal` aborts, when it passes. */
interface Deadline {
  readonly promise: Promise<'deadline'>;
  readonly signal: AbortSignal;
  cancel(): void;
}

function deadlineTimer(ms: number): Deadline {
  const controller = new AbortController();
  // One listener per verification waiting on it: up to MAX_IMAGES_PER_REVIEW × policies × authorities.
  setMaxListeners(0, controller.signal);
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => {
      // Resolved first: a review racing its verifications reports the deadline, not the abort.
      resolve('deadline');
      controller.abort(new TrustError('TIMEOUT', `the review's deadline of ${ms} ms passed`));
    }, ms);
  });
  return { promise, signal: controller.signal, cancel: () => clearTimeout(timer) };
}
