// `trustgate serve` as a child process, with helpers to talk to it over HTTPS.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { CLI } from './cli.js';
import { freePort } from './processes.js';

/**
 * Writes `policies.yaml` (the YAML given) and `config.yaml` for `trustgate serve` into `dir`: TLS
 * from `tls`, a free loopback port, that policies file, defaultAction deny, then `extra` config
 * lines (`metrics: …`, `deadlineSeconds: …`). Returns the config file's path.
 */
export async function writeServeConfig(dir: string, tls: { readonly cert: string; readonly key: string }, policies: string, extra = ''): Promise<string> {
  writeFileSync(path.join(dir, 'policies.yaml'), policies);
  const config = path.join(dir, 'config.yaml');
  writeFileSync(config, `listen: "127.0.0.1:${await freePort()}"
tls: {certFile: ${tls.cert}, keyFile: ${tls.key}}
policies: {files: ["policies.yaml"]}
defaultAction: deny
${extra}`);
  return config;
}

/**
 * A platform's catch-all that trusts on first use: verify every image, with docker's default trust
 * server per registry (`caBundle`: the CA that, in real life, is the public web PKI an attacker's
 * host has a certificate from).
 */
export function verifyAllOnFirstUse(caBundle: string): string {
  return `apiVersion: trustgate.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: default-verify-all}
spec:
  images: ["**"]
  trust: {caBundle: ${JSON.stringify(caBundle)}, trustOnFirstUse: true}
`;
}

/**
 * V8's heap as in the chart's pod, for a serve process on a machine without a memory limit. Node
 * gives V8 the smaller of the machine's memory and the cgroup's limit (nodejs/node
 * src/api/environment.cc, SetIsolateCreateParamsForNode), and V8 makes the old generation a
 * quarter of it, ×2 on 64-bit, with ~1 MiB semi-spaces for such a heap (v8 src/heap/heap.cc,
 * HeapSizeFromPhysicalMemory): the chart's 256 Mi limit (charts/trustgate/values.yaml) gives
 * these flags. Without them, on this 24 GiB machine, V8 lets garbage pile up to ~180 MiB of heap
 * before collecting, and RSS says nothing about what a pod would hold.
 */
export const POD_HEAP_NODE_OPTIONS = '--max-old-space-size=128 --max-semi-space-size=1';
/** The chart's memory limit (charts/trustgate/values.yaml resources.limits.memory), in KiB. */
export const CHART_MEMORY_LIMIT_KIB = 256 * 1024;

export class ServeProcess {
  readonly lines: string[] = [];
  port = 0;
  metricsPort: number | undefined;
  private constructor(private readonly child: ChildProcess, private readonly ca: Buffer) {}

  /** The process id, to read its /proc status (peak memory). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * @param keepLogs false: after start-up, drain the log instead of keeping it (benchmarks: a
   *   harness splitting every line would take CPU from the server it measures).
   * @param env added to the environment (jest's process.env is not the one children inherit).
   */
  static async start(configFile: string, caFile: string, keepLogs = true, env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
    const child = spawn(process.execPath, [CLI, 'serve', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const proc = new ServeProcess(child, readFileSync(caFile));
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        proc.lines.push(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    let serving: string;
    try {
      serving = await proc.waitForLog(/"msg":"trustgate serving"/, 15_000);
    } catch (error) {
      child.kill('SIGKILL'); // never leave a half-started server behind
      throw error;
    }
    const info = JSON.parse(serving) as { port: number; metricsPort?: number };
    proc.port = info.port;
    proc.metricsPort = info.metricsPort;
    if (!keepLogs) {
      child.stdout.off('data', onData);
      child.stdout.resume();
    }
    return proc;
  }

  /** The exit code or signal once the process has exited; undefined while it runs. */
  get exit(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.child.exitCode === null && this.child.signalCode === null ? undefined : { code: this.child.exitCode, signal: this.child.signalCode };
  }

  /** Registers `listener` for the process's exit (a crash, or a stop or kill). */
  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    if (this.exit) listener(this.exit.code, this.exit.signal);
    else this.child.once('exit', listener);
  }

  /** Waits until /readyz answers 200 (policies loaded, informers synced). */
  async waitReady(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.request('GET', '/readyz')).status !== 200) {
      if (Date.now() > deadline) throw new Error(`trustgate not ready after ${timeoutMs} ms:\n${this.lines.slice(-10).join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Resolves with the first log line matching, waiting for it if needed. */
  async waitForLog(pattern: RegExp, timeoutMs = 10_000, from = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.slice(from).find((l) => pattern.test(l));
      if (line) return line;
      if (this.child.exitCode !== null) throw new Error(`trustgate serve exited ${this.child.exitCode}:\n${this.lines.join('\n')}`);
      if (Date.now() > deadline) throw new Error(`no log line matching ${pattern} within ${timeoutMs} ms:\n${this.lines.slice(-20).join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** @param client a client certificate and key (files) to present, as kube-apiserver does with an AdmissionConfiguration. */
  request(method: string, path: string, body?: unknown, client?: { cert: string; key: string }): Promise<{ status: number; body: string; cert: string }> {
    const identity = client && { cert: readFileSync(client.cert), key: readFileSync(client.key) };
    return new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: this.port, path, method, ca: this.ca, agent: false, headers: { 'content-type': 'application/json' }, ...identity }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const socket = res.socket as import('node:tls').TLSSocket;
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), cert: socket.getPeerCertificate?.().fingerprint256 ?? '' });
        });
      });
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  /** POSTs an AdmissionReview and returns its response part. */
  async review(endpoint: 'mutate' | 'validate', body: unknown): Promise<AdmissionAnswer> {
    const r = await this.request('POST', `/${endpoint}`, body);
    if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.body}`);
    return (JSON.parse(r.body) as { response: AdmissionAnswer }).response;
  }

  async metrics(): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.metricsPort ?? 0}/metrics`);
    return res.text();
  }

  async stop(): Promise<number | null> {
    return this.signal('SIGTERM');
  }

  /** SIGKILL, as the kernel's OOM killer or a node failure would: no graceful shutdown. */
  async kill(): Promise<number | null> {
    return this.signal('SIGKILL');
  }

  private async signal(signal: NodeJS.Signals): Promise<number | null> {
    // A process killed by a signal has no exit code but a signalCode: it will not exit again.
    if (this.exit) return this.exit.code;
    const exited = new Promise<number | null>((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.child.kill(signal);
    return exited;
  }
}

export interface AdmissionAnswer {
  uid: string;
  allowed: boolean;
  status?: { code: number; message: string };
  patchType?: string;
  patch?: string;
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

export function decodePatch(answer: AdmissionAnswer): { op: string; path: string; value?: unknown }[] {
  return answer.patch ? (JSON.parse(Buffer.from(answer.patch, 'base64').toString()) as { op: string; path: string; value?: unknown }[]) : [];
}

/** A metric's value from Prometheus text (0 when absent). */
export function metricValue(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `) || (labels === '' && l.startsWith(`${name} `)));
  return line ? Number(line.split(' ').pop()) : 0;
}
