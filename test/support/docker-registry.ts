// Debian's docker-registry (distribution 2.8: no referrers API) on loopback, in memory, as the
// OCI client's integration tests need it: plain HTTP, or TLS with htpasswd (Basic) or token auth.
// Images go in with skopeo; artifacts and referrers indexes, which skopeo does not write, go in
// through the registry's own push API (distribution-spec "Push").
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { writeOciLayout } from './oci.js';
import { freePort, runOk, startDaemon, stopDaemon, waitForPort } from './processes.js';
import type { TokenAuth } from './stack.js';
import type { TlsFiles } from './tls.js';

export interface RegistryOptions {
  readonly tls?: TlsFiles;
  /** One htpasswd user (bcrypt, as the registry requires, made by libxcrypt through perl). */
  readonly htpasswd?: { readonly username: string; readonly password: string };
  readonly token?: TokenAuth;
}

export interface PushedManifest {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  readonly bytes: Buffer;
}

export class DockerRegistry {
  private constructor(
    readonly host: string,
    readonly dir: string,
    private readonly daemon: ChildProcess,
    private readonly options: RegistryOptions,
  ) {}

  static async start(dir: string, options: RegistryOptions = {}): Promise<DockerRegistry> {
    const port = await freePort();
    const lines = ['version: 0.1', 'log: {level: warn}', 'storage: {inmemory: {}}', 'http:', `  addr: 127.0.0.1:${port}`];
    if (options.tls) lines.push('  tls:', `    certificate: ${options.tls.cert}`, `    key: ${options.tls.key}`);
    if (options.htpasswd) {
      const file = path.join(dir, 'htpasswd');
      const salt = randomBytes(16).toString('base64').replace(/[^A-Za-z0-9]/g, '.').slice(0, 22);
      const hash = await runOk('perl', ['-e', 'print crypt($ARGV[0], $ARGV[1])', options.htpasswd.password, `$2b$10$${salt}`]);
      if (!hash.startsWith('$2b$')) throw new Error(`this libc cannot make bcrypt hashes: ${hash}`);
      writeFileSync(file, `${options.htpasswd.username}:${hash}\n`);
      lines.push('auth:', '  htpasswd:', '    realm: trustgate-test', `    path: ${file}`);
    }
    if (options.token) {
      const t = options.token;
      lines.push('auth:', '  token:', `    realm: ${t.realm}`, `    service: ${t.service}`, `    issuer: ${t.issuer}`, `    rootcertbundle: ${t.rootCertBundle}`);
    }
    const config = path.join(dir, `registry-${port}.yml`);
    writeFileSync(config, `${lines.join('\n')}\n`);
    const daemon = startDaemon('docker-registry', ['serve', config], path.join(dir, `registry-${port}.log`));
    await waitForPort(port);
    return new DockerRegistry(`127.0.0.1:${port}`, dir, daemon, options);
  }

  get insecure(): boolean {
    return this.options.tls === undefined;
  }

  /** A small image built by hand, pushed with skopeo as OCI or as Docker schema 2. */
  async pushImage(repository: string, tag: string, content: string, options: { format?: 'oci' | 'v2s2'; creds?: string } = {}): Promise<PushedManifest> {
    const layout = writeOciLayout(mkdtempSync(path.join(this.dir, 'oci-')), content);
    const dest = `docker://${this.host}/${repository}:${tag}`;
    const creds = options.creds ? ['--dest-creds', options.creds] : [];
    await runOk('skopeo', ['--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false', ...creds, ...(options.format ? ['--format', options.format] : []), `oci:${layout.dir}:latest`, dest]);
    const raw = await runOk('skopeo', ['--insecure-policy', 'inspect', '--raw', '--tls-verify=false', ...(options.creds ? ['--creds', options.creds] : []), dest]);
    // skopeo prints the manifest with a newline of its own after it.
    const bytes = Buffer.from(raw.endsWith('}\n') ? raw.slice(0, -1) : raw);
    const mediaType = (JSON.parse(raw) as { mediaType?: string }).mediaType ?? 'application/vnd.oci.image.manifest.v1+json';
    return { digest: sha256(bytes), size: bytes.length, mediaType, bytes };
  }

  /** Pushes a blob (POST then PUT, distribution-spec "Pushing a blob monolithically"); plain HTTP registries only. */
  async pushBlob(repository: string, bytes: Buffer): Promise<{ digest: string; size: number }> {
    const digest = sha256(bytes);
    const start = await fetch(`${this.base()}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    if (start.status !== 202) throw new Error(`blob upload start: HTTP ${start.status}`);
    const location = new URL(start.headers.get('location') ?? '', this.base());
    location.searchParams.set('digest', digest);
    const put = await fetch(location, { method: 'PUT', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    if (put.status !== 201) throw new Error(`blob upload: HTTP ${put.status} ${await put.text()}`);
    return { digest, size: bytes.length };
  }

  /** Pushes a manifest or index under a tag or its digest; plain HTTP registries only. */
  async pushManifest(repository: string, reference: string | undefined, mediaType: string, doc: unknown): Promise<PushedManifest> {
    const bytes = Buffer.from(JSON.stringify(doc));
    const digest = sha256(bytes);
    const res = await fetch(`${this.base()}/v2/${repository}/manifests/${reference ?? digest}`, { method: 'PUT', body: bytes, headers: { 'content-type': mediaType } });
    if (res.status !== 201) throw new Error(`manifest push: HTTP ${res.status} ${await res.text()}`);
    return { digest, size: bytes.length, mediaType, bytes };
  }

  /** The registry's own log, for a failing test's message. */
  log(): string {
    return readFileSync(path.join(this.dir, `registry-${this.host.split(':')[1]!}.log`), 'utf8');
  }

  stop(): Promise<void> {
    return stopDaemon(this.daemon);
  }

  private base(): string {
    if (!this.insecure) throw new Error('pushBlob and pushManifest speak plain HTTP only');
    return `http://${this.host}`;
  }
}

export function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
