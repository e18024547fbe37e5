// `npm run demo`: Docker Content Trust's walk-through, against a cluster. A local registry and
// Notary server (Debian's docker-registry and notary-server), a real control plane (etcd,
// kube-apiserver, kube-controller-manager), the Helm chart, and trustgate. Every step checks
// that it behaved as narrated; the demo exits non-zero if one did not, and stops everything
// it started.   --keep   leave it all running and print how to use it.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ControlPlane } from '../test/support/control-plane.js';
import { freePort } from '../test/support/processes.js';
import { ServeProcess } from '../test/support/serve-process.js';
import { TrustStack } from '../test/support/stack.js';

const keep = process.argv.includes('--keep');
const bold = (s: string) => (process.stdout.isTTY ? `\u001b[1m${s}\u001b[0m` : s);
let step = 0;
let checks = 0;

function say(title: string, text = ''): void {
  console.log(`\n${bold(`${++step}. ${title}`)}${text ? `\n   ${text}` : ''}`);
}

function show(output: string): void {
  for (const line of output.trimEnd().split('\n')) if (line) console.log(`   │ ${line}`);
}

function expectThat(ok: boolean, what: string): void {
  if (!ok) throw new Error(`the demo did not behave as narrated: ${what}`);
  checks++;
  console.log(`   ✔ ${what}`);
}

let cp: ControlPlane | undefined;
let stack: TrustStack | undefined;
let serve: ServeProcess | undefined;

/** Stops everything the demo started; also on Ctrl-C, so no process is left behind. */
async function tearDown(): Promise<void> {
  const [s, t, c] = [serve, stack, cp];
  serve = stack = cp = undefined;
  await s?.stop();
  await t?.stop();
  await c?.stop();
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (keep) return; // --keep waits for Ctrl-C itself
    void tearDown().then(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  try {
    say('Start a local registry, a Notary server, a control plane and trustgate; install the chart');
    [cp, stack] = await Promise.all([ControlPlane.start(), TrustStack.start()]);
    const cluster = cp;
    const trust = stack;
    const kubectl = async (args: string[], input?: string) => {
      console.log(`   $ kubectl ${args.join(' ')}`);
      const r = await cluster.kubectl(args, input);
      show(r.stdout + r.stderr);
      return r;
    };
    const image = `${trust.registry}/demo/app`;
    const ca = readFileSync(trust.tls.caCert, 'utf8');
    const port = await freePort();
    const metricsPort = await freePort();
    await cluster.installChart({ port, caPem: ca, policies: [{ name: 'signed-images', spec: { images: [`${trust.registry}/**`], trust: { server: trust.notaryUrl, caBundle: ca, trustOnFirstUse: true } } }] });
    const config = path.join(trust.dir, 'trustgate.yaml');
    writeFileSync(config, `listen: "127.0.0.1:${port}"\ntls: {certFile: ${trust.tls.cert}, keyFile: ${trust.tls.key}}\nmetrics: {listen: "127.0.0.1:${metricsPort}"}\nkubernetes: {kubeconfig: ${cluster.kubeconfig}}\n`);
    serve = await ServeProcess.start(config, trust.tls.caCert, false);
    await serve.waitReady();
    console.log(`   registry ${trust.registry}, Notary ${trust.notaryUrl}, API server ${cluster.apiserverUrl}, trustgate https://127.0.0.1:${port}`);
    expectThat((await serve.request('GET', '/readyz')).status === 200, 'trustgate is ready with the chart\'s policy: images from this registry must be signed');

    say('Push an unsigned image and run it in a namespace without the opt-in label', '(like docker run with DOCKER_CONTENT_TRUST unset)');
    const unsigned = await trust.pushImage('demo/app', '1.0', 'demo build 1');
    await cluster.kubectlOk(['create', 'namespace', 'demo']);
    const r2 = await kubectl(['run', 'web-1', `--image=${image}:1.0`, '-n', 'demo', '--restart=Never']);
    expectThat(r2.code === 0, 'it runs: trust is not enforced in this namespace');

    say('Opt the namespace in: the cluster\'s DOCKER_CONTENT_TRUST=1');
    await kubectl(['label', 'namespace', 'demo', 'trustgate.dev/enforce=true']);
    const r3 = await kubectl(['run', 'web-2', `--image=${image}:1.0`, '-n', 'demo', '--restart=Never']);
    expectThat(r3.code !== 0 && /NO_TRUST_DATA/.test(r3.stderr), 'the same pod is refused, and kubectl says which container, image, reason and policy');

    say('Sign the tag, as a publisher does with docker trust sign', '(notary init, then notary addhash with the manifest digest)');
    await trust.init(image);
    await trust.sign(image, '1.0', unsigned);
    await kubectl(['run', 'web-3', `--image=${image}:1.0`, '-n', 'demo', '--restart=Never']);
    const pinned = await kubectl(['get', 'pod', 'web-3', '-n', 'demo', '-o', 'jsonpath={.spec.containers[0].image}{"\\n"}']);
    expectThat(pinned.stdout.trim() === `${image}:1.0@${unsigned.digest}`, 'admitted, and the stored pod runs the signed digest');

    say('Push a new, unsigned manifest over the signed tag');
    const overwrite = await trust.pushImage('demo/app', '1.0', 'demo build 2, unsigned');
    console.log(`   the registry now serves ${overwrite.digest} for 1.0`);
    await kubectl(['run', 'web-4', `--image=${image}:1.0`, '-n', 'demo', '--restart=Never']);
    const still = await kubectl(['get', 'pod', 'web-4', '-n', 'demo', '-o', 'jsonpath={.spec.containers[0].image}{"\\n"}']);
    expectThat(still.stdout.trim() === `${image}:1.0@${unsigned.digest}`, 'a new pod still gets the signed digest, not the registry\'s');

    say('Require a release signer (targets/releases) for this repository', '(a more specific ClusterImagePolicy: the most specific pattern wins)');
    await kubectl(['apply', '-f', '-'], `apiVersion: trustgate.dev/v1alpha1\nkind: ClusterImagePolicy\nmetadata: {name: demo-releases}\nspec:\n  images: ["${trust.registry}/demo/app"]\n  trust:\n    server: ${trust.notaryUrl}\n    caBundle: ${JSON.stringify(ca)}\n    signers: [{role: targets/releases}]\n    trustOnFirstUse: true\n`);
    // Wait until trustgate has seen the new policy (a server-side dry run has no side effects).
    for (let i = 0; i < 50; i++) {
      const probe = await cluster.kubectl(['run', 'probe', `--image=${image}:1.0`, '-n', 'demo', '--restart=Never', '--dry-run=server']);
      if (/SIGNER_MISSING/.test(probe.stderr)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const r6 = await kubectl(['run', 'web-5', `--image=${image}:1.0`, '-n', 'demo', '--restart=Never']);
    expectThat(r6.code !== 0 && /SIGNER_MISSING/.test(r6.stderr), 'a tag signed only by the repository key is refused');
    await trust.addSigner(image, 'targets/releases', 'releaser');
    const release = await trust.pushImage('demo/app', '1.1', 'demo release 1.1');
    await trust.sign(image, '1.1', release, ['targets/releases']);
    console.log('   … the release key signs 1.1 (docker trust signer add + docker trust sign)');
    const r7 = await kubectl(['run', 'web-6', `--image=${image}:1.1`, '-n', 'demo', '--restart=Never']);
    expectThat(r7.code === 0, 'a tag signed by the release key is admitted');

    say('The decisions, in the metrics and the Events');
    const metrics = await serve.metrics();
    show(metrics.split('\n').filter((l) => l.startsWith('trustgate_admission_reviews_total')).join('\n'));
    expectThat(/decision="deny"\} [1-9]/.test(metrics) && /decision="allow"\} [1-9]/.test(metrics), 'allowed and denied reviews are counted');
    const events = await kubectl(['get', 'events', '-n', 'demo', '--field-selector', 'reason=ImageNotTrusted', '-o', 'custom-columns=REASON:.reason,MESSAGE:.message']);
    expectThat(/ImageNotTrusted/.test(events.stdout), 'each denial left an ImageNotTrusted event');

    if (keep) {
      console.log(`\n${bold('Left running')} (Ctrl-C to stop everything):`);
      console.log(`   export KUBECONFIG=${cluster.kubeconfig}`);
      console.log('   kubectl get pods -n demo -o wide');
      console.log(`   kubectl run try --image=${image}:1.1 -n demo --restart=Never`);
      console.log(`   curl -s http://127.0.0.1:${metricsPort}/metrics | grep trustgate_admission`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
  } finally {
    say('Tear down');
    await tearDown();
  }
  console.log(`\nDemo finished: all ${checks} checks behaved as narrated.`);
}

main().catch((error: unknown) => {
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
