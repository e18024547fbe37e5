// Test keys that sign the way notary does (tuf/signed/sign.go): ecdsa raw r‖s over SHA-256,
// rsapss with a 32-byte salt, eddsa. x509 certificates come from openssl.
import { constants, createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { canonicalize } from '@tufjs/canonical-json';

export type KeyKind = 'ecdsa' | 'ecdsa-x509' | 'rsa' | 'rsa-x509' | 'ed25519';

export interface KeyJson {
  keytype: string;
  keyval: { private: null; public: string };
}

export class TestKey {
  readonly id: string;

  private constructor(
    readonly keytype: KeyKind,
    readonly json: KeyJson,
    readonly privateKey: KeyObject,
    readonly publicKey: KeyObject,
    readonly method: string,
  ) {
    this.id = createHash('sha256').update(canonicalize(json)).digest('hex');
  }

  static generate(kind: KeyKind, cert?: CertOptions): TestKey {
    const { privateKey, publicKey } =
      kind.startsWith('rsa')
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : kind === 'ed25519'
          ? generateKeyPairSync('ed25519')
          : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    let publicBytes: Buffer;
    if (kind === 'ed25519') publicBytes = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
    else if (kind.endsWith('x509')) publicBytes = Buffer.from(selfSignedCertificate(privateKey, cert ?? { cn: 'test' }));
    else publicBytes = publicKey.export({ format: 'der', type: 'spki' });
    const method = kind.startsWith('rsa') ? 'rsapss' : kind === 'ed25519' ? 'eddsa' : 'ecdsa';
    return new TestKey(kind, { keytype: kind, keyval: { private: null, public: publicBytes.toString('base64') } }, privateKey, publicKey, method);
  }

  /** The same key material declared under another key type (for unknown-type vectors). */
  withKeyType(keytype: string): TestKey {
    return new TestKey(this.keytype, { ...this.json, keytype }, this.privateKey, this.publicKey, this.method);
  }

  /** The same key signing with another method (rsapkcs1v15 instead of rsapss, …). */
  withMethod(method: string): TestKey {
    return new TestKey(this.keytype, this.json, this.privateKey, this.publicKey, method);
  }

  /** For an x509 key: the same key pair declared as a bare key (another ID, the same key). */
  bareTwin(): TestKey {
    const keytype = this.keytype === 'rsa-x509' ? 'rsa' : 'ecdsa';
    const json: KeyJson = { keytype, keyval: { private: null, public: this.publicKey.export({ format: 'der', type: 'spki' }).toString('base64') } };
    return new TestKey(keytype, json, this.privateKey, this.publicKey, this.method);
  }

  /** The ID of the bare public key, as `notary key list` shows it. */
  get canonicalId(): string {
    if (!this.keytype.endsWith('x509')) return this.id;
    const bare = { keytype: this.keytype.replace('-x509', ''), keyval: { private: null, public: this.publicKey.export({ format: 'der', type: 'spki' }).toString('base64') } };
    return createHash('sha256').update(canonicalize(bare)).digest('hex');
  }

  get certificatePem(): string {
    return Buffer.from(this.json.keyval.public, 'base64').toString('utf8');
  }

  sign(message: Buffer, method = this.method): Buffer {
    switch (method) {
      case 'ecdsa':
        return sign('sha256', message, { key: this.privateKey, dsaEncoding: 'ieee-p1363' });
      case 'rsapss':
        return sign('sha256', message, { key: this.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
      case 'rsapkcs1v15':
        return sign('sha256', message, { key: this.privateKey, padding: constants.RSA_PKCS1_PADDING });
      case 'eddsa':
        return sign(null, message, this.privateKey);
      default:
        throw new Error(`unknown method ${method}`);
    }
  }
}

export interface CertOptions {
  readonly cn: string;
  /** Validity from now; tests move their clock instead of back-dating (openssl 3.0 cannot). */
  readonly days?: number;
  readonly ca?: boolean;
  /** Issue from this CA instead of self-signing. */
  readonly issuer?: { certPem: string; key: KeyObject };
  /** A start of validity other than now: `openssl ca` can set it, `x509` cannot. */
  readonly notBefore?: Date;
  /**
   * A leaf's extendedKeyUsage (default codeSigning, as notary's own certificates); '' for none.
   * notary verifies a chain to a pinned CA with Go's default usage, server auth, so a leaf it
   * accepts under `trust_pinning.ca` has no extendedKeyUsage (or serverAuth).
   */
  readonly extendedKeyUsage?: string;
}

/** A certificate for `key`, self-signed or issued by `issuer`, made with the openssl CLI. */
export function selfSignedCertificate(key: KeyObject, options: CertOptions): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-cert-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    writeFileSync(keyFile, key.export({ format: 'pem', type: 'pkcs8' }));
    const eku = options.extendedKeyUsage ?? 'codeSigning';
    const ext = options.ca ? 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign' : `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature${eku ? `\nextendedKeyUsage=${eku}` : ''}`;
    writeFileSync(path.join(dir, 'ext.cnf'), `${ext}\n`);
    const common = ['-set_serial', String(Date.now() % 1e9), '-days', String(options.days ?? 3650), '-extfile', path.join(dir, 'ext.cnf'), '-out', path.join(dir, 'cert.pem')];
    execFileSync('openssl', ['req', '-new', '-key', keyFile, '-subj', `/CN=${options.cn.replace(/\//g, '\\/')}`, '-out', path.join(dir, 'req.csr')], { stdio: 'pipe' });
    if (options.notBefore) {
      if (options.issuer) {
        writeFileSync(path.join(dir, 'ca.pem'), options.issuer.certPem);
        writeFileSync(path.join(dir, 'ca.key'), options.issuer.key.export({ format: 'pem', type: 'pkcs8' }));
      }
      signFrom(dir, keyFile, options.notBefore, options.days ?? 3650, options.issuer !== undefined);
    } else if (options.issuer) {
      writeFileSync(path.join(dir, 'ca.pem'), options.issuer.certPem);
      writeFileSync(path.join(dir, 'ca.key'), options.issuer.key.export({ format: 'pem', type: 'pkcs8' }));
      execFileSync('openssl', ['x509', '-req', '-in', path.join(dir, 'req.csr'), '-CA', path.join(dir, 'ca.pem'), '-CAkey', path.join(dir, 'ca.key'), ...common], { stdio: 'pipe' });
    } else {
      execFileSync('openssl', ['x509', '-req', '-in', path.join(dir, 'req.csr'), '-key', keyFile, ...common], { stdio: 'pipe' });
    }
    return readFileSync(path.join(dir, 'cert.pem'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `openssl ca` with an explicit validity window (UTCTime, YYMMDDHHMMSSZ): self-signed, or issued
 * by the CA in ca.pem / ca.key.
 */
function signFrom(dir: string, keyFile: string, notBefore: Date, days: number, issued: boolean): void {
  const f = (n: string) => path.join(dir, n);
  const asn1Time = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  writeFileSync(f('index.txt'), '');
  writeFileSync(f('serial'), `${(Date.now() % 1e9).toString(16).padStart(8, '0')}\n`);
  writeFileSync(f('ca.cnf'), [
    '[ca]', 'default_ca = local', '[local]', `database = ${f('index.txt')}`, `new_certs_dir = ${dir}`, `serial = ${f('serial')}`,
    'default_md = sha256', 'policy = any', 'unique_subject = no', '[any]', 'commonName = supplied', '',
  ].join('\n'));
  const signer = issued ? ['-cert', f('ca.pem'), '-keyfile', f('ca.key')] : ['-selfsign', '-keyfile', keyFile];
  execFileSync('openssl', ['ca', '-batch', '-notext', '-config', f('ca.cnf'), ...signer, '-in', f('req.csr'),
    '-startdate', asn1Time(notBefore), '-enddate', asn1Time(new Date(notBefore.getTime() + days * 86_400_000)),
    '-extfile', f('ext.cnf'), '-out', f('cert.pem')], { stdio: 'pipe' });
}
