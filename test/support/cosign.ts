// The real cosign CLI (scripts/build-test-tools.sh), run offline: a fresh HOME and TUF_ROOT per
// Cosign, no transparency-log upload, no signing config, so it never reaches for the network.
// Flags as cosign v3.1 names them (cmd/cosign/cli/options/{sign,verify,registry}.go).
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run, type RunResult } from './processes.js';
import type { RegistryServer } from './registries.js';
import { testTools } from './test-tools.js';

/** legacy: a `sha256-<hex>.sig` tag; bundle: a Sigstore bundle v0.3 as an OCI referrer (v3's default). */
export type CosignFormat = 'legacy' | 'bundle';

export interface CosignKeyPair {
  /** cosign's encrypted private key (empty password). */
  readonly key: string;
  /** PEM public key (SubjectPublicKeyInfo), what a policy names. */
  readonly pub: string;
}

/** Key types the tests import into cosign besides its own default (ECDSA P-256). */
export type ImportedKeyType = 'ecdsa-p384' | 'rsa-3072' | 'ed25519';

export interface CosignVerdict {
  readonly verified: boolean;
  readonly result: RunResult;
}

export interface KeylessIdentity {
  readonly identity: string;
  readonly issuer: string;
  readonly trustedRoot: string;
}

export class Cosign {
  private constructor(readonly dir: string, readonly bin: string) {}

  /** A cosign with its own HOME and TUF_ROOT under `dir`. */
  static create(dir: string): Cosign {
    for (const sub of ['home', 'tuf', 'keys']) mkdirSync(path.join(dir, sub), { recursive: true });
    return new Cosign(dir, testTools().cosign);
  }

  run(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
    return run(this.bin, args, {
      cwd: this.dir,
      timeoutMs: 60_000,
      env: {
        HOME: path.join(this.dir, 'home'),
        TUF_ROOT: path.join(this.dir, 'tuf'),
        COSIGN_PASSWORD: '',
        DOCKER_CONFIG: path.join(this.dir, 'home', '.docker'),
        // No experimental mode leaks in from the environment of whoever runs the tests.
        COSIGN_EXPERIMENTAL: '',
        ...env,
      },
    });
  }

  async runOk(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
    const result = await this.run(args, env);
    if (result.code !== 0) throw new Error(`cosign ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
    return result.stdout;
  }

  /** `cosign generate-key-pair`: ECDSA P-256, cosign's default. */
  async generateKeyPair(name: string): Promise<CosignKeyPair> {
    const prefix = path.join(this.dir, 'keys', name);
    await this.runOk(['generate-key-pair', '--output-key-prefix', prefix]);
    return { key: `${prefix}.key`, pub: `${prefix}.pub` };
  }

  /** A key made by node:crypto (PKCS#8 PEM), brought in with `cosign import-key-pair`. */
  async importKeyPair(name: string, type: ImportedKeyType): Promise<CosignKeyPair> {
    const pem = path.join(this.dir, 'keys', `${name}.pkcs8.pem`);
    writeFileSync(pem, privateKeyPem(type), { mode: 0o600 });
    const prefix = path.join(this.dir, 'keys', name);
    await this.runOk(['import-key-pair', '--key', pem, '--output-key-prefix', prefix, '-y']);
    return { key: `${prefix}.key`, pub: `${prefix}.pub` };
  }

  /** `cosign sign` with a key, offline (no Rekor upload), in either format. */
  async sign(image: string, key: CosignKeyPair, format: CosignFormat, registry: RegistryServer, extra: readonly string[] = []): Promise<void> {
    await this.runOk([
      'sign', '--key', key.key, '--tlog-upload=false', '--use-signing-config=false',
      ...(format === 'legacy' ? ['--new-bundle-format=false'] : []),
      ...registryFlags(registry), '-y', ...extra, image,
    ]);
  }

  /**
   * `cosign verify --key` without the transparency log (keys signed offline). cosign looks for
   * bundles first and checks legacy `.sig` signatures only when the image has none.
   */
  async verifyWithKey(image: string, pub: string, registry: RegistryServer, extra: readonly string[] = []): Promise<CosignVerdict> {
    const result = await this.run(['verify', '--key', pub, '--insecure-ignore-tlog=true', ...registryFlags(registry), ...extra, image]);
    return { verified: result.code === 0, result };
  }

  /** `cosign verify` keyless: identity, issuer and the trusted root given, nothing fetched. */
  async verifyKeyless(image: string, who: KeylessIdentity, registry: RegistryServer, extra: readonly string[] = []): Promise<CosignVerdict> {
    const result = await this.run([
      'verify', '--certificate-identity', who.identity, '--certificate-oidc-issuer', who.issuer,
      '--trusted-root', who.trustedRoot, ...registryFlags(registry), ...extra, image,
    ]);
    return { verified: result.code === 0, result };
  }
}

/** Plain HTTP needs --allow-insecure-registry; TLS with a test CA needs --registry-cacert. */
export function registryFlags(registry: RegistryServer): string[] {
  return registry.caCert ? ['--registry-cacert', registry.caCert] : ['--allow-insecure-registry'];
}

function privateKeyPem(type: ImportedKeyType): string {
  const pkcs8 = { type: 'pkcs8', format: 'pem' } as const;
  const spki = { type: 'spki', format: 'pem' } as const;
  switch (type) {
    case 'ecdsa-p384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384', privateKeyEncoding: pkcs8, publicKeyEncoding: spki }).privateKey;
    case 'rsa-3072':
      return generateKeyPairSync('rsa', { modulusLength: 3072, privateKeyEncoding: pkcs8, publicKeyEncoding: spki }).privateKey;
    case 'ed25519':
      return generateKeyPairSync('ed25519', { privateKeyEncoding: pkcs8, publicKeyEncoding: spki }).privateKey;
  }
}
