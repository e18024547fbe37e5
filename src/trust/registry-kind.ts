// What the kinds whose signatures live in the image's own registry (cosign,
// src/trust/cosign/; Notation, src/trust/notation/) share: the connection a verification uses,
// the digest it verifies, and JSON read from the registry. The logic is one; the limits are
// each kind's (its limits.ts).
import { effectiveTag, type ImageReference } from '../reference/index.js';
import type { RegistryClient, RegistryConnection } from '../registry/oci/types.js';
import { checkJsonShape, type JsonShapeLimits } from '../shared/json-shape.js';
import { TrustError, TrustErrorCode } from './errors.js';
import type { VerifyContext } from './kind.js';

/** The connection of one verification to the image's registry, as the authority configures it. */
export function connectionFor(ref: ImageReference, registry: { readonly insecure: boolean; readonly caBundle: string | undefined }, ctx: VerifyContext): RegistryConnection {
  return {
    registry: ref.registry,
    insecure: registry.insecure,
    caBundle: registry.caBundle,
    credentials: ctx.credentials,
    // The whole verification, every fetch included, ends at timeoutMs or the review's deadline.
    signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(ctx.timeoutMs)]),
    timeoutMs: ctx.timeoutMs,
  };
}

/** The digest verified: the one written, else the tag's digest NOW (the pod is pinned to it). */
export async function digestOf(client: RegistryClient, conn: RegistryConnection, ref: ImageReference): Promise<string> {
  if (ref.digest !== undefined) return ref.digest;
  const tag = effectiveTag(ref);
  const digest = await client.resolveTag(conn, ref.repository, tag);
  if (digest === undefined) throw new TrustError(TrustErrorCode.REGISTRY_ERROR, `tag "${tag}" of ${ref.name} does not exist in the registry`);
  return digest;
}

/** JSON from the registry, its shape bounded before parsing; undefined when it is not JSON. */
export function readBoundedJson(bytes: Uint8Array, shape: JsonShapeLimits): unknown {
  if (!checkJsonShape(bytes, shape).ok) return undefined;
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export function asObject(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Why one signature examined did not count, for the refusal that names them all. */
export interface SignatureFailure {
  /** Where it was found (a referrer's digest, a tag). */
  readonly origin: string;
  readonly code: TrustErrorCode;
  readonly reason: string;
}

/** The code of the signature that got furthest: the first of `order` any failure has. */
export function furthestCode(order: readonly TrustErrorCode[], failures: readonly SignatureFailure[]): TrustErrorCode {
  return order.find((c) => failures.some((f) => f.code === c)) ?? TrustErrorCode.SIGNATURE_INVALID;
}

/** A refusal that names every signature examined and why each failed, cut at `maxLength` characters. */
export function refusalListing(code: TrustErrorCode, head: string, failures: readonly SignatureFailure[], maxLength: number): TrustError {
  let message = `${head}: ${failures.map((f) => `${f.origin}: ${f.code}: ${f.reason}`).join('; ')}`;
  if (message.length > maxLength) message = `${message.slice(0, maxLength - 1)}…`;
  return new TrustError(code, message);
}
