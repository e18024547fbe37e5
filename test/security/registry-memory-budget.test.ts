// ADR 0008 for the OCI client: each registry document is bounded on its own (referrers pages
// 4 MiB and 200,000 JSON values), but a pod can name many registries its author runs, and calls
// in flight read and parse their documents at the same time. What they hold together is the
// client's byte budget: large documents wait for it, none is lost, and small ones (real
// manifests and pages are a few KB) are never held up behind them.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MediaType, OciRegistryClient, type RegistryConnection } from '../../src/registry/oci/index.js';
import { FakeRegistry, send } from '../support/fake-registry.js';
import { makeTls } from '../support/tls.js';

const REPO = 'team/app';
const SIG = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const BUDGET = { bytes: 1 << 20, reservedForSmall: 256 << 10, smallDocumentBytes: 64 << 10 };
const digestOf = (n: number) => `sha256:${createHash('sha256').update(String(n)).digest('hex')}`;
/** ~250 KB: larger than a small document, so it is read holding its whole limit. */
const bigPage = Buffer.from(JSON.stringify({
  schemaVersion: 2,
  mediaType: MediaType.OCI_INDEX,
  manifests: Array.from({ length: 1_500 }, (_, i) => ({ mediaType: MediaType.OCI_MANIFEST, digest: digestOf(i), size: 500, artifactType: SIG })),
}));
const smallPage = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: [{ mediaType: MediaType.OCI_MANIFEST, digest: digestOf(1), size: 500, artifactType: SIG }] }));

let registry: FakeRegistry;
let ca: string;

beforeAll(async () => {
  const tls = await makeTls(mkdtempSync(path.join(os.tmpdir(), 'trustgate-oci-budget-')));
  ca = readFileSync(tls.caCert, 'utf8');
  registry = await FakeRegistry.start(tls);
});

afterAll(() => registry.close());

function conn(): RegistryConnection {
  return { registry: registry.host, insecure: false, caBundle: ca, credentials: undefined, signal: undefined, timeoutMs: 20_000 };
}

it('calls in flight hold at most the budget; large pages wait their turn, small ones do not, and all complete', async () => {
  const client = new OciRegistryClient({ limits: { referrersBytes: 600 << 10 }, bounds: { budget: BUDGET } });
  const seen: { held: number; waiting: number; big: boolean }[] = [];
  registry.route = (req, res) => {
    const sizes = client.sizes();
    const big = (req.url ?? '').includes(digestOf(0).slice(7, 20));
    seen.push({ held: sizes.bytesHeld, waiting: sizes.bytesWaiting, big });
    // Slow enough that the calls overlap.
    setTimeout(() => send(res, 200, big ? bigPage : smallPage, { 'content-type': MediaType.OCI_INDEX }), 30);
  };
  try {
    const subjects = Array.from({ length: 8 }, (_, i) => `sha256:${digestOf(0).slice(7, 20)}${String(i).padStart(51, '0')}`);
    const large = subjects.map((s) => client.referrers(conn(), REPO, s, SIG, 2_000));
    // Once large pages wait for the budget, a small one is asked for.
    while (client.sizes().bytesWaiting === 0) await new Promise((r) => setTimeout(r, 5));
    const small = client.referrers(conn(), REPO, digestOf(99), SIG, 2_000);
    const results = await Promise.all([...large, small]);
    expect(results.slice(0, 8).every((r) => r.length === 1_500)).toBe(true);
    expect(results[8]).toHaveLength(1);
    // Each large page is held at its 600 KiB limit: only one fits the 768 KiB for large documents.
    expect(Math.max(...seen.map((s) => s.held))).toBeLessThanOrEqual(BUDGET.bytes);
    expect(seen.some((s) => s.waiting > 0)).toBe(true);
    // The small page reached the registry while large ones still waited: it did not queue behind them.
    expect(seen.find((s) => !s.big)?.waiting).toBeGreaterThan(0);
    expect(client.sizes()).toMatchObject({ bytesHeld: 0, bytesWaiting: 0 });
  } finally {
    client.close();
  }
});

it('a limit larger than the whole budget is refused at once, not left waiting for its deadline', async () => {
  const client = new OciRegistryClient({ bounds: { budget: BUDGET } });
  try {
    await expect(client.blob(conn(), REPO, digestOf(1), 8 << 20)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  } finally {
    client.close();
  }
});
