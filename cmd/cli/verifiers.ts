// The trust side every command that decides like the webhook needs: one metadata byte budget,
// Notary's TrustClient, the OCI client cosign and Notation read signatures with, and the
// CachingVerifier over the three kinds. `serve` and `check`/`pin` build it here, so an offline answer and an admission
// answer come from the same verifiers with the same limits.
import { CachingVerifier, type CacheObserver } from '../../src/admission/index.js';
import type { ServeConfig } from '../../src/config/index.js';
import { OciRegistryClient } from '../../src/registry/oci/index.js';
import { CosignVerifier } from '../../src/trust/cosign/index.js';
import { DEFAULT_METADATA_BUDGET, MetadataBudget, NotaryVerifier, TrustClient } from '../../src/trust/index.js';
import { NotationVerifier } from '../../src/trust/notation/verifier.js';
import type { TrustState } from '../../src/trust/trust-state.js';

/** What the verifiers are built from: serve's config keys of the same names. */
export type VerifierConfig = Pick<ServeConfig, 'trust' | 'cache' | 'deadlineSeconds'>;

export interface Verifiers {
  readonly verifier: CachingVerifier;
  readonly client: TrustClient;
  readonly registry: OciRegistryClient;
  /** Closes the clients' connections. */
  close(): void;
}

export function buildVerifiers(
  config: VerifierConfig,
  observer: CacheObserver,
  onFetch?: (server: string, file: string, ms: number, ok: boolean) => void,
  /** Durable TOFU roots and rollback floors (ADR 0013); serve's, when configured. */
  state?: TrustState,
): Verifiers {
  // One byte budget for what every kind's fetches hold at once (ADR 0008): Notary metadata and
  // cosign's manifests, referrers pages and blobs draw on the same 32 MiB, so adding a kind does
  // not add its own allowance to the peak the chart's memory limit was sized for.
  const budget = new MetadataBudget(DEFAULT_METADATA_BUDGET);
  const client = new TrustClient({ ...(state && { state }), requestTimeoutMs: config.trust.requestTimeoutSeconds * 1000, ...(onFetch && { onFetch }), budget });
  const registry = new OciRegistryClient({ budget });
  // Every kind of trust served: a policy's authority of a kind missing here is refused at verification.
  // Which credentials each verification carries is decide()'s (admission/credentials.ts, ADR 5):
  // a cosign authority's connection is the image's registry, the namespace's when an ImagePolicy
  // sets its CA or plain HTTP (COSIGN_AUTHORITY.choosesConnection); a Notation authority's too.
  // Cosign and Notation share the registry client: its connections, token cache and the budget.
  const kinds = [new NotaryVerifier(client, config.trust.servers), new CosignVerifier(registry), new NotationVerifier(registry)];
  const verifier = new CachingVerifier(
    kinds,
    {
      maxEntries: config.cache.maxEntries,
      maxBytes: config.cache.maxBytes,
      maxTtlMs: config.cache.maxTtlSeconds * 1000,
      negativeTtlMs: config.cache.negativeTtlSeconds * 1000,
      staleForMs: config.cache.staleForSeconds * 1000,
      timeoutMs: config.deadlineSeconds * 1000,
      servers: config.trust.servers,
      now: Date.now,
    },
    observer,
  );
  return {
    verifier,
    client,
    registry,
    close: () => {
      client.close();
      registry.close();
    },
  };
}
