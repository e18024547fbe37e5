// The HTTP surface: POST /mutate and /validate (AdmissionReview v1), /healthz, /readyz, /metrics.
// Malformed requests get an HTTP error or a denial with a clear message; never a crash, a stack
// trace or a hang.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { admissionResponse, denialResponse, parseReview, ReviewError, type Decision, type Endpoint, type ReviewRequest } from '../admission/index.js';
import type { Metrics } from '../observability/index.js';
import { BodyBudget, bodyCost, type BodyHold } from './body-budget.js';
import { OVERLOADED, readJsonBody, sendJson, type BodyLimits } from './body.js';
import type { ClientCheck } from './client-auth.js';

export interface AppDeps {
  /** Decides one review with the policies currently in force. */
  readonly review: (endpoint: Endpoint, request: ReviewRequest) => Promise<Decision>;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Policies loaded (and, later, informers synced). */
  readonly ready: () => boolean;
  readonly maxRequestBytes: number;
  /** What the bodies of reviews in flight may hold together (body-budget.ts). */
  readonly maxBytesInFlight: number;
  /** Serve /metrics here too (when there is no separate metrics listener). */
  readonly serveMetrics: boolean;
  /** Who may use every path but /healthz and /readyz (tls.clientCAFile); undefined: anyone. */
  readonly clientCheck?: ClientCheck;
}

/** Open to anyone even with a client check: the kubelet's probes present no certificate. */
const PROBES = new Set(['/healthz', '/readyz']);

/**
 * What a review's body may hold, counted exactly before parsing (src/shared/json-shape.ts:
 * values, object keys included). The heaviest real review — an UPDATE of a pod of 256 containers
 * with env, ports and probes, annotations as large as Kubernetes allows, managedFields and status,
 * at etcd's 1.5 MiB object limit, with its old version — counts ~282,000 values in ~3 MiB and
 * nests 17 deep (test/unit/server/app.test.ts); a CREATE of that pod counts under half of that.
 * 400,000 leaves it room (1.4 times), and is about as high as the in-flight budget allows: each
 * value is charged 64 bytes (body-budget.ts), so a body at the limit is charged 25.6 MB for its
 * values and still fits the default 32 MiB beside up to 3.7 MiB of its own bytes; a higher limit
 * would let bodies through this count only for the budget to refuse them as they arrive. The
 * attacker's 4 MiB of `[{},{},…]`, 1.4 million values, is refused within its first 1.2 MB.
 */
export const REVIEW_JSON_LIMITS = { maxValues: 400_000, maxDepth: 100 } as const;

/** Where a request goes: the webhook paths straight to the review, the rest through express. */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * POST /mutate and /validate are dispatched before express (docs/adr/0003): its per-request
 * work — router, and swapping the prototypes of req and res — cost more than the review itself
 * on the hot path. Everything else (health, readiness, metrics, errors) goes through express.
 */
export function createRequestListener(deps: AppDeps): RequestListener {
  const app = createApp(deps);
  const budget = new BodyBudget(deps.maxBytesInFlight);
  deps.metrics.countBytesInFlight(() => budget.inUse);
  const limits: BodyLimits = { maxBytes: deps.maxRequestBytes, shape: REVIEW_JSON_LIMITS };
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
      heldReview(path === '/mutate' ? 'mutate' : 'validate', req, res, deps, budget, limits);
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

/**
 * A review holds its body from the first byte until it is answered, charged to the budget as
 * its bytes arrive, for them and for the JSON values counted in them (what they will parse
 * into), so nothing is parsed that the budget cannot hold. A request whose declared length does
 * not fit in what is left is refused at once, before its body is read; one that stops fitting
 * while it arrives is refused then. Charging what has arrived rather than what is declared means
 * a client cannot hold the budget by announcing bodies it never sends.
 */
function heldReview(endpoint: Endpoint, req: IncomingMessage, res: ServerResponse, deps: AppDeps, budget: BodyBudget, limits: BodyLimits): void {
  const started = performance.now();
  const declared = Number(req.headers['content-length']);
  // The API server always sends Content-Length; without one, a body may be as large as allowed.
  const expected = Number.isSafeInteger(declared) && declared >= 0 ? Math.min(declared, limits.maxBytes) : limits.maxBytes;
  if (!budget.fits(bodyCost(expected))) {
    overloaded(req, res, deps, budget);
    return;
  }
  const hold = budget.hold();
  // Charged for its values as they are counted, before parsing: a body whose parsed tree would
  // not fit is refused unparsed, so refused bodies leave no garbage trees behind (eight forged
  // bodies at the value limit, parsed and then refused, took trustgate past 400 MiB).
  const admit = (bytes: number, values: number): boolean => hold.resize(bodyCost(bytes, values));
  readJsonBody(
    req,
    limits,
    (read) => {
      if ('ok' in read) {
        // handleReview releases the hold once the review is answered, and never rejects.
        void handleReview(endpoint, read.ok, res, deps, started, hold);
        return;
      }
      hold.release();
      if (read.status === 503) overloaded(req, res, deps, budget);
      else {
        deps.metrics.malformedRequest(read.reason);
        sendJson(res, read.status, { error: read.message });
      }
    },
    admit,
  );
}

function overloaded(req: IncomingMessage, res: ServerResponse, deps: AppDeps, budget: BodyBudget): void {
  deps.metrics.malformedRequest(OVERLOADED.reason);
  deps.logger.warn({ inFlightBytes: budget.inUse, limit: budget.limit, remote: req.socket.remoteAddress }, 'request refused: the bodies of reviews in flight fill maxBytesInFlight');
  // Whatever is still coming is dropped unread; the connection is not reused.
  req.resume();
  res.setHeader('connection', 'close');
  res.setHeader('retry-after', '1');
  sendJson(res, OVERLOADED.status, { error: OVERLOADED.message });
}

/** Decides and answers one review, then gives back its body's hold. Never rejects. */
async function handleReview(endpoint: Endpoint, body: unknown, res: ServerResponse, deps: AppDeps, started: number, hold: BodyHold): Promise<void> {
  try {
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
    if (decision.allowed) deps.metrics.verifiedKinds(endpoint, decision.containers);
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
        kinds: decision.kinds?.length ? decision.kinds : undefined,
        patched: decision.patch.length > 0 || undefined,
        // Warnings sent to kubectl: a warn-mode policy's, or an answer that stood in for an outage.
        warnings: decision.warnings.length > 0 ? decision.warnings : undefined,
        latencyMs: Math.round(seconds * 10_000) / 10,
      },
      'admission decision',
    );
    sendJson(res, 200, admissionResponse(review.uid, decision));
  } catch (error) {
    deps.logger.error({ err: error }, 'request failed');
    if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
  } finally {
    hold.release();
  }
}
