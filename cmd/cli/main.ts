import type { CosignEnvironment } from './cosign.js';
import { describeFailure, ExitCode, UsageError } from './errors.js';
import type { Output } from './output.js';
import { SERVE_USAGE } from './serve-usage.js';
import type { Environment } from './environment.js';

const USAGE = `Usage: trustgate COMMAND [options]

Commands:
  verify IMAGE    resolve an image to the digest its publisher signed, or refuse
                  (--kind notary, the default, or --kind cosign)
  inspect IMAGE   show a repository's signed tags, signers and keys (--kind cosign: its
                  cosign signatures)
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

type CosignCommand = 'runCosignVerify' | 'runCosignInspect';

type NotaryCommand = (argv: string[], env: MainEnvironment, out: Output) => Promise<number>;

/**
 * `--kind notary` (the default) or `--kind cosign`. Each kind's commands are loaded only when
 * asked for: Notary's verify and inspect do not pay for cosign's modules (and sigstore-js
 * behind them), nor cosign's for Notary's (bench/cosign-cli-vs-cosign.ts measures it).
 */
function byKind(notary: () => Promise<NotaryCommand>, cosign: CosignCommand) {
  return async (argv: string[], env: MainEnvironment, out: Output): Promise<number> => {
    const kind = kindOf(argv);
    if (kind === 'cosign') return (await import('./cosign.js'))[cosign](argv, { registryClient: undefined, ...env }, out);
    if (kind !== 'notary') throw new UsageError(`--kind must be notary or cosign, not "${kind}"`);
    return (await notary())(argv.filter((a, i) => a !== '--kind=notary' && !(a === '--kind' || argv[i - 1] === '--kind')), env, out);
  };
}

const COMMANDS: Record<string, (argv: string[], env: MainEnvironment, out: Output) => Promise<number>> = {
  verify: byKind(async () => (await import('./verify.js')).runVerify, 'runCosignVerify'),
  inspect: byKind(async () => (await import('./inspect.js')).runInspect, 'runCosignInspect'),
  // The webhook's module graph is large; the CLI's commands should not pay for it.
  serve: async (argv, env, out) => (await import('./serve.js')).runServe(argv, env, out),
  check: async (argv, env, out) => (await import('./check.js')).runCheck(argv, env, out),
  pin: async (argv, env, out) => (await import('./pin.js')).runPin(argv, env, out),
};

/** What main is given: the process's environment, and the registry client of --kind cosign. */
export type MainEnvironment = Environment & Partial<Pick<CosignEnvironment, 'registryClient'>>;

export async function main(argv: string[], environment: MainEnvironment, out: Output): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    const [{ VERIFY_USAGE }, { COSIGN_VERIFY_USAGE }, { INSPECT_USAGE }] = await Promise.all([import('./verify.js'), import('./cosign.js'), import('./inspect.js')]);
    out.stdout(`${USAGE}\n\n${VERIFY_USAGE}\n\n${COSIGN_VERIFY_USAGE}\n\n${INSPECT_USAGE}\n\n${SERVE_USAGE}`);
    return command === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  const run = COMMANDS[command];
  try {
    if (!run) throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
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

