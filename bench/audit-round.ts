// One audit round (src/audit/round.ts, docs/audit.md) over 2,000 running pods of 200 distinct
// images in 10 reviewed namespaces. The API side is the REAL control plane of the e2e suite
// (etcd + kube-apiserver, test/support/control-plane.ts), through the real KubeAudit
// (src/kube/audit.ts), every request counted. The trust side is the real CachingVerifier over a
// counted fake kind (test/support/fake-verifier.ts FakeKindVerifier, 5 ms per verification, as
// a nearby trust server): trust fetches = its verifications. Reported:
// - trust verifications per round (goal: one per distinct image, 200, on a cold cache; none on a
//   warm one), API requests per round, wall time;
// - the round's wall time as a ratio of listing the same pods alone (measured in the same run).
//   npm run build && node dist/bench/audit-round.js
import { performance } from 'node:perf_hooks';
import { CachingVerifier, credentialLookup, decide, type ReviewRequest } from '../src/admission/index.js';
import { DEFAULT_ROUND_BOUNDS, RoundVerifier, runRound, TokenBucket, type RoundIo } from '../src/audit/index.js';
import { KubeAudit, loadKubeConfig } from '../src/kube/index.js';
import { PolicySet } from '../src/policy/index.js';
import { TrustKind } from '../src/trust/index.js';
import { ControlPlane } from '../test/support/control-plane.js';
import { FakeKindVerifier } from '../test/support/fake-verifier.js';
import { withAuthorities } from '../test/support/policies.js';
import { fmt } from './stats.js';

const PODS = 2000;
const IMAGES = 200;
const NAMESPACES = 10;
const DIGEST = `sha256:${'a'.repeat(64)}`;
const observer = { hit: () => undefined, miss: () => undefined, evicted: () => undefined, size: () => undefined, verified: () => undefined };

async function main(): Promise<void> {
  const cp = await ControlPlane.start();
  try {
    const script: Record<string, string> = {};
    for (let i = 0; i < IMAGES; i++) script[`registry.test/team/app${i}:1.0`] = DIGEST;
    for (let n = 0; n < NAMESPACES; n++) {
      const ns = `bench-${n}`;
      await cp.kubectlOk(['create', 'namespace', ns]);
      await cp.kubectlOk(['label', 'namespace', ns, 'trustgate.dev/enforce=true']);
      const items = Array.from({ length: PODS / NAMESPACES }, (_, i) => {
        const p = n * (PODS / NAMESPACES) + i;
        return { apiVersion: 'v1', kind: 'Pod', metadata: { name: `pod-${p}`, namespace: ns }, spec: { containers: [{ name: 'app', image: `registry.test/team/app${p % IMAGES}:1.0@${DIGEST}` }] } };
      });
      await cp.kubectlOk(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
    }
    await cp.installPolicyReportCrds();
    await cp.kubectlOk(['create', 'namespace', 'trustgate']);

    const kc = loadKubeConfig(cp.kubeconfig);
    const fake = new FakeKindVerifier(script, 5, TrustKind.COSIGN);
    const cache = new CachingVerifier([fake], { maxEntries: 10_000, maxBytes: 64 << 20, maxTtlMs: 300_000, negativeTtlMs: 10_000, timeoutMs: 30_000, servers: {}, now: Date.now }, observer);
    const policies = new PolicySet([withAuthorities('bench', ['registry.test/**'], [{ name: 'fake', kind: TrustKind.COSIGN }])]);
    const trustRate = new TokenBucket(10_000, 10_000);

    const round = async (apiPerSecond: number) => {
      const kube = new KubeAudit(kc, { leaseNamespace: 'trustgate', leaseName: 'trustgate-audit' }, new TokenBucket(apiPerSecond, Math.max(1, apiPerSecond * 2)));
      const verifier = new RoundVerifier(cache, trustRate, 20_000);
      const fetchesBefore = fake.started.length;
      const io: RoundIo = {
        namespaces: async (limit) => ({ names: (await kube.namespaces(limit, 'trustgate.dev/enforce=true')).items.map((n) => n.name), truncated: false }),
        pods: (ns, limit) => kube.pods(ns, limit),
        decide: (pod) => {
          const review: ReviewRequest = { uid: 'b', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: 'pods', subResource: '', namespace: pod.namespace, name: pod.name, operation: 'CREATE', object: pod.object, oldObject: undefined, dryRun: true };
          return decide(review, 'mutate', { policies, verifier, defaultAction: 'deny', mutateWorkloads: false, deadlineMs: 60_000, credentialsFor: credentialLookup(undefined) });
        },
        timestamps: (ns) => kube.timestamps(ns),
        writeNamespace: (ns, reports) => kube.writeNamespace(ns, reports),
        writeCluster: (report) => kube.writeCluster(report),
        removeOthers: (audited) => kube.removeOthers(audited),
        leading: () => true,
        namespaceStarted: (_ns, left) => verifier.startNamespace(left),
      };
      const started = performance.now();
      const result = await runRound(io, DEFAULT_ROUND_BOUNDS, Date.now);
      const ms = performance.now() - started;
      if (result.pods !== PODS || result.byStatus.pass !== PODS) throw new Error(`unexpected round: ${JSON.stringify(result)}`);
      return { ms, apiRequests: kube.requests, trustFetches: fake.started.length - fetchesBefore, lookups: verifier.lookups };
    };

    // Baseline: listing the same pods alone, through the same client, unlimited.
    const listOnly = async () => {
      const kube = new KubeAudit(kc, { leaseNamespace: 'trustgate', leaseName: 'x' }, new TokenBucket(10_000, 10_000));
      const started = performance.now();
      let pods = 0;
      for (let n = 0; n < NAMESPACES; n++) pods += (await kube.pods(`bench-${n}`, PODS)).pods.length;
      if (pods !== PODS) throw new Error(`listed ${pods}`);
      return performance.now() - started;
    };
    await listOnly(); // warm the connection
    const list = [];
    for (let i = 0; i < 5; i++) list.push(await listOnly());
    list.sort((a, b) => a - b);
    const listMs = list[2]!;

    const cold = await round(10_000);
    const warm = await round(10_000);
    const warmAgain = await round(10_000);
    const limited = await round(10); // the default audit.apiRequestsPerSecond
    const row = (name: string, r: Awaited<ReturnType<typeof round>>) =>
      console.log(JSON.stringify({ round: name, wallMs: Math.round(r.ms), xListOnly: fmt(r.ms / listMs, 2), apiRequests: r.apiRequests, trustFetches: r.trustFetches, cacheLookups: r.lookups }));
    console.log(JSON.stringify({ pods: PODS, images: IMAGES, namespaces: NAMESPACES, listOnlyMedianMs: Math.round(listMs) }));
    row('first (cold cache, reports created)', cold);
    row('second (warm cache, reports unchanged)', warm);
    row('third (warm cache, reports unchanged)', warmAgain);
    row('fourth (warm cache, 10 API requests/s)', limited);
  } finally {
    await cp.stop();
  }
}

await main();
