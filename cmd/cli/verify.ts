import { parseArgs } from 'node:util';
import { NotaryVerifier, TrustClient, TrustKind, type NotaryEvidence, type Verified } from '../../src/trust/index.js';
import { ExitCode, UsageError } from './errors.js';
import { readSigners, readTrustSettings, TRUST_OPTIONS, type Environment } from './trust-options.js';
import type { Output } from './output.js';

export const VERIFY_USAGE = `Usage: trustgate verify IMAGE [options]

Resolves IMAGE to the digest its publisher signed (Docker Content Trust / Notary v1), or refuses.

  --trust-server URL         Notary server (default: https://notary.docker.io for docker.io,
                             else https://<registry>; DOCKER_CONTENT_TRUST_SERVER overrides)
  --ca-file PEM              CA bundle for the trust server
  --root-key ID|PEMFILE      pin the root key (cert or canonical ID, PEM key or certificate);
                             repeatable; without it the first root seen is trusted (TOFU)
  --signer ROLE[=KEY]        require this delegation (targets/releases, targets/<name>) to have
                             signed the same digest; with =KEY (key ID or PEM file) only that
                             key counts; repeatable
  --allow-unsigned-digests   admit name@sha256:... without trust data, as docker does
  --docker-config DIR|FILE   docker config.json (or the directory holding it): its auths, or the
                             credential helpers named by credsStore / credHelpers (default
                             $DOCKER_CONFIG/config.json, else ~/.docker/config.json)
  --username U --password-stdin
  --timeout SECONDS          whole verification (default 10)
  --output text|json

Exit status: 0 verified, 1 refused, 2 usage error.`;

export async function runVerify(argv: string[], environment: Environment, out: Output): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...TRUST_OPTIONS, signer: { type: 'string', multiple: true }, 'allow-unsigned-digests': { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    out.stdout(VERIFY_USAGE);
    return ExitCode.OK;
  }
  if (positionals.length > 1) throw new UsageError(`verify takes one IMAGE, got ${positionals.length}`);
  const settings = await readTrustSettings(positionals[0], values, environment);
  out.format = settings.output;
  const signers = readSigners(values.signer);
  const client = new TrustClient();
  try {
    const spec = {
      kind: TrustKind.NOTARY,
      server: settings.server,
      pins: settings.pins,
      signers,
      allowUnsignedDigests: values['allow-unsigned-digests'] ?? false,
      caBundle: settings.caBundle,
      trustOnFirstUse: false,
    };
    const verified = await new NotaryVerifier(client).verify(settings.ref, spec, { credentials: settings.credentials, signal: NEVER, timeoutMs: settings.timeoutMs });
    if (settings.output === 'json') out.stdout(JSON.stringify({ verified: true, ...toJson(verified) }, null, 2));
    else out.stdout(toText(verified));
    return ExitCode.OK;
  } finally {
    client.close();
  }
}

/** The command waits for its one verification until timeoutMs, which the trust client enforces. */
const NEVER = new AbortController().signal;

/** Notary's evidence, from the Notary verifier's answer. */
function notaryOf(v: Verified): NotaryEvidence {
  if (v.evidence.kind !== TrustKind.NOTARY) throw new Error(`expected Notary evidence, got ${v.evidence.kind}`);
  return v.evidence;
}

/** The JSON `trustgate verify` has always printed for Notary: the same keys in the same order. */
function toJson(v: Verified): Record<string, unknown> {
  const n = notaryOf(v);
  return {
    image: v.image,
    reference: v.reference,
    digest: v.digest,
    tag: v.tag ?? null,
    signedTags: n.signedTags,
    signedBy: n.signedBy,
    rootKeyId: n.rootKeyId ?? null,
    trustOnFirstUse: n.trustOnFirstUse,
    trustServer: n.trustServer,
    unchecked: v.unchecked,
    expires: Number.isFinite(v.expires) ? new Date(v.expires).toISOString() : null,
  };
}

function toText(verified: Verified): string {
  const v = { ...verified, ...notaryOf(verified) };
  if (v.unchecked) {
    return `${v.reference}\n  digest admitted without trust data (--allow-unsigned-digests)`;
  }
  const lines = [
    v.reference,
    `  image:      ${v.image}`,
    `  digest:     ${v.digest}`,
    v.tag === undefined ? `  tags:       ${v.signedTags.join(', ')}` : `  tag:        ${v.tag}`,
    `  signed by:  ${v.signedBy.join(', ')}`,
    `  root key:   ${v.rootKeyId ?? 'unknown'}`,
    v.trustOnFirstUse
      ? '  trust:      on first use — no root key is pinned, so the root the server sent was believed (pin it with --root-key)'
      : '  trust:      root key pinned',
    `  valid until ${new Date(v.expires).toISOString()} (earliest metadata expiry)`,
  ];
  return lines.join('\n');
}
