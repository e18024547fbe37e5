// The two real registries the cosign tests use, on free loopback ports, plain HTTP or TLS:
// - Debian's docker-registry (distribution 2.8, in memory): no referrers API, so cosign writes
//   the referrers tag schema (an index tagged sha256-<hex>) there;
// - test/tools/referrers-registry: go-containerregistry's registry with the OCI 1.1 referrers API.
// Plus raw requests for what a test checks on the wire (headers, referrers lists) and pushes of
// images (skopeo) and recorded manifests and blobs (the distribution spec's monolithic upload).
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { writeOciLayout } from './oci.js';
import { freePort, runOk, startDaemon, stopDaemon, waitForPort } from './processes.js';
import { testTools } from './test-tools.js';
import type { TokenAuth } from './stack.js';
import type { TlsFiles } from './tls.js';

export type RegistryKind = 'docker-registry' | 'referrers-registry';

export interface RegistryServer {
  readonly kind: RegistryKind;
  /** `127.0.0.1:<port>`, as image references name it. */
  readonly host: string;
  /** `http://…` or `https://…`. */
  readonly url: string;
  /** The server certificate's CA when it serves TLS. */
  readonly caCert?: string;
  readonly log: string;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  /** Serve HTTPS with this server certificate (test/support/tls.ts). */
  readonly tls?: TlsFiles;
}

export interface DockerRegistryOptions extends RegistryOptions {
  /** docker/distribution token auth (test/support/token-server.ts issues the tokens). */
  readonly tokenAuth?: TokenAuth;
  /** Basic auth for one htpasswd user (bcrypt, as the registry requires, made by libxcrypt through perl). */
  readonly htpasswd?: { readonly username: string; readonly password: string };
}

export interface ReferrersRegistryOptions extends RegistryOptions {
  /** Descriptors per referrers response; the rest behind `Link: <…>; rel="next"`. */
  readonly pageSize?: number;
  readonly maxManifestBytes?: number;
  /** go-containerregistry's answers unchanged (no OCI-Subject, artifactType from the config). */
  readonly upstream?: boolean;
}

function server(kind: RegistryKind, port: number, daemon: ChildProcess, log: string, tls: TlsFiles | undefined): RegistryServer {
  const host = `127.0.0.1:${port}`;
  return {
    kind,
    host,
    url: `${tls ? 'https' : 'http'}://${host}`,
    ...(tls && { caCert: tls.caCert }),
    log,
    stop: () => stopDaemon(daemon),
  };
}

/** Debian's docker-registry, storage in memory. */
export async function startDockerRegistry(dir: string, options: DockerRegistryOptions = {}): Promise<RegistryServer> {
  const port = await freePort();
  const tls = options.tls ? `, tls: {certificate: ${options.tls.cert}, key: ${options.tls.key}}` : '';
  let auth = options.tokenAuth
    ? `auth: {token: {realm: "${options.tokenAuth.realm}", service: ${options.tokenAuth.service}, issuer: ${options.tokenAuth.issuer}, rootcertbundle: ${options.tokenAuth.rootCertBundle}}}\n`
    : '';
  if (options.htpasswd) {
    const file = path.join(dir, `htpasswd-${port}`);
    const salt = randomBytes(16).toString('base64').replace(/[^A-Za-z0-9]/g, '.').slice(0, 22);
    const hash = await runOk('perl', ['-e', 'print crypt($ARGV[0], $ARGV[1])', options.htpasswd.password, `$2b$10$${salt}`]);
    if (!hash.startsWith('$2b$')) throw new Error(`this libc's crypt() makes no bcrypt hashes: ${hash}`);
    writeFileSync(file, `${options.htpasswd.username}:${hash}\n`);
    auth = `auth: {htpasswd: {realm: trustgate-test, path: ${file}}}\n`;
  }
  const config = path.join(dir, `docker-registry-${port}.yml`);
  writeFileSync(config, `version: 0.1\nlog: {level: warn}\nstorage: {inmemory: {}}\nhttp: {addr: 127.0.0.1:${port}${tls}}\n${auth}`);
  const log = path.join(dir, `docker-registry-${port}.log`);
  const daemon = startDaemon('docker-registry', ['serve', config], log);
  await waitForPort(port);
  return server('docker-registry', port, daemon, log, options.tls);
}

/** test/tools/referrers-registry (built by scripts/build-test-tools.sh). */
export async function startReferrersRegistry(dir: string, options: ReferrersRegistryOptions = {}): Promise<RegistryServer> {
  const port = await freePort();
  const args = ['-addr', `127.0.0.1:${port}`];
  if (options.tls) args.push('-tls-cert', options.tls.cert, '-tls-key', options.tls.key);
  if (options.pageSize !== undefined) args.push('-referrers-page-size', String(options.pageSize));
  if (options.maxManifestBytes !== undefined) args.push('-max-manifest-bytes', String(options.maxManifestBytes));
  if (options.upstream) args.push('-upstream-referrers');
  const log = path.join(dir, `referrers-registry-${port}.log`);
  const daemon = startDaemon(testTools().referrersRegistry, args, log);
  await waitForPort(port);
  return server('referrers-registry', port, daemon, log, options.tls);
}

export interface RegistryResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** One request as a client sends it, for checks on status, headers and body. */
export function registryRequest(
  registry: RegistryServer,
  pathAndQuery: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer } = {},
): Promise<RegistryResponse> {
  const url = new URL(pathAndQuery, registry.url);
  const send = url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = send(url, {
      method: options.method ?? 'GET',
      headers: { ...options.headers, ...(options.body && { 'Content-Length': String(options.body.length) }) },
      ...(registry.caCert && { ca: readFileSync(registry.caCert) }),
      timeout: 30_000,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${url.href}: no answer in 30 s`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

export function sha256Digest(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A blob by monolithic upload (POST, then PUT ?digest=); returns its digest. */
export async function pushBlob(registry: RegistryServer, repository: string, bytes: Buffer): Promise<string> {
  const digest = sha256Digest(bytes);
  const start = await registryRequest(registry, `/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  const location = start.headers.location;
  if (start.status !== 202 || !location) throw new Error(`blob upload to ${registry.host}/${repository}: ${start.status} ${start.body.toString()}`);
  const target = new URL(location, registry.url);
  target.searchParams.set('digest', digest);
  const put = await registryRequest(registry, target.pathname + target.search, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: bytes,
  });
  if (put.status !== 201) throw new Error(`blob PUT to ${registry.host}/${repository}: ${put.status} ${put.body.toString()}`);
  return digest;
}

/** PUTs a manifest by tag or digest; returns the response (its headers matter to some tests). */
export async function putManifest(registry: RegistryServer, repository: string, reference: string, manifest: Buffer, mediaType: string): Promise<RegistryResponse> {
  const res = await registryRequest(registry, `/v2/${repository}/manifests/${reference}`, {
    method: 'PUT',
    headers: { 'Content-Type': mediaType },
    body: manifest,
  });
  if (res.status !== 201) throw new Error(`manifest PUT ${registry.host}/${repository}:${reference}: ${res.status} ${res.body.toString()}`);
  return res;
}

export interface FetchedManifest {
  readonly status: number;
  readonly digest: string;
  readonly mediaType: string;
  readonly bytes: Buffer;
  readonly json: any;
}

const ACCEPT_MANIFESTS = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

/** GET a manifest by tag or digest; status 404 when it is not there. */
export async function getManifest(registry: RegistryServer, repository: string, reference: string): Promise<FetchedManifest> {
  const res = await registryRequest(registry, `/v2/${repository}/manifests/${reference}`, { headers: { Accept: ACCEPT_MANIFESTS } });
  const ok = res.status === 200;
  return {
    status: res.status,
    digest: ok ? sha256Digest(res.body) : '',
    mediaType: String(res.headers['content-type'] ?? ''),
    bytes: res.body,
    json: ok ? JSON.parse(res.body.toString()) : undefined,
  };
}

export interface PushedImage {
  /** `host/repository@sha256:…`: what cosign signs and verifies. */
  readonly ref: string;
  /** `host/repository:tag`. */
  readonly tagged: string;
  readonly repository: string;
  readonly digest: string;
}

/**
 * A small image built by hand (test/support/oci.ts), pushed by skopeo (which compresses the
 * layer, so the digest is the one the registry then serves, not the layout's).
 */
export async function pushImage(
  registry: RegistryServer,
  repository: string,
  tag: string,
  content: string,
  workDir: string,
  options: { creds?: { username: string; password: string } } = {},
): Promise<PushedImage> {
  const layout = writeOciLayout(mkdtempSync(path.join(workDir, 'oci-')), content);
  const tls = ['--tls-verify=false'];
  if (registry.caCert) {
    // skopeo takes a directory of CA certificates (containers-certs.d): only the CA goes there.
    const certDir = mkdtempSync(path.join(workDir, 'certs-'));
    copyFileSync(registry.caCert, path.join(certDir, 'ca.crt'));
    tls.splice(0, 1, `--cert-dir=${certDir}`);
  }
  const creds = options.creds ? [`--creds=${options.creds.username}:${options.creds.password}`] : [];
  const dest = (flags: string[]) => flags.map((f) => f.replace(/^--/, '--dest-'));
  const tagged = `${registry.host}/${repository}:${tag}`;
  await runOk('skopeo', ['--insecure-policy', 'copy', '--quiet', ...dest(tls), ...dest(creds), `oci:${layout.dir}:latest`, `docker://${tagged}`]);
  let digest: string;
  if (options.creds) {
    // skopeo prints the raw manifest and a newline of its own.
    const raw = await runOk('skopeo', ['inspect', '--raw', ...tls, ...creds, `docker://${tagged}`]);
    digest = sha256Digest(Buffer.from(raw.replace(/\n$/, '')));
  } else {
    const served = await getManifest(registry, repository, tag);
    if (served.status !== 200) throw new Error(`${tagged} is not there after the push (${served.status})`);
    digest = served.digest;
  }
  return { ref: `${registry.host}/${repository}@${digest}`, tagged, repository, digest };
}
