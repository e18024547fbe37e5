// TrustRecords on the real control plane (issue 12, ADR 0013): the chart grants them to
// trustgate's service account alone, in its own namespace, so no tenant can write or reset a
// recorded root; the CRD bounds a record at the API server; and the store's concurrency rests on
// the API server's own answers (409 on a stale resourceVersion, on a delete's precondition).
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { kubeTrustRecords, loadKubeConfig } from '../../src/kube/index.js';
import { recordName, type TrustRecord } from '../../src/trust/trust-state.js';
import { ControlPlane, type Tenant } from '../support/control-plane.js';
import { makeTls } from '../support/tls.js';
import { readFileSync } from 'node:fs';

const SA = 'system:serviceaccount:trustgate:trustgate';
const SERVER = 'https://notary.example.com/';
const GUN = 'registry.example.com/team/app';
let cp: ControlPlane;
let tenant: Tenant;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-records-'));
  const [plane, tls] = await Promise.all([ControlPlane.start(), makeTls(dir)]);
  cp = plane;
  await cp.installChart({ port: 9443, caPem: readFileSync(tls.caCert, 'utf8'), policies: [] });
  tenant = await cp.tenant('team-a', 'alice');
});

afterAll(async () => {
  await cp?.stop();
});

const record = (versions: Record<string, number>): TrustRecord => ({ server: SERVER, gun: GUN, root: undefined, versions: new Map(Object.entries(versions)), lastSeen: Date.now() });

const manifest = (namespace: string, name = recordName(SERVER, GUN), versions = '{timestamp: 1}') => `apiVersion: trustgate.dev/v1alpha1
kind: TrustRecord
metadata: {name: ${name}, namespace: ${namespace}}
spec: {server: "${SERVER}", gun: "${GUN}", versions: ${versions}, lastSeen: "2026-11-29T00:00:00Z"}
`;

describe('who may write TrustRecords', () => {
  const can = async (verb: string, namespace: string, as: string) => (await cp.kubectl(['auth', 'can-i', verb, 'trustrecords.trustgate.dev', '-n', namespace, `--as=${as}`])).stdout.trim();

  it('trustgate\'s service account, in its own namespace only', async () => {
    for (const verb of ['get', 'list', 'watch', 'create', 'update', 'delete']) expect(await can(verb, 'trustgate', SA)).toBe('yes');
    for (const verb of ['create', 'update', 'delete', 'patch']) expect(await can(verb, 'team-a', SA)).toBe('no');
    expect(await can('patch', 'trustgate', SA)).toBe('no');
  });

  it('no tenant: neither creating, replacing nor deleting a record, in trustgate\'s namespace or its own', async () => {
    for (const verb of ['create', 'update', 'patch', 'delete']) {
      expect(await can(verb, 'trustgate', 'alice')).toBe('no');
      expect(await can(verb, 'team-a', 'alice')).toBe('no');
    }
    const created = await tenant.kubectl(['apply', '-n', 'trustgate', '-f', '-'], manifest('trustgate'));
    expect(created.code).not.toBe(0);
    expect(created.stderr).toMatch(/forbidden/i);
    // Nor may the tenant read them (they name every repository the cluster trusts).
    expect(await can('list', 'trustgate', 'alice')).toBe('no');
  });
});

it('the API server refuses a record past the CRD\'s bounds', async () => {
  const roles = `{${Array.from({ length: 129 }, (_, i) => `r${i}: 1`).join(', ')}}`;
  const refused = await cp.kubectl(['apply', '-f', '-'], manifest('trustgate', 'tr-too-many-roles', roles));
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toMatch(/spec.versions: Too many/);
});

it('concurrency rests on the API server: a stale resourceVersion and a stale delete precondition are conflicts', async () => {
  const store = kubeTrustRecords(loadKubeConfig(cp.kubeconfig), 'trustgate', pino({ level: 'silent' }));
  const created = await store.create(record({ timestamp: 3 }));
  await expect(store.create(record({ timestamp: 3 }))).rejects.toMatchObject({ name: 'StateConflict' });
  const replaced = await store.replace(record({ timestamp: 5 }), created.revision);
  await expect(store.replace(record({ timestamp: 4 }), created.revision)).rejects.toMatchObject({ name: 'StateConflict' });
  await expect(store.remove(SERVER, GUN, created.revision)).rejects.toMatchObject({ name: 'StateConflict' });
  expect((await store.get(SERVER, GUN))?.record.versions.get('timestamp')).toBe(5);
  // Readable with kubectl, as the issue asks.
  const table = await cp.kubectlOk(['get', 'trustrecords', '-n', 'trustgate']);
  expect(table).toContain(GUN);
  await store.remove(SERVER, GUN, replaced.revision);
  expect(await store.get(SERVER, GUN)).toBeUndefined();
});
