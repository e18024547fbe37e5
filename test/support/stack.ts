// The real trust stack on loopback, from Debian's packages (notary-server, docker-registry):
// notary-server (memory storage, local signing), docker-registry (in memory), skopeo to push
// images, and the notary CLI to sign them the way `docker trust sign` does.
// `durable: true` gives the production shape instead, whose parts can be killed and restarted
// without losing anything: notary-server and notary-signer (keys for the server-managed
// timestamp role) on PostgreSQL, with notary's own schema migrations
// (test/fixtures/notary-migrations), and docker-registry on the filesystem.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { writeOciLayout } from './oci.js';
import { Postgres } from './postgres.js';
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

// From the repository root (the working directory of jest and of the built benchmarks alike):
// the SQL files are not copied into dist/.
const MIGRATIONS = path.resolve('test/fixtures/notary-migrations');
/** notary-signer's passphrase alias for the keys it stores (its NOTARY_SIGNER_<ALIAS> variable). */
const SIGNER_ALIAS = 'trustgate';

/** A daemon the stack can stop and start again with the same arguments, port and data. */
interface Part {
  readonly args: readonly [string, readonly string[], string, NodeJS.ProcessEnv?];
  readonly port: number;
  child?: ChildProcess;
}

export interface StackOptions {
  readonly registry?: boolean;
  readonly tokenAuth?: (dir: string, tls: TlsFiles) => Promise<TokenAuth>;
  /** notary-server + notary-signer on PostgreSQL and a filesystem registry: restartable parts. */
  readonly durable?: boolean;
}

export class TrustStack {
  private constructor(
    readonly dir: string,
    readonly tls: TlsFiles,
    readonly notaryUrl: string,
    readonly registry: string,
    private readonly parts: { notary: Part[]; registry?: Part },
    private readonly postgres: Postgres | undefined,
  ) {}

  /** Starts notary-server and docker-registry on free loopback ports. */
  static async start(options: StackOptions = {}): Promise<TrustStack> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-stack-'));
    const tls = await makeTls(dir);
    const auth = options.tokenAuth ? await options.tokenAuth(dir, tls) : undefined;
    const notaryPort = await freePort();
    const notary: Part[] = [];
    let postgres: Postgres | undefined;
    let trustService: object = { type: 'local', hostname: '', port: '', key_algorithm: 'ecdsa' };
    let storage: object = { backend: 'memory' };
    // A start that fails half-way leaves nothing running (PostgreSQL, a part already listening).
    const fail = async (error: unknown): Promise<never> => {
      await Promise.allSettled(notary.map((p) => stopDaemon(p.child)));
      await postgres?.stop();
      rmSync(dir, { recursive: true, force: true });
      throw error;
    };
    if (options.durable) {
      postgres = await Postgres.start();
      await TrustStack.createNotaryDatabases(postgres).catch(fail);
      const signerPort = await freePort();
      // The server's certificate serves both ways (serverAuth, clientAuth): notary-signer
      // accepts clients that chain to the test CA.
      writeFileSync(path.join(dir, 'notary-signer.json'), JSON.stringify({
        server: { grpc_addr: `127.0.0.1:${signerPort}`, tls_cert_file: tls.cert, tls_key_file: tls.key, client_ca_file: tls.caCert },
        logging: { level: 'info' },
        storage: { backend: 'postgres', db_url: postgres.url('notarysigner'), default_alias: SIGNER_ALIAS },
      }));
      notary.push({ args: ['notary-signer', ['-config', path.join(dir, 'notary-signer.json')], path.join(dir, 'notary-signer.log'), { [`NOTARY_SIGNER_${SIGNER_ALIAS.toUpperCase()}`]: PASSPHRASE }], port: signerPort });
      trustService = { type: 'remote', hostname: '127.0.0.1', port: String(signerPort), tls_ca_file: tls.caCert, key_algorithm: 'ecdsa', tls_client_cert: tls.cert, tls_client_key: tls.key };
      storage = { backend: 'postgres', db_url: postgres.url('notaryserver') };
    }
    writeFileSync(path.join(dir, 'notary-server.json'), JSON.stringify({
      server: { http_addr: `127.0.0.1:${notaryPort}`, tls_cert_file: tls.cert, tls_key_file: tls.key },
      trust_service: trustService,
      logging: { level: 'info' },
      storage,
      ...(auth && { auth: { type: 'token', options: { realm: auth.realm, service: auth.service, issuer: auth.issuer, rootcertbundle: auth.rootCertBundle } } }),
    }));
    notary.push({ args: ['notary-server', ['-config', path.join(dir, 'notary-server.json')], path.join(dir, 'notary-server.log')], port: notaryPort });
    let registry = '';
    let registryPart: Part | undefined;
    if (options.registry !== false) {
      const registryPort = await freePort();
      const store = options.durable ? `{filesystem: {rootdirectory: ${path.join(dir, 'registry-data')}}}` : '{inmemory: {}}';
      writeFileSync(path.join(dir, 'registry.yml'), `version: 0.1\nlog: {level: warn}\nstorage: ${store}\nhttp: {addr: 127.0.0.1:${registryPort}}\n`);
      registryPart = { args: ['docker-registry', ['serve', path.join(dir, 'registry.yml')], path.join(dir, 'registry.log')], port: registryPort };
      registry = `127.0.0.1:${registryPort}`;
    }
    const stack = new TrustStack(dir, tls, `https://127.0.0.1:${notaryPort}`, registry, { notary, ...(registryPart && { registry: registryPart }) }, postgres);
    await Promise.all([stack.startParts(notary), ...(registryPart ? [stack.startParts([registryPart])] : [])]).catch(async (error: unknown) => {
      await stopDaemon(registryPart?.child);
      return fail(error);
    });
    stack.writeClientConfig();
    return stack;
  }

  private static async createNotaryDatabases(postgres: Postgres): Promise<void> {
    await postgres.createDatabase('notaryserver', ['server-0001_initial.up.sql', 'server-0002_changefeed.up.sql'].map((f) => path.join(MIGRATIONS, f)));
    await postgres.createDatabase('notarysigner', [path.join(MIGRATIONS, 'signer-0001_initial.up.sql')]);
  }

  /** Starts parts in order, each listening before the next starts (notary-server needs its signer). */
  private async startParts(parts: readonly Part[]): Promise<void> {
    for (const part of parts) {
      part.child = startDaemon(...part.args);
      await waitForPort(part.port);
    }
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

  /**
   * Stops notary-server (and its signer) only, an outage of the trust server; `stop()` still
   * cleans up. With `kill`, SIGKILL: no graceful shutdown.
   */
  async stopNotary(options: { kill?: boolean } = {}): Promise<void> {
    for (const part of [...this.parts.notary].reverse()) await this.stopPart(part, options.kill);
  }

  /** Starts notary-server again on the same port; only a durable stack has its data back. */
  async startNotary(): Promise<void> {
    if (!this.postgres) throw new Error('startNotary needs a durable stack: a memory notary-server restarts empty');
    await this.startParts(this.parts.notary);
  }

  async stopRegistry(options: { kill?: boolean } = {}): Promise<void> {
    if (this.parts.registry) await this.stopPart(this.parts.registry, options.kill);
  }

  async startRegistry(): Promise<void> {
    if (!this.postgres || !this.parts.registry) throw new Error('startRegistry needs a durable stack: a memory registry restarts empty');
    await this.startParts([this.parts.registry]);
  }

  private async stopPart(part: Part, kill = false): Promise<void> {
    const child = part.child;
    part.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    if (!kill) return stopDaemon(child);
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async stop(): Promise<void> {
    await Promise.all([...this.parts.notary, ...(this.parts.registry ? [this.parts.registry] : [])].map((p) => stopDaemon(p.child)));
    await this.postgres?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
