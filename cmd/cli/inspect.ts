import { parseArgs } from 'node:util';
import { inspectRepository, TrustClient, type RepositoryReport } from '../../src/trust/index.js';
import { ExitCode, UsageError } from './errors.js';
import type { Output } from './output.js';
import { readTrustSettings, TRUST_OPTIONS, type Environment } from './trust-options.js';

export const INSPECT_USAGE = `Usage: trustgate inspect IMAGE [options]

Shows a repository's verified trust data, like "docker trust inspect": signed tags with their
digests and signer roles, delegations with canonical key IDs, root and repository key IDs.
Takes the same --trust-server, --ca-file, --root-key, --docker-config, --username,
--password-stdin, --timeout and --output options as verify.`;

export async function runInspect(argv: string[], environment: Environment, out: Output): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: TRUST_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) {
    out.stdout(INSPECT_USAGE);
    return ExitCode.OK;
  }
  if (positionals.length > 1) throw new UsageError(`inspect takes one IMAGE, got ${positionals.length}`);
  const settings = await readTrustSettings(positionals[0], values, environment);
  out.format = settings.output;
  const client = new TrustClient();
  try {
    const repo = await client.loadRepository({
      server: settings.server,
      gun: settings.ref.name,
      pins: settings.pins,
      roles: { all: true },
      caBundle: settings.caBundle,
      credentials: settings.credentials,
      timeoutMs: settings.timeoutMs,
    });
    const report = inspectRepository(repo);
    out.stdout(settings.output === 'json' ? JSON.stringify(report, null, 2) : toText(report));
    return ExitCode.OK;
  } finally {
    client.close();
  }
}

function toText(r: RepositoryReport): string {
  const lines = [`Signatures for ${r.name}`, ''];
  lines.push(table(['SIGNED TAG', 'DIGEST', 'SIGNERS'], r.signedTags.map((t) => [t.tag, t.digest.replace(/^sha256:/, ''), t.signers.join(', ')])));
  lines.push('', `List of delegations for ${r.name}`, '');
  lines.push(
    r.delegations.length === 0
      ? 'No delegations.'
      : table(['ROLE', 'THRESHOLD', 'PATHS', 'KEY IDS'], r.delegations.map((d) => [d.role, String(d.threshold), d.paths.map((p) => p || '""').join(','), d.keyIds.join(', ')])),
  );
  lines.push('', `Administrative keys for ${r.name}`, '');
  lines.push(`  Root Key:       ${r.rootKeyIds.join(', ')}`, `  Repository Key: ${r.repositoryKeyIds.join(', ')}`);
  if (r.trustOnFirstUse) lines.push('', 'Root trusted on first use: no root key pinned (--root-key).');
  return lines.join('\n');
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('   ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
