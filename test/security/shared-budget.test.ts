// serve hands the Notary client and the OCI registry client one byte budget (ADR 0008), so
// adding cosign did not add its own allowance to the peak the chart's memory limit was sized
// for. Sharing must not let one kind starve the other: a pod author's registry serving large
// referrers pages (cosign) fills only the share for large documents, and Notary's metadata
// (real repositories' documents are KBs) still loads at once from the reserve for small ones.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MediaType, OciRegistryClient, type RegistryConnection } from '../../src/registry/oci/index.js';
import { MetadataBudget, NO_PINS, TrustClient } from '../../src/trust/index.js';
import { FakeRegistry, send } from '../support/fake-registry.js';
import { loadScenario } from '../support/fixtures.js';
import { RecordedFetcher } from '../support/recorded-fetcher.js';
import { makeTls } from '../support/tls.js';

const SIG = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const BUDGET = { bytes: 1 << 20, reservedForSmall: 256 << 10, smallDocumentBytes: 64 << 10 };
const digestOf = (n: number) => `sha256:${createHash('sha256').update(String(n)).digest('hex')}`;
/** ~250 KB: read holding its whole limit (600 KiB), so one fits the 768 KiB for large documents. */
const bigPage = Buffer.from(JSON.stringify({
  schemaVersion: 2,
  mediaType: MediaType.OCI_INDEX,
  manifests: Array.from({ length: 1_500 }, (_, i) => ({ mediaType: MediaType.OCI_MANIFEST, digest: digestOf(i), size: 500, artifactType: SIG })),
}));

let registry: FakeRegistry;
let ca: string;

beforeAll(async () => {
  const tls = await makeTls(mkdtempSync(path.join(os.tmpdir(), 'trustgate-shared-budget-')));
  ca = readFileSync(tls.caCert, 'utf8');
  registry = await FakeRegistry.start(tls);
});

afterAll(() => registry.close());

it('a registry flooding the shared budget with large cosign documents does not hold up Notary metadata', async () => {
  const budget = new MetadataBudget(BUDGET);
  const recorded = loadScenario('targets-only');
  const trust = new TrustClient({ budget, now: () => recorded.now });
  const oci = new OciRegistryClient({ limits: { referrersBytes: 600 << 10 }, budget });
  registry.route = (_req, res) => void setTimeout(() => send(res, 200, bigPage, { 'content-type': MediaType.OCI_INDEX }), 100);
  const conn: RegistryConnection = { registry: registry.host, insecure: false, caBundle: ca, credentials: undefined, signal: undefined, timeoutMs: 20_000 };
  try {
    const flood = Array.from({ length: 8 }, (_, i) => oci.referrers(conn, 'attacker/app', digestOf(1000 + i), SIG, 2_000));
    while (oci.sizes().bytesWaiting === 0) await new Promise((r) => setTimeout(r, 5));
    const repo = await trust.loadRepository({ server: 'https://notary.test', gun: recorded.scenario.gun, pins: NO_PINS, roles: { all: true }, caBundle: undefined, credentials: undefined, timeoutMs: 5000, fetcher: new RecordedFetcher(recorded.files) });
    expect(repo).toBeDefined();
    // Notary's load finished while cosign's large documents still queued for the same budget.
    expect(oci.sizes().bytesWaiting).toBeGreaterThan(0);
    expect(trust.sizes().metadataBytes).toBe(oci.sizes().bytesHeld);
    expect((await Promise.all(flood)).every((r) => r.length === 1_500)).toBe(true);
    expect(budget.sizes()).toEqual({ held: 0, waiting: 0 });
  } finally {
    oci.close();
    trust.close();
  }
});
