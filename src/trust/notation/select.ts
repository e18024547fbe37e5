// Which trust policy statement applies to an image (trust-store-trust-policy.md "Selecting a
// trust policy based on artifact URI"; notation-go verifier/trustpolicy/oci.go
// GetApplicableTrustPolicy): the statement whose registryScopes name the repository exactly,
// else the one whose scope is `*`. The policy parser has made sure a scope appears in one
// statement at most and `*` alone.
//
// Scopes are `host[:port]/repository` as notation names an artifact: Docker Hub's images are
// `docker.io/library/alpine`, which is trustgate's canonical name too (src/reference): the
// registry `docker.io` (whatever alias was written) and the repository with `library/`.
import type { TrustPolicyDocument, TrustPolicyStatement } from './types.js';

export function selectStatement(doc: TrustPolicyDocument, registry: string, repository: string): TrustPolicyStatement | undefined {
  const scope = `${registry}/${repository}`;
  return doc.statements.find((s) => s.registryScopes.includes(scope)) ?? doc.statements.find((s) => s.registryScopes.includes('*'));
}
