import { printable } from '../../src/reference/index.js';
import type { RegistryEnvironment } from './common-options.js';
import { describeFailure, ExitCode, UsageError } from './errors.js';
import type { Output } from './output.js';
import { SERVE_USAGE } from './serve-usage.js';
import type { Environment } from './environment.js';

const USAGE = `Usage: trustgate COMMAND [options]

Commands:
  verify IMAGE    resolve an image to the digest its publisher signed, or refuse
                  (--kind notary, the default, --kind cosign or --kind notation)
  inspect IMAGE   show a repository's signed tags, signers and keys (--kind cosign,
                  --kind notation: the image's signatures of that kind)
  serve           run the admission webhook
  check           decide manifests as the webhook would (CI): exit 1 if any would be denied
  pin             rewrite manifests' images to their signed digests, as the webhook pins them

Run "trustgate COMMAND --help" for a command's options.`;

/** The `--kind` of argv (`--kind cosign` or `--kind=cosign`), `notary` when absent. */
function kindOf(argv: readonly string[]): string {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--kind') return argv[i + 1] ?? '';
    if (argv[i]!.startsWith('--kind=')) return argv[i]!.slice('--kind='.length);
  }
  return 'notary';
}

type Command = (argv: string[], env: MainEnvironment, out: Output) => Promise<number>;
type RegistryCommand = (argv: string[], env: RegistryEnvironment, out: Output) => Promise<number>;

/**
 * `--kind notary` (the default), `--kind cosign` or `--kind notation`. Each kind's commands are
 * loaded only when asked for: Notary's verify and inspect do not pay for cosign's modules (and
 * sigstore-js behind them), nor cosign's for Notary's (bench/cosign-cli-vs-cosign.ts measures it).
 */
function byKind(notary: () => Promise<Command>, cosign: () => Promise<RegistryCommand>, notation: () => Promise<RegistryCommand>) {
  return async (argv: string[], env: MainEnvironment, out: Output): Promise<number> => {
    const kind = kindOf(argv);
    if (kind === 'cosign') return (await cosign())(argv, { registryClient: undefined, ...env }, out);
    if (kind === 'notation') return (await notation())(argv, { registryClient: undefined, ...env }, out);
    if (kind !== 'notary') throw new UsageError(`--kind must be notary, cosign or notation, not "${kind}"`);
    return (await notary())(argv.filter((a, i) => a !== '--kind=notary' && !(a === '--kind' || argv[i - 1] === '--kind')), env, out);
  };
}

const COMMANDS: Record<string, (argv: string[], env: MainEnvironment, out: Output) => Promise<number>> = {
  verify: byKind(async () => (await import('./verify.js')).runVerify, async () => (await import('./cosign.js')).runCosignVerify, async () => (await import('./notation.js')).runNotationVerify),
  inspect: byKind(async () => (await import('./inspect.js')).runInspect, async () => (await import('./cosign.js')).runCosignInspect, async () => (await import('./notation.js')).runNotationInspect),
  // The webhook's module graph is large; the CLI's commands should not pay for it.
  serve: async (argv, env, out) => (await import('./serve.js')).runServe(argv, env, out),
  check: async (argv, env, out) => (await import('./check.js')).runCheck(argv, env, out),
  pin: async (argv, env, out) => (await import('./pin.js')).runPin(argv, env, out),
};

/** What main is given: the process's environment, and the registry client of --kind cosign and notation. */
export type MainEnvironment = Environment & Partial<Pick<RegistryEnvironment, 'registryClient'>>;

export async function main(argv: string[], environment: MainEnvironment, out: Output): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    const [{ VERIFY_USAGE }, { COSIGN_VERIFY_USAGE }, { NOTATION_VERIFY_USAGE, NOTATION_INSPECT_USAGE }, { INSPECT_USAGE }] = await Promise.all([import('./verify.js'), import('./cosign.js'), import('./notation.js'), import('./inspect.js')]);
    out.stdout(`${USAGE}\n\n${VERIFY_USAGE}\n\n${COSIGN_VERIFY_USAGE}\n\n${NOTATION_VERIFY_USAGE}\n\n${INSPECT_USAGE}\n\n${NOTATION_INSPECT_USAGE}\n\n${SERVE_USAGE}`);
    return command === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  const run = COMMANDS[command];
  if (!run) {
    // Not through describeFailure, which escapes newlines: the usage text keeps its lines.
    out.stderr(`trustgate: USAGE: unknown command "${printable(command, 100)}"\n\n${USAGE}`);
    return ExitCode.USAGE;
  }
  try {
    return await run(rest, environment, out);
  } catch (error) {
    // node:util parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes for unknown or bad flags.
    const usage = (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS') ? new UsageError((error as Error).message) : error;
    const failure = describeFailure(usage);
    if (out.format === 'json' && failure.exit === ExitCode.REFUSED) {
      out.stdout(JSON.stringify({ verified: false, code: failure.code, message: failure.message }, null, 2));
    }
    out.stderr(`trustgate: ${failure.code}: ${failure.message}`);
    return failure.exit;
  }
}

