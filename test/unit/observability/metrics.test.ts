import { Metrics } from '../../../src/observability/index.js';
import { MAX_TRUST_SERVER_LABELS } from '../../../src/observability/metrics.js';
import { OciRegistryClient } from '../../../src/registry/oci/index.js';
import { DEFAULT_METADATA_BUDGET, MetadataBudget, TrustClient } from '../../../src/trust/index.js';

describe('Metrics', () => {
  it.each([
    ['trustgate_log_lines_dropped_total', (m: Metrics, read: () => number) => m.countLogDrops(read)],
    ['trustgate_events_dropped_total', (m: Metrics, read: () => number) => m.countEventDrops(read)],
  ])('exports %s as a counter that follows its source', async (name, follow) => {
    const metrics = new Metrics();
    let dropped = 0;
    follow(metrics, () => dropped);
    const value = async () => new RegExp(`^${name} (\\d+)$`, 'm').exec(await metrics.text())?.[1];
    expect(await value()).toBe('0');
    dropped = 3;
    expect(await value()).toBe('3');
    dropped = 5;
    expect(await value()).toBe('5');
    expect(await metrics.text()).toContain(`# TYPE ${name} counter`);
  });

  it('exports the last audit round by result and kind of trust, new failures, and nothing from a replica standing by', async () => {
    const metrics = new Metrics();
    metrics.auditLeader(true);
    metrics.auditRound({ ok: true, byStatus: { pass: 7, fail: 2, warn: 1, error: 0 }, byKind: { notary: 6, cosign: 3 }, dctOnly: 4, pods: 9, newFailures: 2, seconds: 1.5 });
    metrics.auditRound({ ok: false, seconds: 0.1 });
    let text = await metrics.text();
    expect(text).toMatch(/^trustgate_audit_images\{result="fail"\} 2$/m);
    expect(text).toMatch(/^trustgate_audit_images\{result="pass"\} 7$/m);
    expect(text).toMatch(/^trustgate_audit_images_verified\{kind="cosign"\} 3$/m);
    expect(text).toMatch(/^trustgate_audit_images_dct_only 4$/m);
    expect(text).toMatch(/^trustgate_audit_new_failures_total 2$/m);
    expect(text).toMatch(/^trustgate_audit_rounds_total\{result="ok"\} 1$/m);
    expect(text).toMatch(/^trustgate_audit_rounds_total\{result="failed"\} 1$/m);
    expect(text).toMatch(/^trustgate_audit_leader 1$/m);
    metrics.auditLeader(false);
    text = await metrics.text();
    expect(text).toMatch(/^trustgate_audit_images\{result="fail"\} 0$/m);
    expect(text).toMatch(/^trustgate_audit_images_dct_only 0$/m);
    expect(text).toMatch(/^trustgate_audit_leader 0$/m);
  });

  it('exports the fair share of verifications as trustgate_verifications{state}', async () => {
    const metrics = new Metrics();
    let sizes = { running: 0, waiting: 0 };
    metrics.countVerifications(() => sizes);
    sizes = { running: 16, waiting: 900 };
    const text = await metrics.text();
    expect(text).toMatch(/^trustgate_verifications\{state="running"\} 16$/m);
    expect(text).toMatch(/^trustgate_verifications\{state="waiting"\} 900$/m);
  });

  it('exports what the OCI registry client holds, and the trust client sharing its budget, by structure', async () => {
    const budget = new MetadataBudget(DEFAULT_METADATA_BUDGET);
    const trust = new TrustClient({ budget });
    const registry = new OciRegistryClient({ budget });
    const metrics = new Metrics();
    metrics.countTrustClient(() => ({ ...trust.sizes() }));
    metrics.countRegistryClient(() => ({ ...registry.sizes() }));
    await budget.acquire(4096, undefined);
    const text = await metrics.text();
    expect(text).toMatch(/^trustgate_registry_client_entries\{structure="bytesHeld"\} 4096$/m);
    expect(text).toMatch(/^trustgate_trust_client_entries\{structure="metadataBytes"\} 4096$/m);
    for (const structure of ['agents', 'challenges', 'tokens', 'bytesWaiting']) expect(text).toMatch(new RegExp(`^trustgate_registry_client_entries\\{structure="${structure}"\\} 0$`, 'm'));
    budget.release(4096);
    registry.close();
    trust.close();
  });

  it('labels trust fetches by configured server only; every other server is "other"', async () => {
    const metrics = new Metrics();
    metrics.nameTrustServers(['https://notary.example.com/', undefined, 'not a url', 'https://notary.docker.io']);
    for (const origin of ['https://notary.example.com', 'https://notary.docker.io', 'https://made-up-1.example', 'https://made-up-2.example']) metrics.trustFetch(origin, 5, true);
    const servers = [...(await metrics.text()).matchAll(/trustgate_trust_fetch_duration_seconds_count\{server="([^"]*)"\} (\d+)/g)].map((m) => [m[1], m[2]]);
    expect(servers.sort()).toEqual([['https://notary.docker.io', '1'], ['https://notary.example.com', '1'], ['other', '2']]);
  });

  it('names at most MAX_TRUST_SERVER_LABELS configured servers', async () => {
    const metrics = new Metrics();
    const many = Array.from({ length: 500 }, (_, i) => `https://notary-${i}.example`);
    metrics.nameTrustServers(many);
    for (const origin of many) metrics.trustFetch(origin, 5, false);
    const labels = new Set([...(await metrics.text()).matchAll(/trustgate_trust_fetch_errors_total\{server="([^"]*)"\}/g)].map((m) => m[1]));
    expect(labels.size).toBe(MAX_TRUST_SERVER_LABELS + 1);
    expect(labels.has('other')).toBe(true);
  });
});
