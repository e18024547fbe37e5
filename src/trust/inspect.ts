import { parsePublicKey, type PublicKey } from './keys.js';
import type { TrustedRepository } from './repository.js';

/** What `docker trust inspect` shows, from verified data only. */
export interface RepositoryReport {
  readonly name: string;
  readonly signedTags: readonly { tag: string; digest: string; signers: readonly string[] }[];
  readonly delegations: readonly { role: string; threshold: number; paths: readonly string[]; keyIds: readonly string[] }[];
  readonly rootKeyIds: readonly string[];
  readonly repositoryKeyIds: readonly string[];
  readonly trustOnFirstUse: boolean;
  readonly expires: string;
}

export function inspectRepository(repo: TrustedRepository): RepositoryReport {
  const tags = new Map<string, { tag: string; digest: string; signers: string[] }>();
  for (const role of repo.roles.values()) {
    for (const [tag, meta] of role.doc.body.targets) {
      if (!role.paths.some((prefix) => tag.startsWith(prefix))) continue;
      const digest = `sha256:${meta.sha256.toString('hex')}`;
      const key = `${tag} ${digest}`;
      const entry = tags.get(key) ?? { tag, digest, signers: [] };
      entry.signers.push(role.name);
      tags.set(key, entry);
    }
  }
  const delegations = [...repo.roles.values()].flatMap((parent) =>
    parent.doc.body.delegations.map((spec) => ({
      role: spec.name,
      threshold: spec.threshold,
      paths: spec.paths,
      keyIds: canonicalIds(repo, spec.name, spec.keyids),
    })),
  );
  const root = repo.root.doc.body;
  return {
    name: repo.gun,
    signedTags: [...tags.values()].sort((a, b) => a.tag.localeCompare(b.tag) || a.digest.localeCompare(b.digest)),
    delegations: delegations.sort((a, b) => a.role.localeCompare(b.role)),
    rootKeyIds: repo.root.signers.map((k) => k.canonicalId),
    repositoryKeyIds: root.roles.targets.keyids.map((id) => canonicalIdOf(() => repo.root.keyring.get(id)) ?? id),
    trustOnFirstUse: repo.root.trustOnFirstUse,
    expires: new Date(repo.expires).toISOString(),
  };
}

/** Canonical IDs as `notary delegation list` shows them; the raw ID where a key is unreadable. */
function canonicalIds(repo: TrustedRepository, role: string, keyids: readonly string[]): string[] {
  const parent = repo.roles.get(role.slice(0, role.lastIndexOf('/')));
  return keyids.map((id) => {
    const raw = parent?.doc.body.delegationKeys.get(id);
    return (raw && canonicalIdOf(() => parsePublicKey(raw, role))) ?? id;
  });
}

function canonicalIdOf(parse: () => PublicKey | undefined): string | undefined {
  try {
    return parse()?.canonicalId;
  } catch {
    return undefined;
  }
}
