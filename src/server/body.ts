// Reading a JSON request body with a byte limit, and writing a JSON response, without
// body-parser and res.json: on the webhook's hot path they cost more than the decision itself
// (bench/RESULTS.md). Errors come back as values with the HTTP status to answer.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { JsonShapeCounter, type JsonShapeLimits } from '../shared/json-shape.js';

export type BodyResult =
  | { readonly ok: unknown; readonly bytes: number; readonly values: number }
  | { readonly status: 400 | 413 | 415 | 503; readonly reason: string; readonly message: string };

export interface BodyLimits {
  readonly maxBytes: number;
  /** What parsing the body may allocate (src/shared/json-shape.ts), checked before JSON.parse. */
  readonly shape: JsonShapeLimits;
  /**
   * Asked as the body grows, with its size and JSON values so far (so a body is charged for what
   * it would parse into before it is parsed); false refuses it (503 OVERLOADED).
   */
  readonly admit?: (bytes: number, values: number) => boolean;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

export function readJsonBody(req: IncomingMessage, limits: BodyLimits): Promise<BodyResult> {
  const type = req.headers['content-type'] ?? '';
  if (!JSON_TYPE.test(type)) {
    req.resume();
    return Promise.resolve({ status: 415, reason: 'content-type', message: 'expected Content-Type: application/json with an AdmissionReview' });
  }
  const limit = limits.maxBytes;
  const tooLarge = { status: 413, reason: 'entity.too.large', message: `request body larger than ${limit} bytes` } as const;
  if (Number(req.headers['content-length'] ?? 0) > limit) {
    req.resume();
    return Promise.resolve(tooLarge);
  }
  return new Promise((resolve) => {
    const body = new BodyBytes(Number(req.headers['content-length']), limit);
    const shape = new JsonShapeCounter(limits.shape);
    let done = false;
    const finish = (result: BodyResult) => {
      if (done) return;
      done = true;
      resolve(result);
    };
    const refuse = (result: BodyResult) => {
      // Stop buffering; the rest is read and dropped so the answer can still be sent.
      req.removeAllListeners('data');
      req.resume();
      body.drop();
      finish(result);
    };
    req.on('data', (chunk: Buffer) => {
      // Counted as it arrives: a body that would parse into too much is refused at the piece that
      // shows it, before the rest is held.
      const problem = shape.feed(chunk);
      if (!body.add(chunk)) refuse(tooLarge);
      else if (problem) refuse({ status: 413, reason: problem.reason, message: `${RequestLimitCode.REVIEW_TOO_COMPLEX}: request body refused before parsing: ${problem.message}` });
      else if (limits.admit && !limits.admit(body.size, shape.values)) refuse(OVERLOADED);
    });
    req.on('end', () => {
      // The listeners above live as long as the request, which lives as long as its review: let
      // go of the raw bytes now, or each review holds its body twice.
      const bytes = body.take();
      try {
        finish({ ok: JSON.parse(bytes.toString('utf8')) as unknown, bytes: bytes.length, values: shape.values });
      } catch {
        finish({ status: 400, reason: 'entity.parse.failed', message: 'request body is not valid JSON' });
      }
    });
    req.on('error', () => finish({ status: 400, reason: 'request.aborted', message: 'request body could not be read' }));
  });
}

/**
 * A body's bytes as they arrive. With a Content-Length (the API server always sends one) they
 * are copied into one buffer of that size, so the pieces are garbage at once and nothing is
 * copied again at the end: a body is held once, not as pieces and then as their concatenation.
 */
class BodyBytes {
  private chunks: Buffer[] = [];
  private whole: Buffer | undefined;
  size = 0;

  constructor(declared: number, private readonly limit: number) {
    if (Number.isSafeInteger(declared) && declared > 0 && declared <= limit) this.whole = Buffer.allocUnsafe(declared);
  }

  /** False past the limit (or past the declared length, which Node's parser refuses anyway). */
  add(chunk: Buffer): boolean {
    const end = this.size + chunk.length;
    if (end > (this.whole?.length ?? this.limit)) return false;
    if (this.whole) chunk.copy(this.whole, this.size);
    else this.chunks.push(chunk);
    this.size = end;
    return true;
  }

  take(): Buffer {
    const bytes = this.whole ? this.whole.subarray(0, this.size) : Buffer.concat(this.chunks, this.size);
    this.drop();
    return bytes;
  }

  drop(): void {
    this.chunks = [];
    this.whole = undefined;
  }
}

/** The codes of requests refused for what they would cost (docs/troubleshooting.md). */
export const RequestLimitCode = {
  /** More JSON values or deeper nesting than any real AdmissionReview has. */
  REVIEW_TOO_COMPLEX: 'REVIEW_TOO_COMPLEX',
  /** The bodies of reviews in flight already hold maxBytesInFlight. */
  OVERLOADED: 'OVERLOADED',
} as const;

export const OVERLOADED = {
  status: 503,
  reason: 'overloaded',
  message: `${RequestLimitCode.OVERLOADED}: the bodies of reviews in flight fill maxBytesInFlight; try again`,
} as const;

/**
 * Answers are written together at the end of the event-loop turn that produced them
 * (setImmediate runs right after the turn's I/O callbacks), not one by one as each review
 * finishes. Under load a turn reads many requests; writing their answers back to back cost the
 * kernel far less than interleaving each write with the next request's work: each interleaved
 * write had to wake the client's idle thread again. Measured: /validate throughput ×1.8 and CPU
 * per request −45% (docs/adr/0003). A lone request waits for nothing: its turn ends at once.
 */
let unsent: { res: ServerResponse; body: string }[] = [];

function sendUnsent(): void {
  const batch = unsent;
  unsent = [];
  for (const { res, body } of batch) {
    try {
      res.end(body);
    } catch {
      // A socket that broke meanwhile: nothing to answer; the others must still be answered.
    }
  }
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  if (unsent.push({ res, body }) === 1) setImmediate(sendUnsent);
}
