// The prototype of issue 10's V8 start-up snapshot (measured, not adopted: bench/RESULTS.md,
// "A start-up snapshot of the CLI"). build.sh bundles this file into one CommonJS script and
// runs `node --build-snapshot` on it: the CLI's modules for `--kind cosign` are evaluated during
// the build, a keyed verification of two recorded fixtures (test/fixtures/cosign/keyed) runs so
// that its functions are compiled (Node keeps compiled code: SnapshotCreator kKeep), and the
// process that later starts from the blob runs only `run`.
//
// What a snapshot cannot hold, found here: `node:http` (its HTTPParser binding aborts the build,
// hence src/registry loads it at the first request), any import() (it throws "Not supported"
// in the builder: everything is imported statically), and a FinalizationRegistry with a pending
// cleanup — AbortSignal.timeout and AbortSignal.any register theirs, and V8 aborts the build
// (dirty_js_finalization_registries_list) when such a signal has died; the warm-up replaces them.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import '../../cmd/cli/cosign.js';
import { describeFailure, ExitCode } from '../../cmd/cli/errors.js';
import { main, type MainEnvironment } from '../../cmd/cli/main.js';
import { processOutput, type Output } from '../../cmd/cli/output.js';
import { OciRegistryClient } from '../../src/registry/oci/index.js';
import type { Descriptor, FetchedManifest, RegistryClient } from '../../src/registry/oci/types.js';
import '../../src/trust/cosign/inspect.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** cmd/trustgate.ts without the compile cache. process.argv[1] is this bundle, as for `node FILE`. */
function run(): void {
  if (process.env.SNAPSHOT_CPU_MARKS) {
    // CPU spent before the first line of the CLI runs (Node's start and the deserialisation).
    const start = process.cpuUsage();
    process.on('exit', () => process.stderr.write(`cpu-at-main-us ${start.user + start.system}\n`));
  }
  let registry: { close(): void } | undefined;
  const registryClient = () => {
    const client = new OciRegistryClient();
    registry = client;
    return Promise.resolve(client);
  };
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
}

interface KeyedFixture {
  registry: string;
  repository: string;
  publicKey: string;
  registryContents: { tags: Record<string, string>; manifests: Record<string, { mediaType: string; bytes: string }>; blobs: Record<string, string> };
}

/** The recorded registry's bytes, served as docker-registry served them (referrers: the tag schema). */
function recordedRegistry(contents: KeyedFixture['registryContents']): RegistryClient {
  const manifestBytes = (digest: string) => {
    const m = contents.manifests[digest];
    return m && { digest, mediaType: m.mediaType, bytes: Buffer.from(m.bytes, 'base64') };
  };
  return {
    resolveTag: (_conn, _repository, tag) => Promise.resolve(contents.tags[tag]),
    manifest: (_conn, _repository, ref): Promise<FetchedManifest | undefined> => {
      const digest = ref.startsWith('sha256:') ? ref : contents.tags[ref];
      return Promise.resolve(digest === undefined ? undefined : manifestBytes(digest));
    },
    blob: (_conn, _repository, digest) => Promise.resolve(Buffer.from(contents.blobs[digest] ?? '', 'base64')),
    referrers: (_conn, _repository, digest, artifactType): Promise<readonly Descriptor[]> => {
      const index = contents.tags[digest.replace(':', '-')];
      const bytes = index === undefined ? undefined : manifestBytes(index)?.bytes;
      const manifests = bytes ? (JSON.parse(bytes.toString('utf8')) as { manifests: Descriptor[] }).manifests : [];
      return Promise.resolve(manifests.filter((d) => d.artifactType === artifactType));
    },
  };
}

async function warmUp(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-snapshot-'));
  try {
    const key = path.join(dir, 'cosign.pub');
    for (const format of ['legacy', 'bundle']) {
      const f = JSON.parse(readFileSync(`test/fixtures/cosign/keyed/ecdsa-p256-${format}.json`, 'utf8')) as KeyedFixture;
      writeFileSync(key, f.publicKey);
      const client = recordedRegistry(f.registryContents);
      const environment: MainEnvironment = { env: { DOCKER_CONFIG: dir }, readStdin, registryClient: () => Promise.resolve(client) };
      for (const output of ['text', 'json']) {
        const out: Output = { format: 'text', stdout: () => undefined, stderr: (text) => process.stderr.write(`${text}\n`) };
        const args = ['verify', `${f.registry}/${f.repository}:1.0`, '--kind', 'cosign', '--key', key, '--insecure-ignore-tlog', '--insecure-registry', '--output', output];
        const code = await main(args, environment, out);
        if (code !== ExitCode.OK) throw new Error(`warm-up verification of ${format} exited ${code}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function warm(): Promise<void> {
  const saved = Object.getOwnPropertyDescriptors(AbortSignal);
  AbortSignal.timeout = () => new AbortController().signal;
  AbortSignal.any = (signals) => signals[0] ?? new AbortController().signal;
  try {
    await warmUp();
  } finally {
    Object.defineProperties(AbortSignal, { timeout: saved.timeout, any: saved.any });
  }
}

if (!v8.startupSnapshot.isBuildingSnapshot()) run();
else if (process.env.SNAPSHOT_NO_WARM_UP) v8.startupSnapshot.setDeserializeMainFunction(run);
else {
  warm().then(
    () => v8.startupSnapshot.setDeserializeMainFunction(run),
    (error: unknown) => {
      process.stderr.write(`snapshot warm-up failed: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
