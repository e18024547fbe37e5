// Bypass class: review input. Anyone who reaches the Service can send trustgate any bytes; and
// kube-apiserver itself passes on whatever a client wrote, re-encoded. The attacker wants a
// malformed AdmissionReview to be answered "allowed" for an image nobody checked, a crash, or an
// answer addressed to another request. Every case goes through the real HTTP listener
// (createRequestListener) and asserts the answer: an HTTP error or a denial, never an allow of an
// unchecked image, and the server still answering afterwards. (What kube-apiserver does with
// duplicate and case-variant keys before trustgate sees them is in kinds-and-subresources.test.ts,
// on the real API server.)
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { decide, type Endpoint, type ReviewRequest } from '../../src/admission/index.js';
import { Metrics } from '../../src/observability/index.js';
import { PolicySet } from '../../src/policy/index.js';
import { createRequestListener, listenHttp, type Listener } from '../../src/server/index.js';
import { ScriptedVerifier } from '../support/fake-verifier.js';
import { policy, TOFU } from '../support/policies.js';
import { review, workload } from '../support/reviews.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const SIGNED = 'registry.example.com/team/app:1.0';
const UNSIGNED = 'registry.example.com/team/app:latest';
const LIMIT = 1024 * 1024;
const UID = '705ab4f5-6393-11e8-b7cc-42010a800002';

let listener: Listener;
let port: number;
const verifier = new ScriptedVerifier({ [SIGNED]: D1 });

beforeAll(async () => {
  const policies = new PolicySet([policy('signed', ['**'], TOFU)]);
  const app = createRequestListener({
    review: (endpoint: Endpoint, request: ReviewRequest) => decide(request, endpoint, { policies, verifier, defaultAction: 'deny', mutateWorkloads: false, deadlineMs: 2000, credentialsFor: () => undefined }),
    metrics: new Metrics(),
    logger: pino({ level: 'silent' }),
    ready: () => true,
    maxRequestBytes: LIMIT,
    maxBytesInFlight: 32 * 1024 * 1024,
    serveMetrics: false,
  });
  listener = await listenHttp(app, '127.0.0.1', 0);
  port = listener.port;
});

afterAll(async () => {
  await listener.close(1000);
});

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly response: { uid?: string; allowed?: boolean; patch?: string; status?: { message: string } } | undefined;
}

/** A raw POST: the bytes, headers and framing exactly as given. */
function post(body: Buffer | string | Buffer[], headers: Record<string, string> = { 'content-type': 'application/json' }, path = '/mutate'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const chunks = Array.isArray(body) ? body : [Buffer.from(body)];
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let response: Answer['response'];
        try {
          response = (JSON.parse(text) as { response?: Answer['response'] }).response;
        } catch {
          response = undefined;
        }
        resolve({ status: res.statusCode ?? 0, text, response });
      });
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

const podBody = (image: string, extra: Record<string, unknown> = {}) => ({ ...review('Pod', workload('Pod', 'web', { containers: [{ name: 'app', image }] })), ...extra });
const json = (value: unknown) => JSON.stringify(value);

/** The request was not admitted: an HTTP error, or an AdmissionReview answer that denies. */
function expectNotAdmitted(a: Answer): void {
  if (a.status === 200) {
    expect(a.response?.allowed).toBe(false);
    expect(a.response?.patch).toBeUndefined();
  } else {
    expect([400, 404, 413, 415]).toContain(a.status);
    expect(a.response?.allowed).toBeUndefined();
  }
  expect(a.text).not.toMatch(/at .*\.[jt]s:\d+/); // no stack trace
}

async function expectStillServing(): Promise<void> {
  const a = await post(json(podBody(SIGNED)));
  expect(a.response).toMatchObject({ uid: UID, allowed: true });
}

afterEach(async () => {
  await expectStillServing();
});

describe('the envelope', () => {
  it.each([
    ['admission.k8s.io/v1beta1', 'AdmissionReview'],
    ['admission.k8s.io/v2', 'AdmissionReview'],
    ['v1', 'AdmissionReview'],
    ['admission.k8s.io/v1', 'AdmissionResponse'],
    [undefined, undefined],
  ])('apiVersion %j, kind %j: denied, naming the field', async (apiVersion, kind) => {
    const a = await post(json({ ...podBody(UNSIGNED), apiVersion, kind }));
    expectNotAdmitted(a);
    expect(a.response?.uid).toBe(UID);
    expect(a.response?.status?.message).toMatch(/apiVersion|kind/);
  });

  it.each([
    ['a uid of 129 characters', 'u'.repeat(129)],
    ['an empty uid', ''],
    ['a numeric uid', 12],
  ])('%s: refused with HTTP 400 (no uid to answer to)', async (_what, uid) => {
    const body = podBody(UNSIGNED);
    (body.request as Record<string, unknown>).uid = uid;
    const a = await post(json(body));
    expectNotAdmitted(a);
    expect(a.status).toBe(400);
  });

  it('a uid with quotes, newlines and markup comes back byte for byte in the answer', async () => {
    const uid = '"},"allowed":true,"x":"\n<script>\u2028\u0000';
    const body = podBody(UNSIGNED);
    (body.request as Record<string, unknown>).uid = uid;
    const a = await post(json(body));
    expect(a.response).toMatchObject({ uid, allowed: false });
  });

  it.each([
    ['__proto__', 'UNSUPPORTED_KIND'],
    ['constructor', 'UNSUPPORTED_KIND'],
    ['toString', 'UNSUPPORTED_KIND'],
    ['PodTemplate', 'UNSUPPORTED_KIND'],
    ['pod', 'UNSUPPORTED_KIND'],
  ])('request.kind.kind %j is denied, not skipped', async (kind) => {
    const body = podBody(UNSIGNED);
    (body.request as { kind: { kind: string } }).kind.kind = kind;
    const a = await post(json(body));
    expectNotAdmitted(a);
    expect(a.response?.status?.message).toMatch(/does not review/);
  });

  it('a Deployment review carrying a bare pod is denied as malformed, not read as having no containers', async () => {
    const body = review('Deployment', workload('Pod', 'web', { containers: [{ name: 'app', image: UNSIGNED }] }));
    expectNotAdmitted(await post(json(body), undefined, '/validate'));
  });
});

describe('JSON that parsers read differently', () => {
  const pod = (containers: string) =>
    `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"${UID}","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"team-a","operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{"containers":${containers}}}}}`;

  it('with "image" twice, the last one is checked — the one Go (and so kube-apiserver) keeps', async () => {
    const a = await post(pod(`[{"name":"app","image":"${SIGNED}","image":"${UNSIGNED}"}]`));
    expectNotAdmitted(a);
    expect(a.response?.status?.message).toContain(UNSIGNED);
    // …and the other way round, the signed image is the one pinned: the patch names the same
    // field kube-apiserver stores.
    const b = await post(pod(`[{"name":"app","image":"${UNSIGNED}","image":"${SIGNED}"}]`));
    expect(b.response?.allowed).toBe(true);
    expect(JSON.parse(Buffer.from(b.response!.patch!, 'base64').toString())).toContainEqual({ op: 'replace', path: '/spec/containers/0/image', value: `${SIGNED}@${D1}` });
  });

  it('with "containers" twice, the last list is the one checked', async () => {
    const a = await post(pod(`[{"name":"app","image":"${SIGNED}"}],"containers":[{"name":"app","image":"${UNSIGNED}"}]`));
    expectNotAdmitted(a);
  });

  it('a case-variant "Image" key is not the image field (kube-apiserver decodes case-sensitively)', async () => {
    const a = await post(pod(`[{"name":"app","Image":"${SIGNED}","image":"${UNSIGNED}"}]`));
    expectNotAdmitted(a);
  });

  it.each([
    ['in the spec', `{"__proto__":{"containers":[{"name":"app","image":"${UNSIGNED}"}]},"containers":[{"name":"app","image":"${UNSIGNED}"}]}`],
    ['as a container', `{"containers":[{"__proto__":{"image":"${SIGNED}"},"name":"app","image":"${UNSIGNED}"}]}`],
  ])('a "__proto__" key %s neither pollutes nor hides the image', async (_where, spec) => {
    const text = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","__proto__":{"allowed":true},"request":{"__proto__":{"operation":"DELETE"},"uid":"${UID}","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"team-a","operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":${spec}}}}`;
    const a = await post(text);
    expectNotAdmitted(a);
    const fresh: Record<string, unknown> = {};
    expect(fresh.allowed).toBeUndefined();
    expect(fresh.operation).toBeUndefined();
  });

  it('a container whose image hides in an inherited "__proto__" is denied as malformed, not skipped', async () => {
    const a = await post(pod(`[{"name":"app","__proto__":{"image":"${SIGNED}"}}]`));
    expectNotAdmitted(a);
    expect(a.response?.status?.message).toMatch(/image is missing/);
  });

  it('a container named "__proto__" is pinned and its original recorded', async () => {
    const a = await post(pod(`[{"name":"__proto__","image":"${SIGNED}"}]`));
    expect(a.response?.allowed).toBe(true);
    const patch = JSON.parse(Buffer.from(a.response!.patch!, 'base64').toString()) as { path: string; value: unknown }[];
    const annotation = patch.find((p) => p.path.endsWith('annotations'))?.value as Record<string, string>;
    expect(JSON.parse(annotation['trustgate.dev/original-images']!)).toEqual(JSON.parse(`{"__proto__":"${SIGNED}"}`));
  });

  it.each([
    ['an image that is a huge number', pod('[{"name":"app","image":1e999}]')],
    ['an image that is a 400-digit integer', pod(`[{"name":"app","image":${'9'.repeat(400)}}]`)],
    ['an image that is an object', pod(`[{"name":"app","image":{"toString":"${SIGNED}"}}]`)],
    ['an image that is an array', pod(`[{"name":"app","image":["${SIGNED}"]}]`)],
    ['an image that is null', pod('[{"name":"app","image":null}]')],
    ['dryRun that is a number', pod(`[{"name":"app","image":"${UNSIGNED}"}]`).replace('"operation"', '"dryRun":1e999,"operation"')],
  ])('%s is denied', async (_what, text) => {
    expectNotAdmitted(await post(text));
  });

  it('an object nested 150,000 levels deep is refused before parsing, not crashed on', async () => {
    const deep = `${'{"a":'.repeat(150_000)}1${'}'.repeat(150_000)}`;
    const text = pod(`[{"name":"app","image":"${UNSIGNED}"}]`).replace('"metadata":{"name":"web"}', `"metadata":{"name":"web","labels":${deep}}`);
    expect(text.length).toBeLessThan(LIMIT);
    expectNotAdmitted(await post(text));
    // No real object nests this deep (labels are strings): refused whatever its images.
    const signed = pod(`[{"name":"app","image":"${SIGNED}"}]`).replace('"metadata":{"name":"web"}', `"metadata":{"name":"web","labels":${deep}}`);
    const answer = await post(signed);
    expect(answer.status).toBe(413);
    expect(answer.text).toMatch(/REVIEW_TOO_COMPLEX: .*nested deeper than 100 levels/);
  });

  it('two AdmissionReviews in one body are refused', async () => {
    const a = await post(json(podBody(SIGNED)) + json(podBody(UNSIGNED)));
    expectNotAdmitted(a);
    expect(a.status).toBe(400);
  });
});

describe('bytes', () => {
  const withImageBytes = (bytes: Buffer) => {
    const text = json(podBody('IMAGE-HERE'));
    const [before, after] = text.split('IMAGE-HERE') as [string, string];
    return Buffer.concat([Buffer.from(before), bytes, Buffer.from(after)]);
  };

  it.each([
    ['a 0xff byte in the image', Buffer.concat([Buffer.from('registry.example.com/team/app'), Buffer.from([0xff]), Buffer.from(':1.0')])],
    ['an overlong "/" (C0 AF) in the image', Buffer.concat([Buffer.from('registry.example.com'), Buffer.from([0xc0, 0xaf]), Buffer.from('team/app:1.0')])],
    ['a lone surrogate (ED A0 80) in the image', Buffer.concat([Buffer.from('registry.example.com/team/app:1.0'), Buffer.from([0xed, 0xa0, 0x80])])],
    ['a NUL escape in the image', Buffer.from('registry.example.com/team/app:1.0\\u0000')],
  ])('%s is denied, never read as the signed image', async (_what, bytes) => {
    const a = await post(withImageBytes(bytes));
    expectNotAdmitted(a);
  });

  it('a body in UTF-16 is refused', async () => {
    expectNotAdmitted(await post(Buffer.from(json(podBody(SIGNED)), 'utf16le'), { 'content-type': 'application/json; charset=utf-16' }));
  });

  it('a byte-order mark before the JSON is refused', async () => {
    expectNotAdmitted(await post(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json(podBody(SIGNED)))])));
  });
});

describe('framing and content type', () => {
  it.each([
    ['no content type', {}],
    ['text/plain', { 'content-type': 'text/plain' }],
    ['application/x-www-form-urlencoded', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['application/yaml', { 'content-type': 'application/yaml' }],
    ['application/jsonp', { 'content-type': 'application/jsonp' }],
    ['application/json, text/plain', { 'content-type': 'application/json, text/plain' }],
  ])('content type %s: refused with 415', async (_what, headers) => {
    const a = await post(json(podBody(UNSIGNED)), headers);
    expectNotAdmitted(a);
    expect(a.status).toBe(415);
  });

  it('a gzip body is refused, not decompressed past the size limit', async () => {
    const bomb = gzipSync(Buffer.from(json(podBody(UNSIGNED, { pad: 'x'.repeat(20 * LIMIT) }))));
    expect(bomb.length).toBeLessThan(LIMIT);
    const a = await post(bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expectNotAdmitted(a);
    expect(a.status).toBe(400);
  });

  it('a chunked body over the limit is refused with 413 after the limit, not buffered whole', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const chunks = [Buffer.from(json(podBody(UNSIGNED)).slice(0, -1)), ...Array.from({ length: 40 }, () => chunk), Buffer.from('}')];
    const a = await post(chunks, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    expectNotAdmitted(a);
    expect(a.status).toBe(413);
  });

  it('a Content-Length over the limit is answered 413 at once, without waiting for the body', async () => {
    // The client announces more than the limit and sends only the start: the answer must not
    // wait for bytes that never come.
    const socket = connect(port, '127.0.0.1');
    const head = `POST /mutate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${LIMIT + 1}\r\n\r\n`;
    socket.write(head + json(podBody(UNSIGNED)).slice(0, 100));
    const text = await new Promise<string>((resolve) => {
      let got = '';
      socket.on('data', (c: Buffer) => {
        got += c.toString('utf8');
        if (got.includes('\r\n\r\n') && got.includes('}')) resolve(got);
      });
    });
    socket.destroy();
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text).not.toMatch(/"allowed"/);
  });

  it.each(['/mutate/', '/Mutate', '//mutate', '/mutate/../validate', '/mutate%00'])('path %j is not a webhook path (404)', async (path) => {
    const a = await post(json(podBody(UNSIGNED)), undefined, path);
    expectNotAdmitted(a);
    expect(a.status).toBe(404);
  });

  it('a query string does not change the decision', async () => {
    expectNotAdmitted(await post(json(podBody(UNSIGNED)), undefined, '/mutate?dryRun=true&allowed=true'));
  });
});
