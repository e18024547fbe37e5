// `trustgate verify|inspect IMAGE --kind notation`: a Notation authority of a policy from the files
// the notation CLI uses (`notation verify`, notation v1.3): a trustpolicy.json and a trust store
// directory, read as notation-go reads them (notation-files.ts).
import path from 'node:path';
import { parseArgs } from 'node:util';
import { printable } from '../../src/reference/index.js';
import type { Verified } from '../../src/trust/kind.js';
import { notationSpecOf } from '../../src/trust/notation/spec.js';
import type { NotationSpec } from '../../src/trust/notation/types.js';
import { NotationVerifier } from '../../src/trust/notation/verifier.js';
import { openRegistry, readCommand, readRegistry, REGISTRY_OPTIONS, type RegistryEnvironment } from './common-options.js';
import { ExitCode, UsageError } from './errors.js';
import { defaultTrustPolicyFile, notationConfigDir, readTrustPolicyFile, readTrustStoreDirectory, storesNamedBy } from './notation-files.js';
import type { Output } from './output.js';

export const NOTATION_VERIFY_USAGE = `Usage: trustgate verify IMAGE --kind notation [--trust-policy FILE] [--trust-store DIR] [options]

Resolves IMAGE to the digest its tag names now and checks its Notation (Notary Project)
signatures, JWS or COSE, found through the referrers API or the referrers tag schema, against
the trust policy statement whose registryScopes name the image, or refuses.

  --trust-policy FILE     trustpolicy.json (version 1.0), as notation reads it (default, as
                          notation v1.3: trustpolicy.oci.json in notation's config directory,
                          else trustpolicy.json there: $XDG_CONFIG_HOME/notation, or
                          ~/.config/notation; ~/Library/Application Support/notation on macOS)
  --trust-store DIR       the trust store directory holding x509/{ca,signingAuthority,tsa}/<name>/
                          (default: truststore in that config directory). Only the stores the
                          trust policy names are read, every one of them (a store a statement
                          names must exist, even one for other images); each must be a directory,
                          not a symlink, holding only regular files of PEM or DER certificates
  --registry-ca-file PEM  CA bundle for the registry's TLS
  --insecure-registry     plain HTTP to the registry
  --docker-config DIR|FILE, --username U --password-stdin, --timeout SECONDS, --output text|json

Exit status: 0 verified, 1 refused, 2 usage error.`;

export const NOTATION_INSPECT_USAGE = `Usage: trustgate inspect IMAGE --kind notation [options]

Lists the Notation signatures of IMAGE (its tag resolved now), each with its envelope, signing
scheme, signer, signing time and expiry, without verifying them. Takes --registry-ca-file,
--insecure-registry, --docker-config, --username, --password-stdin, --timeout and --output.`;

const NOTATION_OPTIONS = {
  ...REGISTRY_OPTIONS,
  'trust-policy': { type: 'string' },
  'trust-store': { type: 'string' },
} as const;

/** The Notation authority of --trust-policy and --trust-store (or notation's defaults). */
export function readNotationSpec(
  flags: { 'trust-policy'?: string | undefined; 'trust-store'?: string | undefined },
  registry: { insecure: boolean; caBundle: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
): NotationSpec {
  const configDir = notationConfigDir(env);
  const policyFile = flags['trust-policy'] ?? defaultTrustPolicyFile(configDir);
  const storeDir = flags['trust-store'] ?? path.join(configDir, 'truststore');
  const trustPolicy = readTrustPolicyFile(policyFile);
  const stores = readTrustStoreDirectory(storeDir, storesNamedBy(trustPolicy));
  const compiled = notationSpecOf(trustPolicy, stores, registry);
  if ('problems' in compiled) throw new UsageError(`${policyFile}: ${compiled.problems.join('; ')}`);
  return compiled.spec;
}

export async function runNotationVerify(argv: string[], environment: RegistryEnvironment, out: Output): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: NOTATION_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) {
    out.stdout(NOTATION_VERIFY_USAGE);
    return ExitCode.OK;
  }
  const { ref, output, timeoutMs } = readCommand(positionals, values, out);
  const registry = readRegistry(values);
  const spec = readNotationSpec(values, registry, environment.env);
  const { client, conn } = await openRegistry(ref, registry, values, timeoutMs, environment);
  const verified = await new NotationVerifier(client).verify(ref, spec, { credentials: conn.credentials, signal: new AbortController().signal, timeoutMs });
  out.stdout(output === 'json' ? JSON.stringify({ verified: true, ...verifiedJson(verified) }, null, 2) : verifiedText(verified));
  return ExitCode.OK;
}

export async function runNotationInspect(argv: string[], environment: RegistryEnvironment, out: Output): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: REGISTRY_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) {
    out.stdout(NOTATION_INSPECT_USAGE);
    return ExitCode.OK;
  }
  const { ref, output, timeoutMs } = readCommand(positionals, values, out);
  const { client, conn } = await openRegistry(ref, readRegistry(values), values, timeoutMs, environment);
  const { inspectNotation, formatNotationReport } = await import('../../src/trust/notation/inspect.js');
  const report = await inspectNotation(client, { ...conn, signal: AbortSignal.timeout(timeoutMs) }, ref);
  out.stdout(output === 'json' ? JSON.stringify(report, null, 2) : formatNotationReport(report));
  return ExitCode.OK;
}

/** The same keys as cosign's (kind, image, reference, digest, tag, signatures), then Notation's own. */
export function verifiedJson(v: Verified): Record<string, unknown> {
  const e = v.evidence.kind === 'notation' ? v.evidence : undefined;
  return {
    kind: v.kind,
    image: v.image,
    reference: v.reference,
    digest: v.digest,
    tag: v.tag ?? null,
    signatures: e?.signatures ?? [],
    trustPolicy: e?.trustPolicy ?? null,
    level: e?.level ?? null,
    logged: e?.logged ?? [],
    unchecked: v.unchecked,
  };
}

export function verifiedText(v: Verified): string {
  const e = v.evidence.kind === 'notation' ? v.evidence : undefined;
  const lines = [v.reference, `  image:      ${v.image}`, `  digest:     ${v.digest}`, `  policy:     ${e?.trustPolicy ?? '?'} (level ${e?.level ?? '?'})`];
  if (v.unchecked) lines.push(e?.level === 'skip' ? '  signatures: not checked (level skip)' : '  signatures: admitted by level audit, not trusted');
  for (const s of e?.signatures ?? []) {
    const at = s.signedAt === undefined ? '' : ` at ${new Date(s.signedAt).toISOString()}`;
    // The signer's subject and logged reasons quote certificates the registry served: escaped.
    lines.push(`  signed:     ${s.envelope} ${s.manifestDigest.slice(0, 19)}… by ${printable(s.signer, 512)}${at} (${s.signingScheme})`);
  }
  for (const l of e?.logged ?? []) lines.push(`  logged:     ${printable(l, 1000)}`);
  return lines.join('\n');
}
