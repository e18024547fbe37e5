// The real notary client, asked first about trust data an AttackServer serves.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from './processes.js';

export interface NotaryListResult {
  readonly code: number;
  readonly out: string;
  /** Reuse it to ask again with what this run cached (trusted root, versions). */
  readonly trustDir: string;
}

export interface NotaryListOptions {
  /** A trust dir from an earlier run; default: a fresh one (first use). */
  readonly trustDir?: string;
  /**
   * notary's `trust_pinning` config section (`certs`: GUN → certificate key IDs; `ca`: GUN prefix
   * → CA bundle file).
   */
  readonly trustPinning?: { readonly certs?: Record<string, string[]>; readonly ca?: Record<string, string>; readonly disable_tofu?: boolean };
}

/** `notary list GUN` against `url`, trusting `caCert` for TLS. */
export async function notaryList(url: string, caCert: string, gun: string, options: NotaryListOptions = {}): Promise<NotaryListResult> {
  const trustDir = options.trustDir ?? mkdtempSync(path.join(os.tmpdir(), 'trustgate-notary-'));
  const config = path.join(trustDir, 'config.json');
  writeFileSync(config, JSON.stringify({ trust_dir: trustDir, remote_server: { url, root_ca: caCert }, ...(options.trustPinning && { trust_pinning: options.trustPinning }) }));
  const r = await run('notary', ['-c', config, 'list', gun], { timeoutMs: 20_000 });
  return { code: r.code, out: r.stdout + r.stderr, trustDir };
}
