// `trustgate check` and `pin` in-process, with a scripted verifier in place of the real ones.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ImageVerifier } from '../../src/admission/index.js';
import { main } from '../../cmd/cli/main.js';
import type { Output } from '../../cmd/cli/output.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the CLI with `verifier` (none: the real verifiers), `stdin` and environment variables:
 * by default none but DOCKER_CONFIG, pointed nowhere so the machine's ~/.docker/config.json
 * (and any credential helper it names) plays no part.
 */
export async function runCli(args: string[], options: { verifier?: ImageVerifier; stdin?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const lines = { stdout: [] as string[], stderr: [] as string[] };
  const out: Output = { format: 'text', stdout: (t) => lines.stdout.push(t), stderr: (t) => lines.stderr.push(t) };
  const environment = { env: { DOCKER_CONFIG: '/nonexistent', ...options.env }, readStdin: () => Promise.resolve(options.stdin ?? ''), ...(options.verifier && { verifier: options.verifier }) };
  const code = await main(args, environment, out);
  return { code, stdout: lines.stdout.join('\n'), stderr: lines.stderr.join('\n') };
}

/** A directory of files, by relative name. */
export function tempFiles(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-check-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

/** A ClusterImagePolicy file verifying `images` on first use (the scripted verifier answers). */
export function policyFile(dir: string, images: string[], extra = ''): string {
  const file = path.join(dir, 'policies.yaml');
  writeFileSync(
    file,
    `apiVersion: trustgate.dev/v1alpha1
kind: ClusterImagePolicy
metadata:
  name: signed
spec:
  images: ${JSON.stringify(images)}
  trust:
    trustOnFirstUse: true
${extra}`,
  );
  return file;
}

/** `dir/name/config.json` holding `config` (text as it is, anything else as JSON): a docker config directory. */
export function dockerConfigDir(dir: string, name: string, config: unknown): string {
  const d = path.join(dir, name);
  mkdirSync(d);
  writeFileSync(path.join(d, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return d;
}
