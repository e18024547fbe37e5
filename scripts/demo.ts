// `npm run demo`: Docker Content Trust's walk-through, against a cluster. A local registry and
// Notary server (Debian's docker-registry and notary-server), a real control plane (etcd,
// kube-apiserver, kube-controller-manager), the Helm chart, and trustgate; then the migration
// off DCT with the real cosign CLI (keyed, offline). Every step checks
// that it behaved as narrated; the demo exits non-zero if one did not, and stops everything
// it started.   --keep   leave it all running and print how to use it.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ControlPlane } from '../test/support/control-plane.js';
import { Cosign, registryFlags } from '../test/support/cosign.js';
import { freePort } from '../test/support/processes.js';
import type { RegistryServer } from '../test/support/registries.js';
import { metricValue, ServeProcess } from '../test/support/serve-process.js';
import { TrustStack, type PushedImage } from '../test/support/stack.js';

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

    await migrationChapter(cluster, trust, serve, kubectl, ca, port, release);

    if (keep) {
      console.log(`\n${bold('Left running')} (Ctrl-C to stop everything):`);
      console.log(`   export KUBECONFIG=${cluster.kubeconfig}`);
      console.log('   kubectl get pods -n demo -o wide');
      console.log(`   kubectl run try --image=${image}:1.1 -n demo --restart=Never`);
      console.log('   kubectl get pods -n demo -o custom-columns=NAME:.metadata.name,VERIFIED-BY:.metadata.annotations.trustgate\\.dev/verified-by');
      console.log(`   curl -s http://127.0.0.1:${metricsPort}/metrics | grep -E 'trustgate_(admission|images_dct_only|verified_images)'`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
  } finally {
    say('Tear down');
    await tearDown();
  }
  console.log(`\nDemo finished: all ${checks} checks behaved as narrated.`);
}

type Kubectl = (args: string[], input?: string) => Promise<{ code: number | null; stdout: string; stderr: string }>;

/**
 * The migration off Docker Content Trust (docs/migration.md): sign with cosign too, a policy
 * with a Notary and a cosign authority under `require: any`, the DCT-only count going to zero,
 * then the Notary authority dropped.
 */
async function migrationChapter(cluster: ControlPlane, trust: TrustStack, server: ServeProcess, kubectl: Kubectl, ca: string, port: number, release: PushedImage): Promise<void> {
  const registry: RegistryServer = { kind: 'docker-registry', host: trust.registry, url: `http://${trust.registry}`, log: path.join(trust.dir, 'registry.log'), stop: () => Promise.resolve() };
  const cosign = Cosign.create(path.join(trust.dir, 'cosign'));
  const repo = (name: string) => `${trust.registry}/demo/${name}`;
  const cosignRun = async (args: string[]) => {
    console.log(`   $ cosign ${args.join(' ')}`);
    return cosign.run(args);
  };
  const cosignSign = async (name: string, image: PushedImage) => {
    const r = await cosignRun(['sign', '--key', 'release.key', '--tlog-upload=false', '--use-signing-config=false', ...registryFlags(registry), '-y', `${repo(name)}@${image.digest}`]);
    if (r.code !== 0) throw new Error(`cosign sign failed: ${r.stderr}`);
  };
  const cosignVerifies = async (image: string) => {
    const r = await cosignRun(['verify', '--key', 'release.pub', '--insecure-ignore-tlog=true', ...registryFlags(registry), image]);
    show(r.stderr.split('\n').find((l) => /^(Verification for|Error:)/.test(l)) ?? '');
    return r.code === 0;
  };
  const dctSigned = async (name: string, content: string) => {
    const image = await trust.pushImage(`demo/${name}`, '1.0', content);
    await trust.init(repo(name));
    await trust.sign(repo(name), '1.0', image);
    return image;
  };
  const run = (pod: string, image: string) => kubectl(['run', pod, `--image=${image}`, '-n', 'demo', '--restart=Never']);
  const verifiedBy = async (pod: string) =>
    (await cluster.kubectlOk(['get', 'pod', pod, '-n', 'demo', '-o', 'jsonpath={.metadata.annotations.trustgate\\.dev/verified-by}'])).trim();
  const dctOnly = async () => {
    const value = metricValue(await server.metrics(), 'trustgate_images_dct_only');
    console.log(`   trustgate_images_dct_only ${value}`);
    return value;
  };
  const notary = { name: 'dct', notary: { server: trust.notaryUrl, caBundle: ca, trustOnFirstUse: true } };
  const setAuthorities = async (authorities: unknown[], inForce: () => Promise<boolean>) => {
    console.log(`   $ helm upgrade trustgate charts/trustgate --reuse-values --set-json 'clusterPolicies=[{"name":"signed-images","spec":{…"authorities":[${authorities.map((a) => `"${(a as { name: string }).name}"`).join(',')}]}}]'`);
    await cluster.installChart({ port, caPem: ca, policies: [{ name: 'signed-images', spec: { images: [`${trust.registry}/**`], require: 'any', authorities } }] });
    // Wait until trustgate has seen the new policy (server-side dry runs have no side effects).
    for (let i = 0; i < 50 && !(await inForce()); i++) await new Promise((r) => setTimeout(r, 200));
  };
  const dryRun = (image: string, output: string[] = []) => cluster.kubectl(['run', 'probe', `--image=${image}`, '-n', 'demo', '--restart=Never', '--dry-run=server', ...output]);

  say('Docker Content Trust is retired: publishers sign with cosign too', '(cosign generate-key-pair; cosign sign --key, offline here: --tlog-upload=false)');
  // One policy for the whole registry from here on: the release-signer rule was DCT's.
  await kubectl(['delete', 'clusterimagepolicy', 'demo-releases']);
  await cosignRun(['generate-key-pair', '--output-key-prefix', 'release']);
  const api = await dctSigned('api', 'demo api, signed with DCT and cosign');
  const web = await dctSigned('web', 'demo web, signed with DCT only (for now)');
  console.log('   … both are signed with DCT, as before (docker trust sign)');
  await cosignSign('api', api);
  expectThat((await cosignVerifies(`${repo('api')}:1.0`)) && !(await cosignVerifies(`${repo('web')}:1.0`)), 'cosign verify: api carries a cosign signature, web does not yet');

  say('Switch the policy to accept either: a Notary and a cosign authority, require: any');
  const cosignAuthority = { name: 'release-key', cosign: { keys: [readFileSync(path.join(cosign.dir, 'release.pub'), 'utf8')], tlog: { required: false }, registry: { insecure: true } } };
  const annotationOf = async (image: string) => (await dryRun(image, ['-o', 'jsonpath={.metadata.annotations.trustgate\\.dev/verified-by}'])).stdout;
  await setAuthorities([notary, cosignAuthority], async () => (await annotationOf(`${repo('api')}:1.0`)) === 'notary,cosign');
  expectThat((await run('api-m1', `${repo('api')}:1.0`)).code === 0 && (await run('web-m1', `${repo('web')}:1.0`)).code === 0, 'both are admitted: one authority verifying is enough');

  say('Which images still depend on DCT alone', '(the trustgate.dev/verified-by annotation, and the trustgate_images_dct_only metric)');
  await kubectl(['get', 'pods', 'api-m1', 'web-m1', '-n', 'demo', '-o', 'custom-columns=NAME:.metadata.name,VERIFIED-BY:.metadata.annotations.trustgate\\.dev/verified-by']);
  expectThat((await verifiedBy('api-m1')) === 'notary,cosign' && (await verifiedBy('web-m1')) === 'notary', 'api was verified by both, web by Notary alone');
  expectThat((await dctOnly()) === 2, 'two repositories would break the day DCT is dropped: demo/web, and demo/app of the first chapter');

  say('Sign the remaining images with cosign and watch the count reach zero');
  await cosignSign('web', web);
  await cosignSign('app', release);
  expectThat((await cosignVerifies(`${repo('web')}:1.0`)) && (await cosignVerifies(`${repo('app')}:1.1`)), 'cosign verify: web and app 1.1 now carry cosign signatures');
  await run('web-m2', `${repo('web')}:1.0`);
  await run('app-m2', `${repo('app')}:1.1`);
  expectThat((await verifiedBy('web-m2')) === 'notary,cosign' && (await verifiedBy('app-m2')) === 'notary,cosign', 'their next pods are verified by both');
  expectThat((await dctOnly()) === 0, 'nothing admitted depends on DCT alone any more');

  say('Drop the Notary authority: cosign alone decides');
  const next = await trust.pushImage('demo/next', '1.0', 'demo next, signed with cosign only');
  await cosignSign('next', next);
  await dctSigned('legacy', 'demo legacy, signed with DCT only');
  expectThat((await cosignVerifies(`${repo('next')}:1.0`)) && !(await cosignVerifies(`${repo('legacy')}:1.0`)), 'cosign verify: next is cosign-signed, legacy only DCT-signed');
  await setAuthorities([cosignAuthority], async () => /NO_SIGNATURES/.test((await dryRun(`${repo('legacy')}:1.0`)).stderr));
  const admitted = await run('next-m1', `${repo('next')}:1.0`);
  expectThat(admitted.code === 0 && (await verifiedBy('next-m1')) === 'cosign', 'an image signed only with cosign is admitted, verified by cosign');
  const pinned = (await cluster.kubectlOk(['get', 'pod', 'next-m1', '-n', 'demo', '-o', 'jsonpath={.spec.containers[0].image}'])).trim();
  expectThat(pinned === `${repo('next')}:1.0@${next.digest}`, 'and pinned to the digest cosign signed');
  const refused = await run('legacy-m1', `${repo('legacy')}:1.0`);
  expectThat(refused.code !== 0 && /NO_SIGNATURES/.test(refused.stderr), 'an image signed only with DCT is refused: NO_SIGNATURES');
}

main().catch((error: unknown) => {
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
