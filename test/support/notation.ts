// Notary Project (Notation) signatures for the tests, made and checked by notation-go v1.3 itself:
// test/tools/notation-tool (built by scripts/build-test-tools.sh) signs images the way
// `notation sign` does, attaches raw envelopes, and gives the reference verdict of notation-go's
// verifier (`notation verify`). Every expected verdict of a Notation test comes from
// `notationVerify` first. The test PKI is made once per test file (jest keeps a module registry per
// file; it takes a fraction of a second) in a temp dir removed when the worker exits.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, run, runOk, startDaemon, stopDaemon, waitForPort } from './processes.js';
import type { PushedImage, RegistryServer } from './registries.js';
import { testTools } from './test-tools.js';

/** Envelope formats: JWS JSON serialization or COSE_Sign1. */
export type NotationEnvelope = 'jws' | 'cose';

export const NOTATION_ENVELOPE_MEDIA_TYPES: Readonly<Record<NotationEnvelope, string>> = {
  jws: 'application/jose+json',
  cose: 'application/cose',
};

/**
 * The type of every Notation signature manifest: notation-go writes it as the config's media type
 * (no `artifactType` field), so referrers lists show it as the descriptor's artifactType.
 */
export const NOTATION_ARTIFACT_TYPE = 'application/vnd.cncf.notary.signature';

/**
 * Where a signature goes. `referrers`: the referrers API when the registry has it (it answers
 * the manifest PUT with OCI-Subject), else the referrers tag schema (oras-go's fallback; what
 * Debian's docker-registry gets). `tag`: always the referrers tag schema (`notation sign`'s
 * default in v1.3, `--force-referrers-tag`).
 */
export type NotationStorage = 'referrers' | 'tag';

/** A signing key and its certificate chain (leaf first, root last), PEM files. */
export interface NotationSigner {
  readonly key: string;
  /** The chain file: what `sign --cert` takes. */
  readonly chain: string;
  /** The leaf certificate alone. */
  readonly cert: string;
  /** The leaf's subject as the PKI wrote it, e.g. `C=US, ST=WA, L=Seattle, O=Acme Rockets, CN=acme-signer-p256`. */
  readonly subject: string;
}

/** The test PKI of `notation-tool pki` (test/tools/notation-tool/README.md lists it). */
export interface NotationPki {
  readonly dir: string;
  /** Trust store directory holding `x509/{ca,signingAuthority,tsa}/<name>/`. */
  readonly trustStore: string;
  /** CA certificates (PEM files). */
  readonly rootCa: string;
  readonly intermediateCa: string;
  readonly unrelatedCa: string;
  readonly tsaRoot: string;
  /** Code-signing leaves under root → intermediate (O=Acme Rockets). */
  readonly rsa3072: NotationSigner;
  readonly p256: NotationSigner;
  readonly p384: NotationSigner;
  /** Same CA, another organisation (O=Other Org). */
  readonly otherOrg: NotationSigner;
  /** Acme leaf with a CRL distribution point nobody answers (http://127.0.0.1:9/…). */
  readonly crl: NotationSigner;
  /** The acme subject, issued by the unrelated CA. */
  readonly unrelated: NotationSigner;
  /** Self-signed code-signing certificate (in the `ca:self-signed` and `signingAuthority:self-signed` stores). */
  readonly selfSigned: NotationSigner;
}

/** Trust stores `notation-tool pki` writes into `pki.trustStore`, as trust policies name them. */
export const NOTATION_STORES = {
  acme: 'ca:acme',
  unrelated: 'ca:unrelated',
  selfSigned: 'ca:self-signed',
  acmeSigningAuthority: 'signingAuthority:acme',
  selfSignedSigningAuthority: 'signingAuthority:self-signed',
  tsa: 'tsa:acme-tsa',
} as const;

/** The trusted identity every acme leaf matches (C, ST, O: the spec's minimum). */
export const ACME_IDENTITY = 'x509.subject: C=US, ST=WA, O=Acme Rockets';
export const OTHER_ORG_IDENTITY = 'x509.subject: C=US, ST=WA, O=Other Org';

const ACME = (cn: string) => `C=US, ST=WA, L=Seattle, O=Acme Rockets, CN=${cn}`;

function signer(dir: string, name: string, subject: string): NotationSigner {
  return { key: path.join(dir, `${name}.key`), chain: path.join(dir, `${name}.chain.pem`), cert: path.join(dir, `${name}.crt`), subject };
}

let pki: Promise<NotationPki> | undefined;

/** The test PKI, made on first use in this test file and reused by its tests. */
export function notationPki(): Promise<NotationPki> {
  pki ??= (async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-notation-pki-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    await runOk(testTools().notationTool, ['pki', '--out', dir]);
    return {
      dir,
      trustStore: path.join(dir, 'truststore'),
      rootCa: path.join(dir, 'root-ca.crt'),
      intermediateCa: path.join(dir, 'intermediate-ca.crt'),
      unrelatedCa: path.join(dir, 'unrelated-ca.crt'),
      tsaRoot: path.join(dir, 'tsa-root.crt'),
      rsa3072: signer(dir, 'leaf-rsa3072', ACME('acme-signer-rsa3072')),
      p256: signer(dir, 'leaf-p256', ACME('acme-signer-p256')),
      p384: signer(dir, 'leaf-p384', ACME('acme-signer-p384')),
      otherOrg: signer(dir, 'leaf-other-org', 'C=US, ST=WA, L=Seattle, O=Other Org, CN=other-signer'),
      crl: signer(dir, 'leaf-crl', ACME('acme-signer-crl')),
      unrelated: signer(dir, 'unrelated-leaf', ACME('acme-signer-p256')),
      selfSigned: signer(dir, 'self-signed-leaf', ACME('acme-self-signed')),
    };
  })();
  return pki;
}

let leaves = 0;

/**
 * A fresh acme leaf (P-256, issued by the intermediate CA) that expires `seconds` from now: sign
 * with it at once (notation-go refuses to sign with an expired certificate), verify after
 * `notAfter` for an "expired certificate" fixture.
 */
export async function shortLivedLeaf(seconds: number): Promise<NotationSigner & { readonly notAfter: Date }> {
  const { dir } = await notationPki();
  const name = `short-lived-${process.pid}-${++leaves}`;
  const before = Date.now();
  await runOk(testTools().notationTool, ['leaf', '--pki', dir, '--name', name, '--valid-for', `${seconds}s`]);
  // Go's x509 truncates NotAfter to whole seconds; the leaf is expired once this has passed.
  return { ...signer(dir, name, ACME(name)), notAfter: new Date(Math.ceil((before + seconds * 1000) / 1000) * 1000 + 1000) };
}

/** Options of `notationSign` and `notationEnvelope`. */
export interface NotationSignOptions {
  /** Default `jws`. */
  readonly envelope?: NotationEnvelope;
  /** Default `referrers` (see NotationStorage). */
  readonly storage?: NotationStorage;
  /** Signature expiry, seconds from now (the `io.cncf.notary.expiry` signed attribute). */
  readonly expirySeconds?: number;
  /** Default `notary.x509`. */
  readonly signingScheme?: 'notary.x509' | 'notary.x509.signingAuthority';
  /** Annotations added to the signed payload's target descriptor (`notation sign --user-metadata`). */
  readonly userMetadata?: Readonly<Record<string, string>>;
  /** Extra signed attributes marked critical (values are strings), e.g. an unknown one. */
  readonly criticalHeaders?: Readonly<Record<string, string>>;
  readonly creds?: NotationCredentials;
  /** RFC 3161 countersignature from this TSA (`notation sign --timestamp-url`, the PKI's tsa-root as root). */
  readonly timestamp?: NotationTsa;
}

/** A local RFC 3161 timestamping authority (`notation-tool tsa`), signing with the PKI's tsa-leaf. */
export interface NotationTsa {
  readonly url: string;
  /** Its root certificate (the PKI's tsa-root; in the `tsa:acme-tsa` store). */
  readonly root: string;
  stop(): Promise<void>;
}

/** Starts a TSA on a free loopback port; its log goes to `dir`. */
export async function startNotationTsa(dir: string): Promise<NotationTsa> {
  const p = await notationPki();
  const port = await freePort();
  const daemon = startDaemon(testTools().notationTool, ['tsa', '--pki', p.dir, '--addr', `127.0.0.1:${port}`], path.join(dir, `notation-tsa-${port}.log`));
  await waitForPort(port);
  return { url: `http://127.0.0.1:${port}`, root: p.tsaRoot, stop: () => stopDaemon(daemon) };
}

/** Registry credentials (basic or token auth), for registries started with authentication. */
export interface NotationCredentials {
  readonly username: string;
  readonly password: string;
}

/** Plain HTTP, or TLS trusting the registry's test CA; credentials when given. */
function registryArgs(registry: RegistryServer, creds?: NotationCredentials): string[] {
  const args = registry.caCert ? ['--ca-file', registry.caCert] : ['--plain-http'];
  if (creds) args.push('--username', creds.username, '--password', creds.password);
  return args;
}

function signArgs(s: NotationSigner, options: NotationSignOptions): string[] {
  const args = ['--key', s.key, '--cert', s.chain, '--envelope', options.envelope ?? 'jws'];
  args.push(`--force-referrers-tag=${options.storage === 'tag'}`);
  if (options.expirySeconds !== undefined) args.push('--expiry', `${options.expirySeconds}s`);
  if (options.signingScheme) args.push('--signing-scheme', options.signingScheme);
  for (const [k, v] of Object.entries(options.userMetadata ?? {})) args.push('--user-metadata', `${k}=${v}`);
  for (const [k, v] of Object.entries(options.criticalHeaders ?? {})) args.push('--critical-header', `${k}=${v}`);
  if (options.timestamp) args.push('--timestamp-url', options.timestamp.url, '--timestamp-root-cert', options.timestamp.root);
  return args;
}

function imageRef(image: PushedImage | string): string {
  return typeof image === 'string' ? image : image.ref;
}

/** Signs `image` (a reference, or a pushed image: its digest is signed) and pushes the signature, as `notation sign`. */
export async function notationSign(image: PushedImage | string, by: NotationSigner, registry: RegistryServer, options: NotationSignOptions = {}): Promise<void> {
  await runOk(testTools().notationTool, ['sign', ...registryArgs(registry, options.creds), ...signArgs(by, options), imageRef(image)]);
}

/** The envelope bytes `notationSign` would push (nothing is pushed), for tampering and `notationAttach`. */
export async function notationEnvelope(image: PushedImage | string, by: NotationSigner, registry: RegistryServer, options: NotationSignOptions = {}): Promise<Buffer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-notation-envelope-'));
  try {
    const out = path.join(dir, 'envelope');
    await runOk(testTools().notationTool, ['envelope', ...registryArgs(registry, options.creds), ...signArgs(by, options), '--out', out, imageRef(image)]);
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A JWS envelope notation-core-go would not make (`notation-tool craft`): notation's protected
 * header for `by`'s key (alg, cty, crit, signing scheme notary.x509, signing time) with the
 * fields of `header` replaced (`null` removes one), over notation's payload naming `image` (or
 * `payload` as it is), really signed by `by`. Attach it with `notationAttach`.
 */
export async function notationCraftJws(
  image: PushedImage | string,
  by: NotationSigner,
  registry: RegistryServer,
  header: Readonly<Record<string, unknown>>,
  options: { readonly payload?: string; readonly creds?: NotationCredentials } = {},
): Promise<Buffer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-notation-craft-'));
  try {
    const out = path.join(dir, 'envelope');
    const args = ['craft', ...registryArgs(registry, options.creds), '--key', by.key, '--cert', by.chain, '--header-json', JSON.stringify(header), '--out', out];
    if (options.payload !== undefined) args.push('--payload-json', options.payload);
    await runOk(testTools().notationTool, [...args, imageRef(image)]);
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Options of `notationAttach`. */
export interface NotationAttachOptions {
  /** The envelope blob's media type; default `application/jose+json`. */
  readonly mediaType?: string;
  /** Default `referrers`. */
  readonly storage?: NotationStorage;
  /** Attach to this manifest digest of the image's repository instead of the image itself. */
  readonly subjectDigest?: string;
  /** Signature manifest annotations. */
  readonly annotations?: Readonly<Record<string, string>>;
  readonly creds?: NotationCredentials;
}

/** What `notationAttach` pushed (the manifest digest is empty when docker-registry refused to delete a stale referrers index). */
export interface NotationAttached {
  readonly manifestDigest: string;
  readonly blobDigest: string;
}

/**
 * Pushes `envelope` as it is as a Notation signature of `image` (notation-go's
 * Repository.PushSignature: OCI manifest, artifactType application/vnd.cncf.notary.signature, the
 * envelope its one layer, the image its subject): tampered, oversized or crafted envelopes.
 */
export async function notationAttach(image: PushedImage | string, envelope: Buffer, registry: RegistryServer, options: NotationAttachOptions = {}): Promise<NotationAttached> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-notation-attach-'));
  try {
    const file = path.join(dir, 'envelope');
    writeFileSync(file, envelope);
    const args = ['attach', ...registryArgs(registry, options.creds), '--envelope-file', file, '--media-type', options.mediaType ?? NOTATION_ENVELOPE_MEDIA_TYPES.jws];
    args.push(`--force-referrers-tag=${options.storage === 'tag'}`);
    if (options.subjectDigest) args.push('--subject-digest', options.subjectDigest);
    for (const [k, v] of Object.entries(options.annotations ?? {})) args.push('--annotation', `${k}=${v}`);
    const out = JSON.parse(await runOk(testTools().notationTool, [...args, imageRef(image)])) as { manifest: { digest?: string }; blob: { digest?: string } };
    return { manifestDigest: out.manifest.digest ?? '', blobDigest: out.blob.digest ?? '' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One statement of a trustpolicy.json (notaryproject/specifications trust-store-trust-policy.md). */
export interface NotationTrustPolicyStatement {
  readonly name: string;
  readonly registryScopes: readonly string[];
  readonly signatureVerification: { readonly level: 'strict' | 'permissive' | 'audit' | 'skip'; readonly override?: Readonly<Record<string, string>>; readonly verifyTimestamp?: string };
  readonly trustStores?: readonly string[];
  readonly trustedIdentities?: readonly string[];
}

export interface NotationTrustPolicy {
  readonly version: '1.0';
  readonly trustPolicies: readonly NotationTrustPolicyStatement[];
}

/** A one-statement trust policy; defaults: scope `*`, `strict`, `ca:acme`, ACME_IDENTITY. */
export function notationTrustPolicy(statement: Partial<NotationTrustPolicyStatement> = {}): NotationTrustPolicy {
  return {
    version: '1.0',
    trustPolicies: [{
      name: 'test',
      registryScopes: ['*'],
      signatureVerification: { level: 'strict' },
      trustStores: [NOTATION_STORES.acme],
      trustedIdentities: [ACME_IDENTITY],
      ...statement,
    }],
  };
}

/** A notation configuration directory: what `notationVerify` reads and what trustgate is given. */
export interface NotationConfig {
  readonly dir: string;
  /** `dir/trustpolicy.json`. */
  readonly trustPolicy: string;
  /** `dir/truststore`: holds `x509/<type>/<name>/`. */
  readonly trustStore: string;
}

/** One named store: `type:name` as a trust policy names it, and its certificates (PEM files or PEM text). */
export interface NotationStoreContents {
  readonly store: string;
  readonly certificates: readonly string[];
}

/**
 * Writes `dir/trustpolicy.json` (the document as given: an object is serialised, a string is
 * written as it is, so malformed policies can be tested) and `dir/truststore/x509/<type>/<name>/`
 * with one file per certificate. Without `stores`, the whole test PKI's trust store is copied.
 */
export async function writeNotationConfig(dir: string, policy: NotationTrustPolicy | string, stores?: readonly NotationStoreContents[]): Promise<NotationConfig> {
  mkdirSync(dir, { recursive: true });
  const trustPolicy = path.join(dir, 'trustpolicy.json');
  writeFileSync(trustPolicy, typeof policy === 'string' ? policy : JSON.stringify(policy, null, 2));
  const trustStore = path.join(dir, 'truststore');
  rmSync(trustStore, { recursive: true, force: true });
  const contents = stores ?? (await pkiStores());
  for (const { store, certificates } of contents) {
    const [type, name] = store.split(':');
    if (!type || !name) throw new Error(`store ${store}: expecting type:name`);
    const storeDir = path.join(trustStore, 'x509', type, name);
    mkdirSync(storeDir, { recursive: true });
    certificates.forEach((cert, i) => {
      writeFileSync(path.join(storeDir, `cert-${i}.pem`), cert.includes('-----BEGIN') ? cert : readFileSync(cert));
    });
  }
  return { dir, trustPolicy, trustStore };
}

async function pkiStores(): Promise<NotationStoreContents[]> {
  const p = await notationPki();
  return [
    { store: NOTATION_STORES.acme, certificates: [p.rootCa] },
    { store: NOTATION_STORES.unrelated, certificates: [p.unrelatedCa] },
    { store: NOTATION_STORES.selfSigned, certificates: [p.selfSigned.cert] },
    { store: NOTATION_STORES.acmeSigningAuthority, certificates: [p.rootCa] },
    { store: NOTATION_STORES.selfSignedSigningAuthority, certificates: [p.selfSigned.cert] },
    { store: NOTATION_STORES.tsa, certificates: [p.tsaRoot] },
  ];
}

/** One verification type's result (notation-go's ValidationResult). */
export interface NotationResult {
  readonly type: 'integrity' | 'authenticity' | 'authenticTimestamp' | 'expiry' | 'revocation';
  readonly action: 'enforce' | 'log' | 'skip';
  readonly error: string | null;
}

/** notation-go's verdict on an image (`notation-tool verify`). */
export interface NotationVerdict {
  readonly verified: boolean;
  /** The digest the reference resolved to ('' when it did not). */
  readonly digest: string;
  /** notation.Verify's error: for several signatures, each one's reason on its own line. */
  readonly error: string | null;
  /** The trust policy's level name ('' when no signature was examined). */
  readonly level: string;
  /** Results of the signature that verified, else of the first signature examined. */
  readonly results: readonly NotationResult[];
  /** Every signature examined: its manifest digest, envelope media type, error and results. */
  readonly signatures: readonly { readonly digest: string; readonly mediaType: string; readonly error: string | null; readonly results: readonly NotationResult[] }[];
}

/** Options of `notationVerify`. */
export interface NotationVerifyOptions {
  /** Most signatures examined; notation's default 100. */
  readonly maxSignatures?: number;
  /** Payload annotations required (`notation verify --user-metadata`). */
  readonly userMetadata?: Readonly<Record<string, string>>;
  readonly creds?: NotationCredentials;
}

/**
 * The reference verdict: notation-go's verifier on `image` with `config`'s trust policy and
 * trust store, as `notation verify` (a tag is resolved to its digest first). Revocation is
 * checked as notation does (CRL and OCSP over HTTP, which fail on the test machine).
 */
export async function notationVerify(image: PushedImage | string, config: NotationConfig, registry: RegistryServer, options: NotationVerifyOptions = {}): Promise<NotationVerdict> {
  const args = ['verify', ...registryArgs(registry, options.creds), '--trust-policy', config.trustPolicy, '--trust-store', config.trustStore];
  if (options.maxSignatures !== undefined) args.push('--max-signatures', String(options.maxSignatures));
  for (const [k, v] of Object.entries(options.userMetadata ?? {})) args.push('--user-metadata', `${k}=${v}`);
  const result = await run(testTools().notationTool, [...args, imageRef(image)], { timeoutMs: 120_000 });
  if (result.code !== 0 && result.code !== 1) throw new Error(`notation-tool verify exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  const verdict = JSON.parse(result.stdout) as NotationVerdict;
  if (verdict.verified !== (result.code === 0)) throw new Error(`notation-tool verify: exit ${result.code} but verified=${verdict.verified}`);
  return verdict;
}
