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
}

/**
 * Asked as a body grows, with its size and JSON values so far (so a body is charged for what it
 * would parse into before it is parsed); false refuses it (503 OVERLOADED).
 */
export type AdmitBody = (bytes: number, values: number) => boolean;

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * Reads the body and calls `done` once with it (or why it was refused). A callback rather than a
 * promise: this is the webhook's hot path, where each promise and closure per request showed in
 * the benchmark (bench/RESULTS.md, "After issue 9").
 */
export function readJsonBody(req: IncomingMessage, limits: BodyLimits, done: (result: BodyResult) => void, admit?: AdmitBody): void {
  const type = req.headers['content-type'] ?? '';
  if (!JSON_TYPE.test(type)) {
    req.resume();
    done({ status: 415, reason: 'content-type', message: 'expected Content-Type: application/json with an AdmissionReview' });
    return;
  }
  const limit = limits.maxBytes;
  if (Number(req.headers['content-length'] ?? 0) > limit) {
    req.resume();
    done(tooLarge(limit));
    return;
  }
  new BodyReader(req, limits, done, admit);
}

function tooLarge(limit: number): BodyResult {
  return { status: 413, reason: 'entity.too.large', message: `request body larger than ${limit} bytes` };
}

/** One request's body as it arrives: its bytes, their JSON shape so far, and the answer once. */
class BodyReader {
  private readonly body: BodyBytes;
  private readonly shape: JsonShapeCounter;
  private finished = false;

  constructor(
    private readonly req: IncomingMessage,
    private readonly limits: BodyLimits,
    private readonly done: (result: BodyResult) => void,
    private readonly admit: AdmitBody | undefined,
  ) {
    this.body = new BodyBytes(Number(req.headers['content-length']), limits.maxBytes);
    this.shape = new JsonShapeCounter(limits.shape);
    req.on('data', this.onData);
    req.on('end', this.onEnd);
    req.on('error', this.onError);
  }

  private finish(result: BodyResult): void {
    if (this.finished) return;
    this.finished = true;
    this.done(result);
  }

  private refuse(result: BodyResult): void {
    // Stop buffering; the rest is read and dropped so the answer can still be sent.
    this.req.removeListener('data', this.onData);
    this.req.resume();
    this.body.drop();
    this.finish(result);
  }

  private readonly onData = (chunk: Buffer): void => {
    // Counted as it arrives: a body that would parse into too much is refused at the piece that
    // shows it, before the rest is held.
    const problem = this.shape.feed(chunk);
    if (!this.body.add(chunk)) this.refuse(tooLarge(this.limits.maxBytes));
    else if (problem) this.refuse({ status: 413, reason: problem.reason, message: `${RequestLimitCode.REVIEW_TOO_COMPLEX}: request body refused before parsing: ${problem.message}` });
    else if (this.admit && !this.admit(this.body.size, this.shape.values)) this.refuse(OVERLOADED);
  };

  private readonly onEnd = (): void => {
    if (this.finished) return;
    // The listeners above live as long as the request, which lives as long as its review: let
    // go of the raw bytes now, or each review holds its body twice.
    const bytes = this.body.take();
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch {
      this.finish({ status: 400, reason: 'entity.parse.failed', message: 'request body is not valid JSON' });
      return;
    }
    this.finish({ ok: parsed, bytes: bytes.length, values: this.shape.values });
  };

  private readonly onError = (): void => {
    this.finish({ status: 400, reason: 'request.aborted', message: 'request body could not be read' });
  };
}

/**
 * A body's bytes as they arrive. With a Content-Length (the API server always sends one) they
 * are copied into one buffer of that size, so the pieces are garbage at once and nothing is
 * copied again at the end: a body is held once, not as pieces and then as their concatenation.
 * A body that arrives in one piece (most reviews) is kept as that piece, copied nowhere.
 */
class BodyBytes {
  private chunks: Buffer[] = [];
  private whole: Buffer | undefined;
  size = 0;
  /** The declared length, when it is one we can hold; 0 otherwise. */
  private readonly declared: number;

  constructor(declared: number, private readonly limit: number) {
    this.declared = Number.isSafeInteger(declared) && declared > 0 && declared <= limit ? declared : 0;
  }

  /** False past the limit (or past the declared length, which Node's parser refuses anyway). */
  add(chunk: Buffer): boolean {
    const end = this.size + chunk.length;
    if (end > (this.declared || this.limit)) return false;
    if (this.declared === 0) this.chunks.push(chunk);
    else if (this.size === 0 && end === this.declared) this.whole = chunk;
    else {
      this.whole ??= Buffer.allocUnsafe(this.declared);
      chunk.copy(this.whole, this.size);
    }
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
