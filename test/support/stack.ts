// The real trust stack on loopback, from Debian's packages (notary-server, docker-registry):
// notary-server (memory storage, local signing), docker-registry (in memory), skopeo to push
// images, and the notary CLI to sign them the way `docker trust sign` does.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { writeOciLayout } from './oci.js';
import { freePort, run, runOk, startDaemon, stopDaemon, waitForPort, type RunResult } from './processes.js';
import { makeTls, type TlsFiles } from './tls.js';

/** Passphrases for the test keys, given to the notary CLI through its environment variables. */
export const PASSPHRASE = 'trustgate-test-passphrase';
const PASSPHRASE_ENV = {
  NOTARY_ROOT_PASSPHRASE: PASSPHRASE,
  NOTARY_TARGETS_PASSPHRASE: PASSPHRASE,
  NOTARY_SNAPSHOT_PASSPHRASE: PASSPHRASE,
  NOTARY_DELEGATION_PASSPHRASE: PASSPHRASE,
};

/** notary-server's token auth settings (docker/distribution registry/auth/token). */
export interface TokenAuth {
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  readonly rootCertBundle: string;
}

export interface PushedImage {
  readonly digest: string;
  readonly size: number;
}

export class TrustStack {
  private constructor(
    readonly dir: string,
    readonly tls: TlsFiles,
    readonly notaryUrl: string,
    readonly registry: string,
    private readonly daemons: ChildProcess[],
  ) {}

  /** Starts notary-server and docker-registry on free loopback ports. */
  static async start(options: { registry?: boolean; tokenAuth?: (dir: string, tls: TlsFiles) => Promise<TokenAuth> } = {}): Promise<TrustStack> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-stack-'));
    const tls = await makeTls(dir);
    const auth = options.tokenAuth ? await options.tokenAuth(dir, tls) : undefined;
    const notaryPort = await freePort();
    writeFileSync(path.join(dir, 'notary-server.json'), JSON.stringify({
      server: { http_addr: `127.0.0.1:${notaryPort}`, tls_cert_file: tls.cert, tls_key_file: tls.key },
      trust_service: { type: 'local', hostname: '', port: '', key_algorithm: 'ecdsa' },
      logging: { level: 'info' },
      storage: { backend: 'memory' },
      ...(auth && { auth: { type: 'token', options: { realm: auth.realm, service: auth.service, issuer: auth.issuer, rootcertbundle: auth.rootCertBundle } } }),
    }));
    const daemons = [startDaemon('notary-server', ['-config', path.join(dir, 'notary-server.json')], path.join(dir, 'notary-server.log'))];
    let registry = '';
    if (options.registry !== false) {
      const registryPort = await freePort();
      writeFileSync(path.join(dir, 'registry.yml'), `version: 0.1\nlog: {level: warn}\nstorage: {inmemory: {}}\nhttp: {addr: 127.0.0.1:${registryPort}}\n`);
      daemons.push(startDaemon('docker-registry', ['serve', path.join(dir, 'registry.yml')], path.join(dir, 'registry.log')));
      registry = `127.0.0.1:${registryPort}`;
      await waitForPort(registryPort);
    }
    await waitForPort(notaryPort);
    const stack = new TrustStack(dir, tls, `https://127.0.0.1:${notaryPort}`, registry, daemons);
    stack.writeClientConfig();
    return stack;
  }

  get trustDir(): string {
    return path.join(this.dir, 'trust');
  }

  private writeClientConfig(): void {
    mkdirSync(this.trustDir, { recursive: true });
    writeFileSync(path.join(this.dir, 'notary-client.json'), JSON.stringify({
      trust_dir: this.trustDir,
      remote_server: { url: this.notaryUrl, root_ca: this.tls.caCert },
    }));
  }

  /** Runs the notary CLI as a publisher with this stack's config and trust dir. */
  notary(args: readonly string[], input?: string): Promise<RunResult> {
    return run('notary', ['-c', path.join(this.dir, 'notary-client.json'), '-d', this.trustDir, ...args], {
      env: PASSPHRASE_ENV,
      ...(input !== undefined && { input }),
    });
  }

  async notaryOk(args: readonly string[], input?: string): Promise<string> {
    const result = await this.notary(args, input);
    if (result.code !== 0) throw new Error(`notary ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
    return result.stdout;
  }

  /** Pushes a small image built by hand; returns the manifest digest the registry serves. */
  async pushImage(repository: string, tag: string, content: string): Promise<PushedImage> {
    const layout = writeOciLayout(mkdtempSync(path.join(this.dir, 'oci-')), content);
    const dest = `docker://${this.registry}/${repository}:${tag}`;
    await runOk('skopeo', ['--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false', `oci:${layout.dir}:latest`, dest]);
    const raw = await runOk('skopeo', ['--insecure-policy', 'inspect', '--raw', '--tls-verify=false', dest]);
    const bytes = Buffer.from(raw.replace(/\n$/, raw.endsWith('}\n') ? '' : '\n'));
    return { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length };
  }

  /** Signs `tag` for `image` as `docker trust sign` does: notary addhash + publish. */
  async sign(gun: string, tag: string, image: PushedImage, roles: readonly string[] = []): Promise<void> {
    const hex = image.digest.replace(/^sha256:/, '');
    const roleArgs = roles.flatMap((r) => ['--roles', r]);
    await this.notaryOk(['addhash', gun, tag, String(image.size), '--sha256', hex, ...roleArgs, '--publish']);
  }

  /**
   * A signer as `docker trust signer add` makes one: an ECDSA P-256 key with a self-signed
   * certificate, the delegation `role` published for all paths, and the key imported so
   * `sign(…, [role])` can use it.
   */
  async addSigner(gun: string, role: string, name: string): Promise<void> {
    const key = path.join(this.dir, `${name}.key`);
    const cert = path.join(this.dir, `${name}.crt`);
    await runOk('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '3650', '-subj', `/CN=${name}`, '-keyout', key, '-out', cert]);
    await this.notaryOk(['delegation', 'add', gun, role, cert, '--all-paths', '--publish']);
    await this.notaryOk(['key', 'import', key, '--role', role]);
  }

  /** `notary init GUN --publish`: root, targets and snapshot keys made locally. */
  async init(gun: string): Promise<void> {
    await this.notaryOk(['init', gun, '--publish']);
  }

  /**
   * `notary key rotate GUN root`: a new root key, the new root signed by old and new keys.
   * notary asks for confirmation and, without a "yes", aborts yet exits 0: answer, then check.
   */
  async rotateRootKey(gun: string): Promise<void> {
    const out = await this.notaryOk(['key', 'rotate', gun, 'root'], 'yes\n');
    if (/Aborting/i.test(out)) throw new Error(`root rotation of ${gun} was aborted:\n${out}`);
  }

  /** Stops notary-server only (an outage of the trust server); `stop()` still cleans up. */
  async stopNotary(): Promise<void> {
    await stopDaemon(this.daemons[0]);
  }

  async stop(): Promise<void> {
    await Promise.all(this.daemons.map((d) => stopDaemon(d)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
