// What the webhook records of the kinds of trust that verified each image (docs/adr/0009): the
// decision's log line (`kinds`), trustgate_verified_images_total{kind}, the DCT-only gauge, and
// the verified-by annotation of the pods /mutate pins.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { decide, VERIFIED_BY_ANNOTATION, type Endpoint, type ReviewRequest } from '../../../src/admission/index.js';
import { Metrics } from '../../../src/observability/index.js';
import { PolicySet } from '../../../src/policy/index.js';
import { createRequestListener, listenHttp, type Listener } from '../../../src/server/index.js';
import { TrustKind } from '../../../src/trust/index.js';
import { KindsVerifier } from '../../support/fake-verifier.js';
import { withAuthorities } from '../../support/policies.js';
import { applyPatch, review, workload } from '../../support/reviews.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const DCT = 'registry.example.com/team/dct:1.0';
const BOTH = 'registry.example.com/team/both:1.0';
const LEGACY = 'registry.example.com/team/legacy:2.0';
const AUDITED = 'registry.example.com/team/audited:3.0';
const lines: Record<string, unknown>[] = [];
const metrics = new Metrics();
let listener: Listener;

beforeAll(async () => {
  const verifier = new KindsVerifier({ notary: { [DCT]: D1, [BOTH]: D1, [LEGACY]: D1, [AUDITED]: D1 }, cosign: { [BOTH]: D1 }, notation: { [AUDITED]: `unchecked:${D1}` } });
  const policies = new PolicySet([
    withAuthorities('migrating', ['**'], [{ name: 'dct', kind: TrustKind.NOTARY }, { name: 'sig', kind: TrustKind.COSIGN }, { name: 'notation', kind: TrustKind.NOTATION }]),
  ]);
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  listener = await listenHttp(
    createRequestListener({
      review: (endpoint: Endpoint, request: ReviewRequest) => decide(request, endpoint, { policies, verifier, defaultAction: 'deny', mutateWorkloads: false, deadlineMs: 1000, credentialsFor: () => undefined }),
      metrics, logger: pino({ level: 'info' }, sink), ready: () => true, maxRequestBytes: 64 * 1024, maxBytesInFlight: 32 * 1024 * 1024, serveMetrics: true,
    }),
    '127.0.0.1',
    0,
  );
});

afterAll(async () => {
  await listener.close(1000);
});

async function mutate(image: string): Promise<{ patched: any; line: Record<string, unknown> | undefined }> {
  const object = workload('Pod', 'web', { containers: [{ name: 'app', image }] });
  const r = await fetch(`http://127.0.0.1:${listener.port}/mutate`, { method: 'POST', body: JSON.stringify(review('Pod', object)), headers: { 'content-type': 'application/json' } });
  const body = (await r.json()) as { response: { allowed: boolean; patch: string } };
  expect(body.response.allowed).toBe(true);
  await new Promise((resolve) => setImmediate(resolve));
  return { patched: applyPatch(object, JSON.parse(Buffer.from(body.response.patch, 'base64').toString())), line: lines.filter((l) => l.msg === 'admission decision').at(-1) };
}

it('records the kinds in the log line, the annotation and the metrics; Notary alone counts as DCT-only', async () => {
  const dct = await mutate(DCT);
  expect(dct.line).toMatchObject({ kinds: ['notary'], images: [DCT] });
  expect(dct.patched.metadata.annotations[VERIFIED_BY_ANNOTATION]).toBe('notary');
  const both = await mutate(BOTH);
  expect(both.line).toMatchObject({ kinds: ['notary', 'cosign'] });
  expect(both.patched.metadata.annotations[VERIFIED_BY_ANNOTATION]).toBe('notary,cosign');
  const text = await metrics.text();
  expect(text).toContain('trustgate_verified_images_total{endpoint="mutate",kind="notary"} 2');
  expect(text).toContain('trustgate_verified_images_total{endpoint="mutate",kind="cosign"} 1');
  expect(text).toMatch(/^trustgate_images_dct_only 1$/m);
  expect(metrics.dctOnlyRepositories()).toEqual(['registry.example.com/team/dct']);
});

it('an image arriving pinned counts too: labelled, and DCT-only in the metric', async () => {
  const legacy = await mutate(`${LEGACY}@${D1}`);
  expect(legacy.line).toMatchObject({ kinds: ['notary'] });
  expect(legacy.patched.spec.containers[0].image).toBe(`${LEGACY}@${D1}`);
  expect(legacy.patched.metadata.annotations[VERIFIED_BY_ANNOTATION]).toBe('notary');
  expect(metrics.dctOnlyRepositories()).toContain('registry.example.com/team/legacy');
});

it('an answer admitted without trust being established (a Notation audit level) names no kind: the image stays DCT-only', async () => {
  const audited = await mutate(AUDITED);
  expect(audited.line).toMatchObject({ kinds: ['notary'] });
  expect(audited.patched.metadata.annotations[VERIFIED_BY_ANNOTATION]).toBe('notary');
  expect(metrics.dctOnlyRepositories()).toContain('registry.example.com/team/audited');
});
