// Opens the durable trust state `trustgate serve` is configured with (trustState, ADR 0013):
// TrustRecord objects through the API server, a file, or nothing (this process's memory).
import type { Logger } from 'pino';
import type { ServeConfig } from '../../src/config/index.js';
import { FileStateBackend, StateFileError } from '../../src/trust/trust-state-file.js';
import { TrustState, type TrustStateBackend } from '../../src/trust/trust-state.js';
import { UsageError } from './errors.js';

/**
 * The state, listed once when the store answers. A file that cannot be used stops the start; an
 * API server that does not answer yet is retried with backoff while /readyz says not ready.
 */
export async function openTrustState(config: ServeConfig, logger: Logger): Promise<TrustState | undefined> {
  const settings = config.trustState;
  if (settings.store === 'memory') return undefined;
  const log = logger.child({ component: 'trust-state' });
  let backend: TrustStateBackend;
  if (settings.store === 'file') {
    backend = new FileStateBackend({ path: settings.file ?? '', maxBytes: settings.maxFileBytes });
  } else {
    // Loaded only when used, as the rest of the Kubernetes side (client-node is slow to import).
    const kube = await import('../../src/kube/index.js');
    backend = kube.kubeTrustRecords(kube.loadKubeConfig(config.kubernetes?.kubeconfig), settings.namespace ?? '', log);
  }
  const state = new TrustState({
    backend,
    maxRecords: settings.maxRecords,
    expireAfterMs: settings.expireAfterSeconds * 1000,
    touchIntervalMs: settings.touchIntervalSeconds * 1000,
    writesPerSecond: settings.writesPerSecond,
    writeBurst: settings.writeBurst,
    refreshIntervalMs: settings.refreshIntervalSeconds * 1000,
    onError: (what, error) => log.warn({ err: error instanceof Error ? error.message : String(error) }, what),
  });
  if (settings.store === 'file') {
    try {
      await state.start();
    } catch (error) {
      throw new UsageError(error instanceof StateFileError ? error.message : `trustState.file: ${error instanceof Error ? error.message : String(error)}`);
    }
    return state;
  }
  let failures = 0;
  const attempt = (): void => {
    if (state.stopped) return;
    state.start().then(
      () => log.info({ records: state.sizes().records }, 'trust state listed'),
      (error: unknown) => {
        const delay = Math.min(30_000, 1000 * 2 ** failures++);
        log.warn({ err: error instanceof Error ? error.message : String(error), retryInMs: delay }, 'trust state not listed yet; retrying');
        setTimeout(attempt, delay).unref();
      },
    );
  };
  attempt();
  return state;
}
