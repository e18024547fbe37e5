// `trustgate serve --config FILE`: the admission webhook. Everything is built here from the
// checked config and handed down; nothing below cmd/ reads the environment.
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { credentialLookup, decide, type Endpoint, type ReviewRequest } from '../../src/admission/index.js';
import { ConfigError, parseServeConfig, type ServeConfig } from '../../src/config/index.js';
import { LogBuffer, Metrics } from '../../src/observability/index.js';
import { loadPolicyFiles, PolicyError, PolicyFileWatcher, PolicyKind, PolicySet, type Policy } from '../../src/policy/index.js';
import { DOCKER_HUB_TRUST_SERVER } from '../../src/registry/index.js';
import { clientCertificateCheck, createRequestListener, listenHttp, listenHttps, metricsHandler, readTls, TlsReloader, type Listener } from '../../src/server/index.js';
import { TrustKind, type NotarySpec } from '../../src/trust/index.js';
import { certificateCacheSize } from '../../src/trust/notation/certificates.js';
import express from 'express';
import { ExitCode, UsageError } from './errors.js';
import type { Output } from './output.js';
import { SERVE_USAGE } from './serve-usage.js';
import { openTrustState } from './serve-trust-state.js';
import { readText, type Environment } from './trust-options.js';
import { warmUpReviewPath } from './warm-up.js';
import { buildVerifiers } from './verifiers.js';

export async function runServe(argv: string[], _environment: Environment, out: Output): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  if (values.help) {
    out.stdout(SERVE_USAGE);
    return ExitCode.OK;
  }
  if (positionals.length > 0) throw new UsageError(`serve takes no arguments, got "${positionals[0]}"`);
  if (values.config === undefined) throw new UsageError('--config FILE is required');
  const config = readConfig(values.config);
  const stop = await startServer(config);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await stop();
  return ExitCode.OK;
}

/** Trust servers the cluster chose, the only ones named in metric labels (never a tenant's). */
function configuredTrustServers(config: ServeConfig, policies: PolicySet): (string | undefined)[] {
  return [
    DOCKER_HUB_TRUST_SERVER,
    ...Object.values(config.trust.servers),
    ...policies.policies.filter((p) => p.kind === PolicyKind.CLUSTER).flatMap((p) => p.authorities.map((a) => (a.spec.kind === TrustKind.NOTARY ? (a.spec as NotarySpec).server : undefined))),
  ];
}

/**
 * What to warm at start (issue 12): the trust servers `trust.servers` and ClusterImagePolicies
 * name (never a tenant's, never Docker Hub's unasked), each with the CA bundles cluster Notary
 * authorities would reach it with. TrustClient.warm bounds the count.
 */
function warmTargets(config: ServeConfig, policies: PolicySet): { server: string; caBundle: string | undefined }[] {
  const notary = policies.policies
    .filter((p) => p.kind === PolicyKind.CLUSTER)
    .flatMap((p) => p.authorities.filter((a) => a.spec.kind === TrustKind.NOTARY).map((a) => a.spec as NotarySpec));
  const byRegistry = new Set(notary.filter((n) => n.server === undefined).map((n) => n.caBundle));
  const targets = [
    ...Object.values(config.trust.servers).flatMap((server) => [...(byRegistry.size > 0 ? byRegistry : [undefined])].map((caBundle) => ({ server, caBundle }))),
    ...notary.flatMap((n) => (n.server === undefined ? [] : [{ server: n.server, caBundle: n.caBundle }])),
  ];
  return [...new Map(targets.map((t) => [JSON.stringify(t), t])).values()];
}

function readConfig(file: string): ServeConfig {
  const text = readText(file, '--config');
  try {
    return parseServeConfig(text, file);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

/** Starts every listener and watcher; resolves to a function that stops them gracefully. */
export async function startServer(config: ServeConfig): Promise<() => Promise<void>> {
  // Batched stdout (src/observability/log-buffer.ts): a write per decision line cost as much as
  // a review. Flushed every 200 ms, on shutdown, and at exit, so lines are never held long.
  const destination = new LogBuffer(1);
  const flusher = setInterval(() => destination.flush(), 200);
  flusher.unref();
  const flushAtExit = () => destination.flushSync();
  process.once('exit', flushAtExit);
  const logger = pino({ level: config.logLevel, base: { service: 'trustgate' } }, destination);
  const metrics = new Metrics();
  metrics.countLogDrops(() => destination.droppedTotal);
  const usesFiles = config.policies.files.length > 0;
  let loaded;
  try {
    loaded = usesFiles ? loadPolicyFiles(config.policies.files, config.baseDir) : undefined;
  } catch (error) {
    // Refuse to start on broken policies: there is no last good set yet.
    throw new UsageError(error instanceof PolicyError ? error.message : String(error));
  }
  // Policies in force: the files' and the API server's together.
  let filePolicies: readonly Policy[] = loaded?.set.policies ?? [];
  let crdPolicies: readonly Policy[] = [];
  let policies: PolicySet = new PolicySet(filePolicies);
  // The audit (docs/audit.md) re-runs when the policies in force change.
  let audit: { policiesChanged(): void; stop(): Promise<void> } | undefined;
  const rebuild = () => {
    policies = new PolicySet([...filePolicies, ...crdPolicies]);
    metrics.policyReload(true, policies.policies.length);
    metrics.nameTrustServers(configuredTrustServers(config, policies));
    audit?.policiesChanged();
  };
  rebuild();
  const kube = config.kubernetes
    ? // Loaded only when used: @kubernetes/client-node alone takes ~0.4 s to import.
      await (await import('./serve-kubernetes.js')).startKubernetesSide(config.kubernetes, logger, (next) => {
        crdPolicies = next;
        rebuild();
      })
    : undefined;
  if (kube) metrics.countEventDrops(kube.eventsDropped);
  const watcher = loaded && new PolicyFileWatcher(
    config.policies.files,
    config.baseDir,
    loaded,
    (next) => {
      filePolicies = next.set.policies;
      rebuild();
      logger.info({ policies: next.set.policies.length, files: next.files }, 'policies reloaded');
    },
    (error) => {
      metrics.policyReload(false);
      logger.error({ problems: error.problems }, 'policy change rejected; the last good policies stay in force');
    },
    config.policies.reloadIntervalSeconds * 1000,
  );
  watcher?.start();

  const trustState = await openTrustState(config, logger);
  const { verifier, client, registry } = buildVerifiers(config, metrics, (server, _file, ms, ok) => metrics.trustFetch(server, ms, ok), trustState);
  // Connections to the configured trust servers, opened now so the first review finds them (and
  // their TLS sessions) ready; readiness does not wait for them.
  void client.warm(warmTargets(config, policies), config.trust.requestTimeoutSeconds * 1000);
  // The review code run once on a recorded repository (cmd/cli/warm-up.ts), while those connect.
  const warmUp = await warmUpReviewPath();
  if (warmUp.ok) logger.debug({ ms: Math.round(warmUp.ms) }, 'review path warmed up');
  else logger.warn('the start-up run of the review path on a recorded repository did not verify; first reviews may be slower');
  metrics.countTrustClient(() => {
    const state = trustState?.sizes();
    return { ...client.sizes(), ...(state && { trustRecords: state.records, trustRecordsUnwritten: state.dirty, trustRecordsRefused: state.refusedFull }) };
  });
  // notationCertificates: the parsed-certificate cache of Notation signatures (trust/notation/certificates.ts).
  metrics.countRegistryClient(() => ({ ...registry.sizes(), notationCertificates: certificateCacheSize() }));
  metrics.countVerifications(() => verifier.verifications());
  if (kube && config.kubernetes && config.audit) {
    // Same decide(), same CachingVerifier as the webhook: the audit can never answer otherwise.
    audit = (await import('./serve-audit.js')).startAudit({
      config: config.audit, kubernetes: config.kubernetes, serve: config, logger: logger.child({ component: 'audit' }), metrics, verifier, policies: () => policies, side: kube,
    });
  }
  const deadlineMs = config.deadlineSeconds * 1000;
  const review = async (endpoint: Endpoint, request: ReviewRequest) => {
    // Reading pull secrets is part of the review: it spends the same deadline (issue 9).
    const started = performance.now();
    const credentials = kube ? await kube.credentials(request, deadlineMs) : undefined;
    const decision = await decide(request, endpoint, {
      policies,
      verifier,
      defaultAction: config.defaultAction,
      mutateWorkloads: config.mutateWorkloads,
      deadlineMs: kube ? Math.max(1, deadlineMs - (performance.now() - started)) : deadlineMs,
      credentialsFor: credentialLookup(credentials),
    });
    // One event per request: a denial where it happens (a /mutate denial ends the request);
    // warnings and audit findings from /validate, which sees them too; pins from /mutate.
    const record =
      decision.decision === 'deny' ||
      (endpoint === 'validate' && (decision.decision === 'warn' || decision.decision === 'audit')) ||
      (endpoint === 'mutate' && decision.patch.length > 0);
    if (record) kube?.recordEvents(request, decision);
    return decision;
  };

  const app = createRequestListener({
    review, metrics, logger, ready: () => (kube?.ready() ?? true) && (trustState?.ready ?? true), maxRequestBytes: config.maxRequestBytes, maxBytesInFlight: config.maxBytesInFlight, serveMetrics: config.metrics === undefined,
    ...(config.tls.clientCAFile !== undefined && { clientCheck: clientCertificateCheck(config.tls.clientNames) }),
  });
  let tls;
  try {
    tls = readTls(config.tls);
  } catch (error) {
    watcher?.stop();
    kube?.stop();
    void audit?.stop();
    trustState?.stop();
    const files = [config.tls.certFile, config.tls.keyFile, config.tls.clientCAFile].filter(Boolean).join(' / ');
    throw new UsageError(`tls: cannot read ${files}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const main = await listenHttps(app, tls, config.listen.host, config.listen.port);
  const reloader = new TlsReloader(config.tls, tls, (ok, error) => {
    if (ok) logger.info('TLS certificate reloaded');
    else logger.error({ err: error }, 'TLS certificate reload failed; still serving the previous certificate');
  });
  reloader.start(main.server, config.tls.reloadIntervalSeconds * 1000);
  let metricsListener: Listener | undefined;
  if (config.metrics) {
    const metricsApp = express();
    metricsApp.get('/metrics', metricsHandler(metrics));
    metricsListener = await listenHttp(metricsApp, config.metrics.host, config.metrics.port);
  }
  logger.info({ port: main.port, host: config.listen.host, metricsPort: metricsListener?.port, policies: policies.policies.length }, 'trustgate serving');
  destination.flush();

  return async () => {
    logger.info('shutting down: finishing reviews in flight');
    watcher?.stop();
    // First: the Lease is given up at once, so a standby replica takes the audit over.
    await audit?.stop();
    kube?.stop();
    reloader.stop();
    const grace = config.shutdownGraceSeconds * 1000;
    await Promise.all([main.close(grace), metricsListener?.close(grace)]);
    client.close();
    registry.close();
    // What replicas and the next start must know: versions verified since the last write.
    // Bounded: an API server that does not answer must not hold the shutdown.
    if (trustState) await Promise.race([trustState.settle(), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    trustState?.stop();
    logger.info('stopped');
    clearInterval(flusher);
    process.off('exit', flushAtExit);
    await destination.close();
  };
}
