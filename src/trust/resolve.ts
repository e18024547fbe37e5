// Which digest a reference may run as, given verified trust data. Pure.
import { effectiveTag, type ImageReference } from '../reference/index.js';
import { TrustError } from './errors.js';
import { short } from './keyring.js';
import { isPinned, lapsedCaPin, type RootPins } from './pins.js';
import { DOCKER_TRUSTED_ROLES, type TrustedRepository } from './repository.js';
import type { VerifiedTargets } from './verify-steps.js';

/** A delegation that must have signed the digest, optionally only with pinned keys. */
export interface SignerRequirement {
  readonly role: string;
  readonly keys: RootPins | undefined;
}

export interface Resolution {
  /** `sha256:<hex>` the publisher signed. */
  readonly digest: string;
  /** The signed tag (for name@digest: the tags signed with that digest). */
  readonly tags: readonly string[];
  /** Roles that signed this digest for this tag. */
  readonly signedBy: readonly string[];
}

interface Signed {
  readonly role: string;
  readonly digest: string;
}

/**
 * Resolves a reference as `docker pull` with DOCKER_CONTENT_TRUST=1 does (targets/releases,
 * then targets; other delegations only when a signer requirement names them), then applies the
 * stricter digest rules: `name:tag@digest` must carry the signed digest, `name@digest` must be
 * a signed target.
 */
export function resolveReference(repo: TrustedRepository, ref: ImageReference, signers: readonly SignerRequirement[]): Resolution {
  if (ref.tag === undefined && ref.digest !== undefined) return resolveDigest(repo, ref.digest, signers);
  const tag = effectiveTag(ref);
  const docker = DOCKER_TRUSTED_ROLES.map((role) => signedTarget(repo, role, tag)).find((s) => s !== undefined);
  const required = signers.map((signer) => requireSigner(repo, signer, tag));
  const found = [docker, ...required].filter((s): s is Signed => s !== undefined);
  const first = found[0];
  if (!first) {
    throw new TrustError('TAG_NOT_SIGNED', `tag "${tag}" of ${repo.gun} is not signed (no signature in ${DOCKER_TRUSTED_ROLES.join(' or ')})`);
  }
  const disagreeing = found.find((s) => s.digest !== first.digest);
  if (disagreeing) {
    throw new TrustError(
      'SIGNER_MISSING',
      `${disagreeing.role} signed ${disagreeing.digest} for tag "${tag}", but ${first.role} signed ${first.digest}`,
    );
  }
  if (ref.digest !== undefined && ref.digest !== first.digest) {
    throw new TrustError('DIGEST_NOT_SIGNED', `tag "${tag}" of ${repo.gun} is signed for ${first.digest}, not ${ref.digest}`);
  }
  const signedBy = [...new Set(found.map((s) => s.role))];
  return { digest: first.digest, tags: [tag], signedBy };
}

function resolveDigest(repo: TrustedRepository, digest: string, signers: readonly SignerRequirement[]): Resolution {
  const roles = signers.length > 0 ? signers.map((s) => s.role) : [...DOCKER_TRUSTED_ROLES];
  const tags = new Set<string>();
  const signedBy = new Set<string>();
  for (const roleName of roles) {
    const role = repo.roles.get(roleName);
    const matching = role ? tagsWithDigest(role, digest) : [];
    const signer = signers.find((s) => s.role === roleName);
    if (signer && matching.length === 0) {
      throw new TrustError('SIGNER_MISSING', `${roleName} has not signed ${digest} in ${repo.gun}`);
    }
    if (signer && role) checkSignerKeys(role, signer, repo.verifiedAt);
    matching.forEach((t) => tags.add(t));
    if (matching.length > 0) signedBy.add(roleName);
  }
  if (tags.size === 0) {
    throw new TrustError('DIGEST_NOT_SIGNED', `${digest} is not the signed digest of any tag of ${repo.gun}`);
  }
  return { digest, tags: [...tags].sort(), signedBy: [...signedBy] };
}

function requireSigner(repo: TrustedRepository, signer: SignerRequirement, tag: string): Signed {
  const role = repo.roles.get(signer.role);
  if (!role) {
    const declared = repo.declaredDelegations.includes(signer.role);
    throw new TrustError(
      'SIGNER_MISSING',
      declared
        ? `${signer.role} of ${repo.gun} has published no signatures`
        : `${repo.gun} has no ${signer.role} delegation (delegations: ${repo.declaredDelegations.join(', ') || 'none'})`,
    );
  }
  const signed = signedTarget(repo, signer.role, tag);
  if (!signed) throw new TrustError('SIGNER_MISSING', `tag "${tag}" of ${repo.gun} is not signed by ${signer.role}`);
  checkSignerKeys(role, signer, repo.verifiedAt);
  return signed;
}

function checkSignerKeys(role: VerifiedTargets, signer: SignerRequirement, now: number): void {
  if (!signer.keys) return;
  const pins = signer.keys;
  const pinned = role.signers.filter((key) => isPinned(key, pins, now));
  if (pinned.length < role.threshold) {
    const used = role.signers.map((k) => short(k.canonicalId)).join(', ');
    const lapsed = lapsedCaPin(role.signers, pins, now);
    throw new TrustError('SIGNER_KEY_MISMATCH', `${role.name} was signed by key(s) ${used}, not by the pinned signer keys${lapsed ? `: ${lapsed}` : ''}`, { role: role.name });
  }
}

function signedTarget(repo: TrustedRepository, roleName: string, tag: string): Signed | undefined {
  const role = repo.roles.get(roleName);
  if (!role || !role.paths.some((prefix) => tag.startsWith(prefix))) return undefined;
  const meta = role.doc.body.targets.get(tag);
  return meta && { role: roleName, digest: `sha256:${meta.sha256.toString('hex')}` };
}

function tagsWithDigest(role: VerifiedTargets, digest: string): string[] {
  const tags: string[] = [];
  for (const [tag, meta] of role.doc.body.targets) {
    if (`sha256:${meta.sha256.toString('hex')}` === digest && role.paths.some((p) => tag.startsWith(p))) tags.push(tag);
  }
  return tags;
}
