import { pino } from 'pino';
import { decide, type Endpoint, type ReviewRequest } from '../../../src/admission/index.js';
import { Metrics } from '../../../src/observability/index.js';
import { PolicySet } from '../../../src/policy/index.js';
import { createRequestListener, listenHttp, REVIEW_JSON_LIMITS, type Listener } from '../../../src/server/index.js';
import { checkJsonShape } from '../../../src/shared/json-shape.js';
import { ScriptedVerifier } from '../../support/fake-verifier.js';
import { policy, TOFU } from '../../support/policies.js';
import { heaviestPodReview, review, workload } from '../../support/reviews.js';

const D1 = `sha256:${'1'.repeat(64)}`;
let listener: Listener;
let base: string;
let failNext = false;
const metrics = new Metrics();

beforeAll(async () => {
  const verifier = new ScriptedVerifier({ 'registry.example.com/team/app:1.0': D1 });
  const policies = new PolicySet([policy('signed', ['**'], TOFU)]);
  const app = createRequestListener({
    review: (endpoint: Endpoint, request: ReviewRequest) => {
      if (failNext) {
        failNext = false;
        return Promise.reject(new Error('boom'));
      }
      return decide(request, endpoint, { policies, verifier, defaultAction: 'deny', mutateWorkloads: false, deadlineMs: 1000, credentialsFor: () => undefined });
    },
    metrics,
    logger: pino({ level: 'silent' }),
    ready: () => true,
    maxRequestBytes: 64 * 1024,
    maxBytesInFlight: 32 * 1024 * 1024,
    serveMetrics: true,
  });
  listener = await listenHttp(app, '127.0.0.1', 0);
  base = `http://127.0.0.1:${listener.port}`;
});

afterAll(async () => {
  await listener.close(1000);
});

const good = () => JSON.stringify(review('Pod', workload('Pod', 'web', { containers: [{ name: 'app', image: 'registry.example.com/team/app:1.0' }] })));
const post = (path: string, body: string, type = 'application/json') => fetch(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': type } });

async function expectStillServing(): Promise<void> {
  const r = await post('/mutate', good());
  expect(r.status).toBe(200);
  expect(((await r.json()) as { response: { allowed: boolean } }).response.allowed).toBe(true);
}

describe('the webhook endpoints', () => {
  it('answer an AdmissionReview with a JSONPatch', async () => {
    const r = await post('/mutate', good());
    const body = (await r.json()) as { apiVersion: string; response: { uid: string; patchType: string; patch: string } };
    expect(body.apiVersion).toBe('admission.k8s.io/v1');
    expect(body.response.uid).toBe('705ab4f5-6393-11e8-b7cc-42010a800002');
    expect(JSON.parse(Buffer.from(body.response.patch, 'base64').toString())[0]).toEqual({ op: 'replace', path: '/spec/containers/0/image', value: `registry.example.com/team/app:1.0@${D1}` });
  });

  it.each([
    ['a wrong content type', () => post('/validate', good(), 'text/plain'), 415, /Content-Type: application\/json/],
    ['invalid JSON', () => post('/validate', '{"apiVersion":'), 400, /not valid JSON/],
    ['a body over the limit', () => post('/validate', JSON.stringify({ pad: 'x'.repeat(70 * 1024) })), 413, /larger than 65536 bytes/],
    ['a JSON array', () => post('/validate', '[]'), 400, /AdmissionReview: expected an object/],
    ['no request uid', () => post('/validate', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: {} })), 400, /request.uid: expected a string/],
    ['GET on a webhook path', () => fetch(`${base}/mutate`), 404, /POST \/mutate or \/validate/],
  ])('refuse %s with a clear error, and serve the next request', async (_name, send, status, message) => {
    const r = await send();
    expect(r.status).toBe(status);
    const text = await r.text();
    expect(text).toMatch(message);
    expect(text).not.toMatch(/at .*\.js:\d+/);
    await expectStillServing();
  });

  it('denies a review with a uid but missing fields, naming them', async () => {
    const r = await post('/validate', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u-1', operation: 'CREATE' } }));
    const body = (await r.json()) as { response: { uid: string; allowed: boolean; status: { message: string } } };
    expect(body.response).toMatchObject({ uid: 'u-1', allowed: false });
    expect(body.response.status.message).toMatch(/request.kind: expected an object.*request.object: required for CREATE/);
  });

  it('answers many concurrent reviews, each with its own answer', async () => {
    // Answers are written together at the end of an event-loop turn (src/server/body.ts): each
    // must still go to the request it answers, whatever else was in the batch.
    const image = (i: number) => (i % 3 === 0 ? 'registry.example.com/team/app:1.0' : `registry.example.com/team/unsigned:${i}`);
    const bodies = Array.from({ length: 60 }, (_, i) =>
      i % 10 === 9 ? '{"not json' : JSON.stringify(review('Pod', workload('Pod', `p${i}`, { containers: [{ name: 'app', image: image(i) }] }), { uid: `uid-${i}` })),
    );
    const answers = await Promise.all(bodies.map(async (body) => {
      const r = await post(body.startsWith('{"not') ? '/validate' : '/mutate', body);
      return { status: r.status, text: await r.text() };
    }));
    answers.forEach((a, i) => {
      if (i % 10 === 9) {
        expect(a).toMatchObject({ status: 400, text: expect.stringMatching(/not valid JSON/) as unknown });
        return;
      }
      const response = (JSON.parse(a.text) as { response: { uid: string; allowed: boolean; status?: { message: string } } }).response;
      expect(response.uid).toBe(`uid-${i}`);
      expect(response.allowed).toBe(i % 3 === 0);
      if (i % 3 !== 0) expect(response.status?.message).toContain(`unsigned:${i}`);
    });
  });

  it('fails closed when the review itself fails', async () => {
    failNext = true;
    const r = await post('/validate', good());
    const body = (await r.json()) as { response: { allowed: boolean; status: { message: string } } };
    expect(body.response).toMatchObject({ allowed: false });
    expect(body.response.status.message).toMatch(/could not review this request: boom/);
    await expectStillServing();
  });
});

describe('health, readiness and metrics', () => {
  it('serve /healthz, /readyz and Prometheus text with fixed labels', async () => {
    expect(await (await fetch(`${base}/healthz`)).text()).toBe('ok');
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/trustgate_admission_reviews_total\{endpoint="mutate",operation="CREATE",kind="Pod",decision="allow"\} \d+/);
    expect(text).toMatch(/trustgate_malformed_requests_total\{reason="entity.too.large"\} 1/);
    expect(text).not.toMatch(/registry\.example\.com/);
  });
});

describe('graceful shutdown', () => {
  it('finishes a review in flight before closing', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const app = createRequestListener({
      review: async () => {
        await gate;
        return { allowed: true, message: '', warnings: [], auditAnnotations: {}, patch: [], reasons: [], decision: 'allow', images: [], policies: [], containers: [] };
      },
      metrics: new Metrics(),
      logger: pino({ level: 'silent' }),
      ready: () => true,
      maxRequestBytes: 64 * 1024,
      maxBytesInFlight: 32 * 1024 * 1024,
      serveMetrics: false,
    });
    const slow = await listenHttp(app, '127.0.0.1', 0);
    const inFlight = fetch(`http://127.0.0.1:${slow.port}/validate`, { method: 'POST', body: good(), headers: { 'content-type': 'application/json' } });
    await new Promise((r) => setTimeout(r, 100));
    const closed = slow.close(5000);
    release();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { response: { allowed: boolean } }).response.allowed).toBe(true);
    await closed;
    await expect(fetch(`http://127.0.0.1:${slow.port}/healthz`)).rejects.toThrow();
  });
});

describe('the bodies of reviews in flight', () => {
  it('fill at most maxBytesInFlight: past it a request is refused at once, and the budget comes back when reviews end', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const metrics = new Metrics();
    const app = createRequestListener({
      review: async () => {
        await gate;
        return { allowed: true, message: '', warnings: [], auditAnnotations: {}, patch: [], reasons: [], decision: 'allow', images: [], policies: [], containers: [] };
      },
      metrics,
      logger: pino({ level: 'silent' }),
      ready: () => true,
      maxRequestBytes: 64 * 1024,
      maxBytesInFlight: 128 * 1024,
      serveMetrics: false,
    });
    const server = await listenHttp(app, '127.0.0.1', 0);
    const url = `http://127.0.0.1:${server.port}/validate`;
    // A real review padded to 40 KiB: charged 80 KiB (twice its size) while it is reviewed.
    const padded = JSON.stringify(review('Pod', workload('Pod', 'web', { containers: [{ name: 'app', image: 'registry.example.com/team/app:1.0' }] }, { annotations: { pad: 'x'.repeat(40 * 1024) } })));
    const send = () => fetch(url, { method: 'POST', body: padded, headers: { 'content-type': 'application/json' } });
    const held = send();
    await new Promise((r) => setTimeout(r, 100));
    const refused = await send();
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toEqual({ error: 'OVERLOADED: the bodies of reviews in flight fill maxBytesInFlight; try again' });
    // A small review still fits beside the held one.
    const small = fetch(url, { method: 'POST', body: good(), headers: { 'content-type': 'application/json' } });
    release();
    expect((await held).status).toBe(200);
    expect((await small).status).toBe(200);
    expect((await send()).status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/trustgate_malformed_requests_total\{reason="overloaded"\} 1/);
    expect(text).toMatch(/trustgate_request_bytes_in_flight 0/);
    await server.close(1000);
  });

  it('nested deeper than any real review are refused before parsing', async () => {
    const r = await post('/validate', good().replace('"metadata":{', `"metadata":{"deep":${'['.repeat(200)}${']'.repeat(200)},`));
    expect(r.status).toBe(413);
    expect(await r.json()).toEqual({ error: 'REVIEW_TOO_COMPLEX: request body refused before parsing: JSON nested deeper than 100 levels' });
  });
});

describe('the limits on what a body may hold (REVIEW_JSON_LIMITS), at the default byte limits', () => {
  const MIB = 1024 * 1024;
  let server: Listener;
  let url: string;

  beforeAll(async () => {
    const verifier = new ScriptedVerifier({ 'registry.example.com/team/app:1.0': D1 });
    const policies = new PolicySet([policy('signed', ['**'], TOFU)]);
    const app = createRequestListener({
      review: (endpoint: Endpoint, request: ReviewRequest) => decide(request, endpoint, { policies, verifier, defaultAction: 'deny', mutateWorkloads: false, deadlineMs: 5000, credentialsFor: () => undefined }),
      metrics: new Metrics(),
      logger: pino({ level: 'silent' }),
      ready: () => true,
      // The defaults (docs/configuration.md).
      maxRequestBytes: 4 * MIB,
      maxBytesInFlight: 32 * MIB,
      serveMetrics: false,
    });
    server = await listenHttp(app, '127.0.0.1', 0);
    url = `http://127.0.0.1:${server.port}/validate`;
  });

  afterAll(async () => {
    await server.close(1000);
  });

  const send = (body: string) => fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });

  it('admit the heaviest real review with room to spare: an UPDATE of a 256-container pod as large as Kubernetes stores', async () => {
    const heavy = heaviestPodReview(() => 'registry.example.com/team/app:1.0');
    const object = JSON.stringify((heavy.request as { object: unknown }).object);
    expect(object.length).toBeGreaterThan(1.4 * MIB); // near etcd's limit, where a real object ends
    expect(object.length).toBeLessThanOrEqual(1.5 * MIB);
    const body = JSON.stringify(heavy);
    // ~282,000 values in ~3 MiB, keys included: more than the 250,000 once allowed when only
    // containers and commas were counted (~200,000 of them here).
    const shape = checkJsonShape(Buffer.from(body), REVIEW_JSON_LIMITS);
    expect(shape.ok).toBe(true);
    const values = shape.ok ? shape.values : Infinity;
    expect(values).toBeGreaterThan(250_000);
    expect(values).toBeLessThan(REVIEW_JSON_LIMITS.maxValues * 0.75);
    // It nests 17 deep: a quarter of the depth limit is already far more.
    expect(checkJsonShape(Buffer.from(body), { maxValues: REVIEW_JSON_LIMITS.maxValues, maxDepth: REVIEW_JSON_LIMITS.maxDepth / 4 }).ok).toBe(true);
    const r = await send(body);
    expect(r.status).toBe(200);
    expect(((await r.json()) as { response: { allowed: boolean } }).response.allowed).toBe(true);
  });

  it('refuse the attacker\'s 4 MiB of [{},{},…] before parsing', async () => {
    const text = JSON.stringify(review('Pod', workload('Pod', 'web', { containers: [{ name: 'app', image: 'registry.example.com/team/app:1.0' }] })));
    const at = text.indexOf('"metadata":{') + '"metadata":{'.length;
    const objects = Math.floor((4 * MIB - text.length - 64) / 3);
    const forged = `${text.slice(0, at)}"junk":[${'{},'.repeat(objects - 1)}{}],${text.slice(at)}`;
    expect(forged.length).toBeLessThanOrEqual(4 * MIB);
    expect(objects).toBeGreaterThan(REVIEW_JSON_LIMITS.maxValues * 3);
    const r = await send(forged);
    expect(r.status).toBe(413);
    expect(await r.json()).toEqual({ error: `REVIEW_TOO_COMPLEX: request body refused before parsing: JSON holds more than ${REVIEW_JSON_LIMITS.maxValues} values` });
  });
});
