// A stand-in for kube-apiserver's secret and ServiceAccount reads, for what the real one cannot
// be made to do on demand: answer every read late. It counts the reads and how many were in
// flight at once. Every secret named `<prefix>-<n>` is a kubernetes.io/dockerconfigjson secret
// holding `<prefix>-<n>:pw` for the given registry; ServiceAccounts list no pull secrets.
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { TlsFiles } from './tls.js';

export class SlowApiServer {
  /** Each read's path, in arrival order. */
  readonly reads: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Every answer waits this long. */
  delayMs = 0;
  private readonly server: https.Server;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly tls: TlsFiles, private readonly registry: string) {
    this.server = https.createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (req, res) => {
      const url = req.url ?? '';
      this.reads.push(url.split('?')[0]!);
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.inFlight--;
        const body = this.answer(url);
        res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? { kind: 'Status', code: 404, reason: 'NotFound' }));
      }, this.delayMs);
      this.timers.add(timer);
    });
  }

  /** Starts listening; returns a kubeconfig file for it. */
  async listen(dir: string): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const port = (this.server.address() as AddressInfo).port;
    const file = path.join(dir, 'slow-api.kubeconfig');
    writeFileSync(file, JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'slow', cluster: { server: `https://127.0.0.1:${port}`, 'certificate-authority': this.tls.caCert } }],
      users: [{ name: 'trustgate', user: { token: 'not-checked' } }],
      contexts: [{ name: 'slow', context: { cluster: 'slow', user: 'trustgate' } }],
      'current-context': 'slow',
    }));
    return file;
  }

  /** Reads of secrets whose name starts with `prefix`. */
  secretReads(prefix: string): number {
    return this.reads.filter((r) => r.includes(`/secrets/${prefix}-`)).length;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(url: string): unknown {
    const secret = /^\/api\/v1\/namespaces\/([^/]+)\/secrets\/([^/?]+)/.exec(url);
    if (secret) {
      const [, namespace, name] = secret;
      const config = { auths: { [this.registry]: { auth: Buffer.from(`${name}:pw`).toString('base64') } } };
      return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from(JSON.stringify(config)).toString('base64') } };
    }
    const account = /^\/api\/v1\/namespaces\/([^/]+)\/serviceaccounts\/([^/?]+)/.exec(url);
    if (account) return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: account[2], namespace: account[1] } };
    return undefined;
  }
}
