// The HTTP surface: POST /mutate and /validate (AdmissionReview v1), /healthz, /readyz, /metrics.
// Malformed requests get an HTTP error or a denial with a clear message; never a crash, a stack
// trace or a hang.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { admissionResponse, denialResponse, parseReview, ReviewError, type Decision, type Endpoint, type ReviewRequest } from '../admission/index.js';
import type { Metrics } from '../observability/index.js';
import { readJsonBody, sendJson } from './body.js';
import type { ClientCheck } from './client-auth.js';

export interface AppDeps {
  /** Decides one review with the policies currently in force. */
  readonly review: (endpoint: Endpoint, request: ReviewRequest) => Promise<Decision>;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Policies loaded (and, later, informers synced). */
  readonly ready: () => boolean;
  readonly maxRequestBytes: number;
  /** Serve /metrics here too (when there is no separate metrics listener). */
  readonly serveMetrics: boolean;
  /** Who may use every path but /healthz and /readyz (tls.clientCAFile); undefined: anyone. */
  readonly clientCheck?: ClientCheck;
}

/** Open to anyone even with a client check: the kubelet's probes present no certificate. */
const PROBES = new Set(['/healthz', '/readyz']);

/** Where a request goes: the webhook paths straight to the review, the rest through express. */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * POST /mutate and /validate are dispatched before express (docs/adr/0003): its per-request
 * work — router, and swapping the prototypes of req and res — cost more than the review itself
 * on the hot path. Everything else (health, readiness, metrics, errors) goes through express.
 */
export function createRequestListener(deps: AppDeps): RequestListener {
  const app = createApp(deps);
  return (req, res) => {
    const path = req.url?.split('?', 1)[0];
    const refused = deps.clientCheck && !PROBES.has(path ?? '') ? deps.clientCheck(req) : undefined;
    if (refused) {
      // Before the body is read: an unauthenticated client costs no parsing and no review.
      deps.metrics.malformedRequest('unauthenticated');
      deps.logger.warn({ code: refused.code, path: path?.slice(0, 100), remote: req.socket.remoteAddress }, 'request refused: client not authenticated');
      res.setHeader('connection', 'close');
      sendJson(res, refused.status, { error: `${refused.code}: ${refused.message}` });
      return;
    }
    if (req.method === 'POST' && (path === '/mutate' || path === '/validate')) {
      handleReview(path === '/mutate' ? 'mutate' : 'validate', req, res, deps).catch((error: unknown) => {
        deps.logger.error({ err: error }, 'request failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      });
      return;
    }
    app(req, res);
  };
}

/** Everything but the webhook paths: health, readiness, metrics, 404s and errors. */
function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok');
  });
  app.get('/readyz', (_req, res) => {
    const ready = deps.ready();
    res.status(ready ? 200 : 503).type('text/plain').send(ready ? 'ready' : 'not ready: policies not loaded');
  });
  if (deps.serveMetrics) app.get('/metrics', metricsHandler(deps.metrics));
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found: POST /mutate or /validate with an AdmissionReview' });
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    deps.logger.error({ err: error }, 'request failed');
    if (!res.headersSent) res.status(500).json({ error: 'internal error' });
  });
  return app;
}

export function metricsHandler(metrics: Metrics) {
  return async (_req: Request, res: Response): Promise<void> => {
    res.type(metrics.contentType).send(await metrics.text());
  };
}

async function handleReview(endpoint: Endpoint, req: IncomingMessage, res: ServerResponse, deps: AppDeps): Promise<void> {
  const started = performance.now();
  const read = await readJsonBody(req, deps.maxRequestBytes);
  if (!('ok' in read)) {
    deps.metrics.malformedRequest(read.reason);
    sendJson(res, read.status, { error: read.message });
    return;
  }
  const body = read.ok;
  let review: ReviewRequest;
  try {
    review = parseReview(body);
  } catch (error) {
    const e = error instanceof ReviewError ? error : new ReviewError(String(error), undefined);
    deps.metrics.malformedRequest('malformed-review');
    deps.logger.warn({ uid: e.uid, endpoint, error: e.message }, 'malformed AdmissionReview');
    // With a uid the API server can show our reason; without one, it can only see an HTTP error.
    if (e.uid) sendJson(res, 200, denialResponse(e.uid, e.message));
    else sendJson(res, 400, { error: e.message });
    return;
  }
  // The uid goes into each line rather than a child logger: creating one per request cost more
  // than the line itself (bench/RESULTS.md).
  const log = deps.logger;
  if (log.isLevelEnabled('debug')) log.debug({ uid: review.uid, review: body }, 'AdmissionReview received');
  let decision: Decision;
  try {
    decision = await deps.review(endpoint, review);
  } catch (error) {
    // Fail closed: whatever went wrong, the answer is no, with the reason.
    log.error({ uid: review.uid, err: error }, 'review failed');
    sendJson(res, 200, denialResponse(review.uid, `trustgate could not review this request: ${error instanceof Error ? error.message : String(error)}`));
    return;
  }
  const seconds = (performance.now() - started) / 1000;
  deps.metrics.admission(endpoint, review.operation, review.kind.kind, decision.decision, decision.reasons, seconds);
  log.info(
    {
      uid: review.uid,
      endpoint,
      namespace: review.namespace,
      kind: review.kind.kind,
      name: review.name || undefined,
      operation: review.operation,
      dryRun: review.dryRun || undefined,
      images: decision.images,
      decision: decision.decision,
      reasons: decision.reasons,
      policies: decision.policies,
      patched: decision.patch.length > 0 || undefined,
      latencyMs: Math.round(seconds * 10_000) / 10,
    },
    'admission decision',
  );
  sendJson(res, 200, admissionResponse(review.uid, decision));
}
