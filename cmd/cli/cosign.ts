// `trustgate verify|inspect IMAGE --kind cosign`: the cosign authority of a policy, from flags
// named as cosign names them (cmd/cosign/cli/options/verify.go, certificate.go).
import { parseArgs } from 'node:util';
import { printable, type ImageReference } from '../../src/reference/index.js';
import type { RegistryClient, RegistryConnection } from '../../src/registry/oci/types.js';
import type { CosignReport } from '../../src/trust/cosign/inspect.js';
import { parseCosignAuthority, type CosignSpec } from '../../src/trust/cosign/spec.js';
import { CosignVerifier } from '../../src/trust/cosign/verifier.js';
import type { Verified } from '../../src/trust/kind.js';
import { ExitCode, UsageError } from './errors.js';
import type { Output } from './output.js';
import { readText } from './environment.js';
import { openRegistry, readCommand, readRegistry, REGISTRY_OPTIONS, type RegistryEnvironment } from './common-options.js';

/** What the CLI needs besides argv (common-options.ts): the registry client among it. */
export type CosignEnvironment = RegistryEnvironment;

export const COSIGN_VERIFY_USAGE = `Usage: trustgate verify IMAGE --kind cosign (--key PUB.pem | --certificate-identity[-regexp] ID --certificate-oidc-issuer[-regexp] URL) [options]

Resolves IMAGE to the digest its tag names now and checks its cosign signatures (legacy .sig
tags and v3 bundle referrers), or refuses.

  --key FILE                         cosign.pub (PEM); repeatable: a signature by any counts
  --certificate-identity ID          keyless: the certificate's SAN (email or URI), exactly
  --certificate-identity-regexp RE   … or a pattern matching the WHOLE SAN (RE2 syntax)
  --certificate-oidc-issuer URL      keyless: the OIDC issuer, exactly
  --certificate-oidc-issuer-regexp RE  … or a pattern matching the whole issuer
  --trusted-root FILE                trusted_root.json: Fulcio CAs and log keys (default:
                                     Sigstore's public-good root)
  --insecure-ignore-tlog             keys only: accept signatures without a transparency-log entry
  --registry-ca-file PEM             CA bundle for the registry's TLS
  --insecure-registry                plain HTTP to the registry
  --docker-config DIR|FILE, --username U --password-stdin, --timeout SECONDS, --output text|json

Exit status: 0 verified, 1 refused, 2 usage error.`;

const COSIGN_OPTIONS = {
  ...REGISTRY_OPTIONS,
  key: { type: 'string', multiple: true },
  'certificate-identity': { type: 'string' },
  'certificate-identity-regexp': { type: 'string' },
  'certificate-oidc-issuer': { type: 'string' },
  'certificate-oidc-issuer-regexp': { type: 'string' },
  'trusted-root': { type: 'string' },
  'insecure-ignore-tlog': { type: 'boolean' },
} as const;

interface Settings {
  readonly ref: ImageReference;
  readonly spec: CosignSpec;
  readonly conn: RegistryConnection;
  readonly output: 'text' | 'json';
  readonly client: RegistryClient;
}

async function readSettings(argv: string[], environment: CosignEnvironment, out: Output, needsTrust: boolean): Promise<Settings | undefined> {
  const { values, positionals } = parseArgs({ args: argv, options: COSIGN_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) {
    out.stdout(COSIGN_VERIFY_USAGE);
    return undefined;
  }
  const { ref, output, timeoutMs } = readCommand(positionals, values, out);
  const registry = readRegistry(values);
  const spec = needsTrust ? readSpec(values, registry.caBundle, registry.insecure) : readSpec({ key: undefined, 'certificate-identity': 'inspect', 'certificate-oidc-issuer': 'inspect' }, registry.caBundle, registry.insecure);
  const { client, conn } = await openRegistry(ref, registry, values, timeoutMs, environment);
  return { ref, spec, conn, output, client };
}

type Flags = Partial<Record<'certificate-identity' | 'certificate-identity-regexp' | 'certificate-oidc-issuer' | 'certificate-oidc-issuer-regexp' | 'trusted-root', string>> & {
  key?: string[] | undefined;
  'insecure-ignore-tlog'?: boolean | undefined;
};

function readSpec(values: Flags, caBundle: string | undefined, insecure: boolean): CosignSpec {
  const identity = values['certificate-identity'] ?? values['certificate-identity-regexp'];
  const issuer = values['certificate-oidc-issuer'] ?? values['certificate-oidc-issuer-regexp'];
  const keys = values.key ?? [];
  if (keys.length > 0 && (identity !== undefined || issuer !== undefined)) throw new UsageError('give --key or a certificate identity, not both');
  if (keys.length === 0 && identity === undefined && issuer === undefined) throw new UsageError('give --key PUB.pem, or --certificate-identity and --certificate-oidc-issuer');
  if (keys.length === 0 && (identity === undefined || issuer === undefined)) {
    throw new UsageError(identity === undefined ? '--certificate-oidc-issuer needs --certificate-identity (or -regexp)' : '--certificate-identity needs --certificate-oidc-issuer (or -regexp)');
  }
  if (values['certificate-identity'] !== undefined && values['certificate-identity-regexp'] !== undefined) throw new UsageError('give --certificate-identity or --certificate-identity-regexp, not both');
  if (values['certificate-oidc-issuer'] !== undefined && values['certificate-oidc-issuer-regexp'] !== undefined) throw new UsageError('give --certificate-oidc-issuer or --certificate-oidc-issuer-regexp, not both');
  const authority = {
    ...(keys.length > 0 && { keys: keys.map((k) => readText(k, '--key')) }),
    ...(keys.length === 0 && {
      keyless: {
        identities: [{
          ...(values['certificate-oidc-issuer'] !== undefined ? { issuer: values['certificate-oidc-issuer'] } : { issuerRegExp: values['certificate-oidc-issuer-regexp'] }),
          ...(values['certificate-identity'] !== undefined ? { subject: values['certificate-identity'] } : { subjectRegExp: values['certificate-identity-regexp'] }),
        }],
        ...(values['trusted-root'] !== undefined && { trustedRoot: readText(values['trusted-root'], '--trusted-root') }),
      },
    }),
    // cosign's --trusted-root holds the log keys too: for keys, those a log entry is checked against.
    ...(values['insecure-ignore-tlog'] ? { tlog: { required: false } } : keys.length > 0 && values['trusted-root'] !== undefined ? { tlog: { trustedRoot: readText(values['trusted-root'], '--trusted-root') } } : {}),
    registry: { insecure, ...(caBundle !== undefined && { caBundle }) },
  };
  const parsed = parseCosignAuthority(authority, 'options');
  if ('problems' in parsed) throw new UsageError(parsed.problems.join('; '));
  return parsed.spec;
}

export async function runCosignVerify(argv: string[], environment: CosignEnvironment, out: Output): Promise<number> {
  const s = await readSettings(argv, environment, out, true);
  if (!s) return ExitCode.OK;
  const verified = await new CosignVerifier(s.client).verify(s.ref, s.spec, { credentials: s.conn.credentials, signal: new AbortController().signal, timeoutMs: s.conn.timeoutMs });
  out.stdout(s.output === 'json' ? JSON.stringify({ verified: true, ...verifiedJson(verified) }, null, 2) : verifiedText(verified));
  return ExitCode.OK;
}

export async function runCosignInspect(argv: string[], environment: CosignEnvironment, out: Output): Promise<number> {
  const s = await readSettings(argv, environment, out, false);
  if (!s) return ExitCode.OK;
  const report = await (await import('../../src/trust/cosign/inspect.js')).inspectCosign(s.client, { ...s.conn, signal: AbortSignal.timeout(s.conn.timeoutMs) }, s.ref);
  out.stdout(s.output === 'json' ? JSON.stringify(report, null, 2) : reportText(report));
  return ExitCode.OK;
}

function verifiedJson(v: Verified): Record<string, unknown> {
  return { kind: v.kind, image: v.image, reference: v.reference, digest: v.digest, tag: v.tag ?? null, signatures: v.evidence.kind === 'cosign' ? v.evidence.signatures : [] };
}

export function verifiedText(v: Verified): string {
  const signatures = v.evidence.kind === 'cosign' ? v.evidence.signatures : [];
  return [
    v.reference,
    `  image:      ${v.image}`,
    `  digest:     ${v.digest}`,
    ...signatures.map((s) => {
      // Identities and issuers come from certificates the registry served: escaped (printable).
      const by = s.keyId !== undefined ? `key ${printable(s.keyId, 200)}` : `${printable(s.identity?.subject ?? '?', 512)} (issuer ${printable(s.identity?.issuer ?? '?', 512)})`;
      const log = s.tlog ? `, log index ${s.tlog.logIndex} at ${new Date(s.tlog.integratedTime * 1000).toISOString()}` : ', no log entry checked';
      return `  signed:     ${s.format} ${s.manifestDigest.slice(0, 19)}… by ${by}${log}`;
    }),
  ].join('\n');
}

/** Unverified registry content (subjects, issuers, the payload's digest, problems): every field escaped. */
export function reportText(r: CosignReport): string {
  const p = (text: string): string => printable(text, 512);
  const lines = [`cosign signatures of ${p(r.image)}${r.tag === undefined ? '' : `:${p(r.tag)}`}@${p(r.digest)}`, ''];
  if (r.signatures.length === 0) lines.push('No signatures.');
  for (const s of r.signatures) {
    const by = 'key' in s.signer ? 'a key' : `${p(s.signer.subject ?? '?')} (issuer ${p(s.signer.issuer ?? '?')})`;
    lines.push(`${s.format === 'legacy' ? `.sig layer ${s.layer ?? 0}` : 'bundle'} ${p(s.manifestDigest)}`);
    lines.push(`  signed by:  ${by}`, `  names:      ${s.signedDigest === undefined ? 'nothing readable' : p(s.signedDigest)}${s.signedDigest !== undefined && s.signedDigest !== r.digest ? ' (ANOTHER IMAGE)' : ''}`);
    lines.push(`  log entry:  ${s.tlog ? `index ${p(String(s.tlog.logIndex))} at ${p(String(s.tlog.integratedTime))}` : 'none'}`);
    if (s.problem) lines.push(`  problem:    ${p(s.problem)}`);
  }
  lines.push('', 'Nothing above is verified: trustgate verify IMAGE --kind cosign checks it against keys or identities.');
  return lines.join('\n');
}
