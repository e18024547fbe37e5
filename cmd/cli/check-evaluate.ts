// The webhook's decision for manifests: each reviewed object becomes the AdmissionReview
// request kube-apiserver would send for its CREATE, and goes through decide() itself, so check,
// pin and admission can never disagree. The namespace's opt-in label is not read: every object
// is decided as if its namespace were enforced (trustgate.dev/enforce=true), which is what a
// team asks before turning it on.
import { containerImages, decide, denialLine, isReviewedKind, type ContainerImage, type ContainerOutcome, type CredentialLookup, type Decision, type ImageVerifier, type ReviewRequest } from '../../src/admission/index.js';
import { Mode, type PolicySet } from '../../src/policy/index.js';
import { UsageError } from './errors.js';
import { lineOfField, MANIFEST_LIMITS, type Manifest } from './manifests.js';

export interface EvaluationContext {
  readonly policies: PolicySet;
  readonly verifier: ImageVerifier;
  /** For objects that name none; `default` when undefined, as kubectl does. */
  readonly namespace: string | undefined;
  readonly defaultAction: 'allow' | 'deny';
  /** Per object, as the webhook's deadlineSeconds. */
  readonly deadlineMs: number;
  /** The caller's registry credentials (cmd/cli/check-credentials.ts); none: public images only. */
  readonly credentialsFor?: CredentialLookup;
}

/** One image of a reviewed object, with the line of its image field. */
export interface ImageResult {
  readonly outcome: ContainerOutcome;
  readonly line: number;
}

export interface ObjectResult {
  readonly manifest: Manifest;
  readonly namespace: string;
  /** Undefined for kinds the webhook does not review (Services, ConfigMaps, …). */
  readonly decision: Decision | undefined;
  readonly images: readonly ImageResult[];
}

/** A finding: what the webhook would say about one image (or one object it refuses whole). */
export interface Finding {
  readonly file: string;
  readonly line: number;
  readonly object: ObjectResult;
  readonly code: string;
  /** `deny` fails the check; `warn` and `audit` are what mode warn and audit report. */
  readonly level: 'deny' | 'warn' | 'audit';
  /** The webhook's denial line, attacker-chosen strings already escaped. */
  readonly message: string;
  readonly container: ContainerImage | undefined;
}

export async function evaluateManifests(manifests: readonly Manifest[], ctx: EvaluationContext): Promise<ObjectResult[]> {
  // Counted before anything is verified: a flood of images is refused without one trust fetch.
  const images = manifests.reduce((n, m) => n + (isReviewedKind(m.kind) ? countImages(m) : 0), 0);
  if (images > MANIFEST_LIMITS.images) throw new UsageError(`the manifests name ${images} images, more than ${MANIFEST_LIMITS.images}`);
  const results: ObjectResult[] = new Array<ObjectResult>(manifests.length);
  // A few objects at a time: distinct images verify in parallel, and the verifier's cache and
  // shared work make an image named by many objects one verification.
  let next = 0;
  const worker = async () => {
    while (next < manifests.length) {
      const i = next++;
      results[i] = await evaluateOne(manifests[i]!, ctx);
    }
  };
  await Promise.all(Array.from({ length: Math.min(OBJECTS_AT_ONCE, manifests.length) }, worker));
  return results;
}

/** Objects decided at once: each may verify up to MAX_IMAGES_PER_REVIEW images itself. */
const OBJECTS_AT_ONCE = 4;

async function evaluateOne(manifest: Manifest, ctx: EvaluationContext): Promise<ObjectResult> {
  const namespace = objectNamespace(manifest, ctx.namespace);
  if (!isReviewedKind(manifest.kind)) return { manifest, namespace, decision: undefined, images: [] };
  const decision = await decide(reviewOf(manifest, namespace), 'mutate', {
    policies: ctx.policies,
    verifier: ctx.verifier,
    defaultAction: ctx.defaultAction,
    // Pins are computed for workloads too: check reports them and pin writes them.
    mutateWorkloads: true,
    deadlineMs: ctx.deadlineMs,
    // The docker config's credentials (--docker-config), never the pods' imagePullSecrets.
    credentialsFor: ctx.credentialsFor ?? (() => undefined),
  });
  return { manifest, namespace, decision, images: decision.containers.map((outcome) => ({ outcome, line: lineOfField(manifest, outcome.container.pointer) })) };
}

/** Malformed objects are counted as none here; decide() refuses them (MALFORMED_OBJECT). */
function countImages(m: Manifest): number {
  try {
    return containerImages(m.kind, m.object).length;
  } catch {
    return 0;
  }
}

/**
 * The request kube-apiserver sends for creating the object. /mutate's answer, not /validate's:
 * /validate expects the images /mutate pinned (NOT_PINNED), which a manifest has not been through.
 */
function reviewOf(m: Manifest, namespace: string): ReviewRequest {
  const [group, version] = m.apiVersion.includes('/') ? m.apiVersion.split('/', 2) : ['', m.apiVersion];
  return {
    uid: `check-${m.document}`,
    kind: { group: group ?? '', version: version ?? '', kind: m.kind },
    resource: `${m.kind.toLowerCase()}s`,
    subResource: '',
    namespace,
    name: m.name,
    operation: 'CREATE',
    object: m.object,
    oldObject: undefined,
    dryRun: true,
  };
}

/** The namespace an object is decided in: its own, else the one given, else `default`. */
export function objectNamespace(manifest: Manifest, fallback: string | undefined): string {
  return namespaceOf(manifest.object) ?? fallback ?? 'default';
}

function namespaceOf(object: Record<string, unknown>): string | undefined {
  const metadata = object.metadata;
  if (typeof metadata !== 'object' || metadata === null) return undefined;
  const ns = (metadata as Record<string, unknown>).namespace;
  return typeof ns === 'string' && ns !== '' ? ns : undefined;
}

/** Every finding, in input order: one per failing image and policy, as the webhook words it. */
export function findingsOf(results: readonly ObjectResult[]): Finding[] {
  const out: Finding[] = [];
  for (const object of results) {
    const { decision, manifest } = object;
    if (!decision) continue;
    if (!decision.allowed && decision.containers.length === 0) {
      // Refused whole (malformed, too many images): the decision's own words, at the object.
      out.push({ file: manifest.file, line: manifest.line, object, code: decision.reasons[0] ?? 'MALFORMED_OBJECT', level: 'deny', message: decision.message, container: undefined });
      continue;
    }
    for (const { outcome, line } of object.images) {
      for (const failure of outcome.failures) {
        const level = failure.mode === Mode.ENFORCE ? 'deny' : failure.mode === Mode.WARN ? 'warn' : 'audit';
        out.push({ file: manifest.file, line, object, code: failure.code, level, message: denialLine(outcome.container, failure), container: outcome.container });
      }
    }
  }
  return out;
}
