// The baseline of bench/webhook.ts: a bare Node HTTPS server that only parses an
// AdmissionReview and answers "allowed". Anything trustgate adds is measured against it.
//
// With --batch it writes its answers at the end of each event-loop turn, as trustgate does
// (src/server/body.ts): the same technique on both sides, so that comparison shows what the
// review itself costs rather than what batching saves.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { ServerResponse } from 'node:http';

const [certFile, keyFile, mode] = process.argv.slice(2);
const batch = mode === '--batch';
let unsent: [ServerResponse, string][] = [];
const sendUnsent = () => {
  const answers = unsent;
  unsent = [];
  for (const [res, body] of answers) res.end(body);
};

const server = https.createServer({ cert: readFileSync(certFile!), key: readFileSync(keyFile!), minVersion: 'TLSv1.2' }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const review = JSON.parse(Buffer.concat(chunks).toString()) as { request: { uid: string } };
    res.writeHead(200, { 'content-type': 'application/json' });
    const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: review.request.uid, allowed: true } });
    if (!batch) res.end(body);
    else if (unsent.push([res, body]) === 1) setImmediate(sendUnsent);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
