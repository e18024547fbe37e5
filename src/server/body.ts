// Reading a JSON request body with a byte limit, and writing a JSON response, without
// body-parser and res.json: on the webhook's hot path they cost more than the decision itself
// (bench/RESULTS.md). Errors come back as values with the HTTP status to answer.
import type { IncomingMessage, ServerResponse } from 'node:http';

export type BodyResult = { readonly ok: unknown } | { readonly status: 400 | 413 | 415; readonly reason: string; readonly message: string };

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

export function readJsonBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const type = req.headers['content-type'] ?? '';
  if (!JSON_TYPE.test(type)) {
    req.resume();
    return Promise.resolve({ status: 415, reason: 'content-type', message: 'expected Content-Type: application/json with an AdmissionReview' });
  }
  const tooLarge = { status: 413, reason: 'entity.too.large', message: `request body larger than ${limit} bytes` } as const;
  if (Number(req.headers['content-length'] ?? 0) > limit) {
    req.resume();
    return Promise.resolve(tooLarge);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: BodyResult) => {
      if (done) return;
      done = true;
      resolve(result);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Stop buffering; the rest is read and dropped so the answer can still be sent.
        req.removeAllListeners('data');
        req.resume();
        finish(tooLarge);
      } else chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        finish({ ok: JSON.parse(Buffer.concat(chunks, size).toString('utf8')) as unknown });
      } catch {
        finish({ status: 400, reason: 'entity.parse.failed', message: 'request body is not valid JSON' });
      }
    });
    req.on('error', () => finish({ status: 400, reason: 'request.aborted', message: 'request body could not be read' }));
  });
}

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
