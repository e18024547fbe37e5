// Certificate and key files (and the CA of client certificates, when one is required) re-read
// when they change on disk (cert-manager renewals, Secret and ConfigMap updates), without a
// restart: the server's secure context is replaced in place.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type https from 'node:https';

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** CA of the client certificates to ask for; undefined: none asked for. */
  readonly clientCa: Buffer | undefined;
  readonly fingerprint: string;
}

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientCAFile: string | undefined;
}

export function readTls(files: TlsFiles): TlsMaterial {
  const cert = readFileSync(files.certFile);
  const key = readFileSync(files.keyFile);
  const clientCa = files.clientCAFile === undefined ? undefined : readFileSync(files.clientCAFile);
  const hash = createHash('sha256').update(cert).update(key);
  if (clientCa) hash.update(clientCa);
  return { cert, key, clientCa, fingerprint: hash.digest('hex') };
}

/** The secure context of a material: `ca` is what client certificates are verified against. */
export function secureContextOf(tls: TlsMaterial): { cert: Buffer; key: Buffer; ca?: Buffer; minVersion: 'TLSv1.2' } {
  return { cert: tls.cert, key: tls.key, ...(tls.clientCa && { ca: tls.clientCa }), minVersion: 'TLSv1.2' };
}

export class TlsReloader {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly files: TlsFiles,
    private current: TlsMaterial,
    private readonly onReload: (ok: boolean, error?: unknown) => void,
  ) {}

  start(server: https.Server, intervalMs: number): void {
    this.timer = setInterval(() => this.check(server), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  check(server: https.Server): void {
    let next: TlsMaterial;
    try {
      next = readTls(this.files);
    } catch (error) {
      this.onReload(false, error);
      return;
    }
    if (next.fingerprint === this.current.fingerprint) return;
    try {
      // Throws on a key that does not match the certificate: keep serving the old pair then.
      server.setSecureContext(secureContextOf(next));
      this.current = next;
      this.onReload(true);
    } catch (error) {
      this.onReload(false, error);
    }
  }
}
