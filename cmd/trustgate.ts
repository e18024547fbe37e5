#!/usr/bin/env node
// The `trustgate` command. Everything it reads from the process (argv, environment, stdin) is
// handed to main() here; nothing below cmd/ touches process.env.
import { enableCliCompileCache } from './compile-cache.js';

// Before the CLI's modules load (hence the dynamic imports): they are what the cache holds.
enableCliCompileCache(process.env);

const [{ describeFailure, ExitCode }, { main }, { processOutput }] = await Promise.all([
  import('./cli/errors.js'),
  import('./cli/main.js'),
  import('./cli/output.js'),
]);

/**
 * Stdin is read up to a bound: past it reading stops, and the command sees more than its own
 * limit (manifests: 16 MiB) and refuses, instead of the process holding whatever is piped in.
 */
const MAX_STDIN_BYTES = 16 * 1024 * 1024 + 1;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    bytes += (chunk as Buffer).length;
    if (bytes >= MAX_STDIN_BYTES) {
      process.stdin.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

// The OCI registry client, for --kind cosign only (its module loads when a cosign command runs).
let registry: { close(): void } | undefined;
async function registryClient() {
  const client = new (await import('../src/registry/oci/index.js')).OciRegistryClient();
  registry = client;
  return client;
}

main(process.argv.slice(2), { env: process.env, readStdin, registryClient }, processOutput()).then(
  (code) => {
    registry?.close();
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`trustgate: ${describeFailure(error).message}\n`);
    process.exitCode = ExitCode.REFUSED;
  },
);
