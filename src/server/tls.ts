// Certificate and key files re-read when they change on disk (cert-manager renewals, Secret
// updates), without a restart: the server's secure context is replaced in place.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type https from 'node:https';

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly fingerprint: string;
}

export function readTls(certFile: string, keyFile: string): TlsMaterial {
  const cert = readFileSync(certFile);
  const key = readFileSync(keyFile);
  return { cert, key, fingerprint: createHash('sha256').update(cert).update(key).digest('hex') };
}

export class TlsReloader {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly certFile: string,
    private readonly keyFile: string,
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
      next = readTls(this.certFile, this.keyFile);
    } catch (error) {
      this.onReload(false, error);
      return;
    }
    if (next.fingerprint === this.current.fingerprint) return;
    try {
      // Throws on a key that does not match the certificate: keep serving the old pair then.
      server.setSecureContext({ cert: next.cert, key: next.key, minVersion: 'TLSv1.2' });
      this.current = next;
      this.onReload(true);
    } catch (error) {
      this.onReload(false, error);
    }
  }
}
