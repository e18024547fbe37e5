// What the migration e2e tests (test/e2e/cosign.test.ts, notation.test.ts) share: a real control
// plane with the chart installed, Debian's notary-server and docker-registry, optionally
// go-containerregistry's referrers registry, `trustgate serve` on loopback reviewing an `enforced`
// namespace, and the helpers to push, DCT-sign, run pods and read what the API server stored.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ControlPlane } from './control-plane.js';
import { eventually } from './eventually.js';
import { freePort, type RunResult } from './processes.js';
import { startReferrersRegistry, type RegistryServer } from './registries.js';
import { metricValue, ServeProcess } from './serve-process.js';
import { TrustStack, type PushedImage } from './stack.js';

export interface ClusterPolicySpec {
  readonly name: string;
  readonly spec: Record<string, unknown>;
}

export class MigrationCluster {
  /** Every image pushed with `push`, by `name:tag`. */
  readonly images: Record<string, PushedImage> = {};
  serve: ServeProcess | undefined;
  referrers: RegistryServer | undefined;

  private constructor(
    readonly cp: ControlPlane,
    readonly stack: TrustStack,
    /** The stack's docker-registry (plain HTTP, no referrers API) as the signing tools' helpers name it. */
    readonly registry: RegistryServer,
  ) {}

  static async start(): Promise<MigrationCluster> {
    const [cp, stack] = await Promise.all([ControlPlane.start(), TrustStack.start()]);
    const registry: RegistryServer = { kind: 'docker-registry', host: stack.registry, url: `http://${stack.registry}`, log: path.join(stack.dir, 'registry.log'), stop: () => Promise.resolve() };
    return new MigrationCluster(cp, stack, registry);
  }

  repo(name: string): string {
    return `${this.stack.registry}/${name}`;
  }

  byDigest(name: string, image: PushedImage): string {
    return `${this.repo(name)}@${image.digest}`;
  }

  /** A Notary authority on the stack's notary-server, trusting on first use. */
  notaryAuthority(): Record<string, unknown> {
    return { name: 'dct', notary: { server: this.stack.notaryUrl, caBundle: readFileSync(this.stack.tls.caCert, 'utf8'), trustOnFirstUse: true } };
  }

  /** Pushes `content` as `name:tag` (skopeo) and remembers it. */
  async push(name: string, tag: string, content: string): Promise<PushedImage> {
    const image = await this.stack.pushImage(name, tag, content);
    this.images[`${name}:${tag}`] = image;
    return image;
  }

  /** Signs the tag with DCT as `docker trust sign` does (notary addhash). */
  async dctSign(name: string, tag: string, image: PushedImage): Promise<void> {
    await this.stack.init(this.repo(name));
    await this.stack.sign(this.repo(name), tag, image);
  }

  async startReferrers(): Promise<RegistryServer> {
    this.referrers = await startReferrersRegistry(this.stack.dir);
    return this.referrers;
  }

  /**
   * Installs the chart with `policies`, runs `beforeServe` (objects serve should find at start),
   * starts serve (`kubernetes` adds to its kubernetes config), labels the `enforced` namespace and
   * waits until every policy is accepted.
   */
  async startServe(policies: readonly ClusterPolicySpec[], options: { kubernetes?: string; beforeServe?: () => Promise<void> } = {}): Promise<ServeProcess> {
    const port = await freePort();
    const configFile = path.join(this.stack.dir, 'trustgate.yaml');
    writeFileSync(configFile, `listen: "127.0.0.1:${port}"
tls: {certFile: ${this.stack.tls.cert}, keyFile: ${this.stack.tls.key}}
kubernetes: {kubeconfig: ${this.cp.kubeconfig}${options.kubernetes ? `, ${options.kubernetes}` : ''}}
defaultAction: deny
`);
    await this.cp.installChart({ port, caPem: readFileSync(this.stack.tls.caCert, 'utf8'), policies: [...policies] });
    await options.beforeServe?.();
    this.serve = await ServeProcess.start(configFile, this.stack.tls.caCert);
    await this.serve.waitReady();
    await this.cp.kubectlOk(['create', 'namespace', 'enforced']);
    await this.cp.kubectlOk(['label', 'namespace', 'enforced', 'trustgate.dev/enforce=true']);
    for (const { name } of policies) {
      await eventually(() => this.cp.kubectlOk(['get', 'clusterimagepolicy', name, '-o', 'jsonpath={.status.accepted} {.status.message}']), (v) => v.startsWith('true'), `${name} accepted`);
    }
    return this.serve;
  }

  runPod(name: string, image: string): Promise<RunResult> {
    return this.cp.kubectl(['run', name, `--image=${image}`, '-n', 'enforced', '--restart=Never']);
  }

  podField(name: string, jsonpath: string): Promise<string> {
    return this.cp.kubectlOk(['get', 'pod', name, '-n', 'enforced', '-o', `jsonpath=${jsonpath}`]);
  }

  verifiedBy(name: string): Promise<string> {
    return this.podField(name, '{.metadata.annotations.trustgate\\.dev/verified-by}');
  }

  async dctOnly(): Promise<number> {
    return metricValue((await this.serve!.request('GET', '/metrics')).body, 'trustgate_images_dct_only');
  }

  async stop(): Promise<void> {
    await this.serve?.stop();
    await this.referrers?.stop();
    await this.stack.stop();
    await this.cp.stop();
  }
}
