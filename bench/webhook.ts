// Webhook throughput and latency, against a bare Node HTTPS server measured in the same run
// (bench/baseline-server.ts), with wrk as the load generator; the cold single-image review
// against a local notary-server; and the same load with the Kubernetes side on, against a real
// kube-apiserver (the control plane of the e2e tests). Figures: bench/RESULTS.md.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { ControlPlane } from '../test/support/control-plane.js';
import { run } from '../test/support/processes.js';
import { review, workload } from '../test/support/reviews.js';
import { ServeProcess } from '../test/support/serve-process.js';
import { TrustStack } from '../test/support/stack.js';
import { postMutate } from './cold-review-requests.js';
import { fmt, summarise } from './stats.js';

const CONNECTIONS = 32;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
}

async function wrk(url: string, bodyFile: string, seconds = SECONDS): Promise<WrkResult> {
  const script = path.join(path.dirname(bodyFile), 'post.lua');
  writeFileSync(script, `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nlocal f = io.open("${bodyFile}", "rb")\nwrk.body = f:read("*a")\nf:close()\n`);
  const r = await run('wrk', ['-t2', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-s', script, url], { timeoutMs: (seconds + 30) * 1000 });
  if (r.code !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  if (/Non-2xx/.test(r.stdout)) throw new Error(`wrk saw errors:\n${r.stdout}`);
  const ms = (label: string) => {
    const m = new RegExp(`${label}%\\s+([\\d.]+)(us|ms|s)`).exec(r.stdout);
    if (!m) throw new Error(`no ${label}% in wrk output:\n${r.stdout}`);
    return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
  };
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1]), p50: ms('50'), p99: ms('99') };
}

async function main(): Promise<void> {
  const stack = await TrustStack.start();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-bench-'));
  const baseline = spawn(process.execPath, [path.resolve('dist/bench/baseline-server.js'), stack.tls.cert, stack.tls.key], { stdio: ['ignore', 'pipe', 'inherit'] });
  const batched = spawn(process.execPath, [path.resolve('dist/bench/baseline-server.js'), stack.tls.cert, stack.tls.key, '--batch'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let serve: ServeProcess | undefined;
  let cp: ControlPlane | undefined;
  try {
    const gun = `${stack.registry}/bench/app`;
    const image = await stack.pushImage('bench/app', '1.0', 'bench');
    await stack.init(gun);
    const coldTags = Array.from({ length: 30 }, (_, i) => `cold-${i}`);
    for (const tag of ['1.0', ...coldTags]) await stack.notaryOk(['addhash', gun, tag, String(image.size), '--sha256', image.digest.slice(7)]);
    await stack.notaryOk(['publish', gun]);

    const ca = readFileSync(stack.tls.caCert, 'utf8');
    mkdirSync(path.join(dir, 'policies'));
    writeFileSync(path.join(dir, 'policies', 'p.yaml'), `apiVersion: trustgate.dev/v1alpha1\nkind: ClusterImagePolicy\nmetadata: {name: bench}\nspec:\n  images: ["**"]\n  trust: {server: "${stack.notaryUrl}", caBundle: ${JSON.stringify(ca)}, trustOnFirstUse: true}\n`);
    writeFileSync(path.join(dir, 'config.yaml'), `listen: "127.0.0.1:0"\ntls: {certFile: ${stack.tls.cert}, keyFile: ${stack.tls.key}}\npolicies: {files: ["policies/*.yaml"]}\n`);
    serve = await ServeProcess.start(path.join(dir, 'config.yaml'), stack.tls.caCert, false);
    const portOf = (child: typeof baseline) => new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve((JSON.parse(d.toString()) as { port: number }).port)));
    const basePort = await portOf(baseline);
    const batchedPort = await portOf(batched);

    const bodyFile = path.join(dir, 'review.json');
    const body = JSON.stringify(review('Pod', workload('Pod', 'web', { containers: [{ name: 'app', image: `${gun}:1.0` }] })));
    writeFileSync(bodyFile, body);
    // /validate sees what the API server sends after /mutate: the pod pinned (by tag it is NOT_PINNED).
    const pinnedFile = path.join(dir, 'review-pinned.json');
    writeFileSync(pinnedFile, JSON.stringify(review('Pod', workload('Pod', 'web', { containers: [{ name: 'app', image: `${gun}:1.0@${image.digest}` }] }))));
    const caBuf = readFileSync(stack.tls.caCert);
    const agent = new https.Agent({ keepAlive: true });
    await postMutate(serve.port, caBuf, agent, body, false); // fills the cache: the runs below are warm

    // Interleaved so each side sees the same machine load.
    const base1 = await wrk(`https://127.0.0.1:${basePort}/mutate`, bodyFile);
    const mutate = await wrk(`https://127.0.0.1:${serve.port}/mutate`, bodyFile);
    const validate = await wrk(`https://127.0.0.1:${serve.port}/validate`, pinnedFile);
    const base2 = await wrk(`https://127.0.0.1:${basePort}/validate`, pinnedFile);
    const batchedBase = await wrk(`https://127.0.0.1:${batchedPort}/validate`, pinnedFile);
    const baseRps = (base1.rps + base2.rps) / 2;

    // Cold: each review a tag never seen (a cache miss; the root is already trusted).
    const cold: number[] = [];
    for (const tag of coldTags) {
      const coldBody = JSON.stringify(review('Pod', workload('Pod', 'web', { containers: [{ name: 'app', image: `${gun}:${tag}` }] })));
      cold.push(await postMutate(serve.port, caBuf, agent, coldBody, false));
    }
    const baseSingle: number[] = [];
    for (let i = 0; i < 30; i++) baseSingle.push(await postMutate(basePort, caBuf, agent, body, false));
    agent.destroy();
    const c = summarise(cold);
    const b = summarise(baseSingle);

    console.log(`webhook, warm cache, wrk -t2 -c${CONNECTIONS} -d${SECONDS}s (baseline: bare Node HTTPS server, same reviews)`);
    console.log(`  baseline   : ${fmt(base1.rps, 0)} / ${fmt(base2.rps, 0)} req/s   p50 ${fmt(base1.p50, 2)} ms  p99 ${fmt(base1.p99, 2)} / ${fmt(base2.p99, 2)} ms`);
    console.log(`  /mutate    : ${fmt(mutate.rps, 0)} req/s = ${fmt((100 * mutate.rps) / baseRps, 0)}% of baseline   p50 ${fmt(mutate.p50, 2)} ms  p99 ${fmt(mutate.p99, 2)} ms`);
    console.log(`  /validate  : ${fmt(validate.rps, 0)} req/s = ${fmt((100 * validate.rps) / baseRps, 0)}% of baseline   p50 ${fmt(validate.p50, 2)} ms  p99 ${fmt(validate.p99, 2)} ms`);
    console.log(`  goals      : ≥ 60% of baseline: ${mutate.rps >= 0.6 * baseRps && validate.rps >= 0.6 * baseRps ? 'met' : 'NOT met'}; p99 ≤ 10 ms: ${Math.max(mutate.p99, validate.p99) <= 10 ? 'met' : 'NOT met'}`);
    console.log(`  baseline batching its answers as trustgate does: ${fmt(batchedBase.rps, 0)} req/s; /mutate ${fmt((100 * mutate.rps) / batchedBase.rps, 0)}%, /validate ${fmt((100 * validate.rps) / batchedBase.rps, 0)}% of it`);
    console.log('cold single-image review (cache miss, root trusted), 30 sequential reviews');
    console.log(`  trustgate  : p50 ${fmt(c.median, 2)} ms  p90 ${fmt(c.p90, 2)} ms   (goal p50 ≤ 15 ms: ${c.median <= 15 ? 'met' : 'NOT met'})`);
    console.log(`  baseline   : p50 ${fmt(b.median, 2)} ms  (one request to the bare server)`);

    // The chart's configuration: the Kubernetes side on (pull secrets looked up for every review,
    // Events written), against a real kube-apiserver; policies still from the file.
    await serve.stop();
    serve = undefined;
    cp = await ControlPlane.start();
    await cp.kubectlOk(['create', 'namespace', 'team-a']);
    writeFileSync(path.join(dir, 'config-kube.yaml'), `listen: "127.0.0.1:0"\ntls: {certFile: ${stack.tls.cert}, keyFile: ${stack.tls.key}}\npolicies: {files: ["policies/*.yaml"]}\nkubernetes: {kubeconfig: ${cp.kubeconfig}, policies: false}\n`);
    serve = await ServeProcess.start(path.join(dir, 'config-kube.yaml'), stack.tls.caCert, false);
    await serve.waitReady();
    const kubeAgent = new https.Agent({ keepAlive: true });
    await postMutate(serve.port, caBuf, kubeAgent, body, false);
    kubeAgent.destroy();
    // A warm-up: the first seconds after start carry JIT compilation, the first pull-secret
    // reads and the initial burst of Events (docs/operations.md), which the steady state does not.
    await wrk(`https://127.0.0.1:${serve.port}/mutate`, bodyFile, 3);
    const base3 = await wrk(`https://127.0.0.1:${basePort}/mutate`, bodyFile);
    const kubeMutate = await wrk(`https://127.0.0.1:${serve.port}/mutate`, bodyFile);
    const kubeValidate = await wrk(`https://127.0.0.1:${serve.port}/validate`, pinnedFile);
    const base4 = await wrk(`https://127.0.0.1:${basePort}/validate`, pinnedFile);
    const kubeBase = (base3.rps + base4.rps) / 2;
    console.log('webhook with the Kubernetes side (pull secrets, Events; the Helm chart\'s configuration), same load after a 3 s warm-up');
    console.log(`  baseline   : ${fmt(base3.rps, 0)} / ${fmt(base4.rps, 0)} req/s`);
    console.log(`  /mutate    : ${fmt(kubeMutate.rps, 0)} req/s = ${fmt((100 * kubeMutate.rps) / kubeBase, 0)}% of baseline   p99 ${fmt(kubeMutate.p99, 2)} ms`);
    console.log(`  /validate  : ${fmt(kubeValidate.rps, 0)} req/s = ${fmt((100 * kubeValidate.rps) / kubeBase, 0)}% of baseline   p99 ${fmt(kubeValidate.p99, 2)} ms`);
  } finally {
    await serve?.stop();
    await cp?.stop();
    baseline.kill('SIGTERM');
    batched.kill('SIGTERM');
    await stack.stop();
  }
}

await main();
