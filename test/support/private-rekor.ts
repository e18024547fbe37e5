// A transparency log of our own for keyed signatures with `tlog.trustedRoot`: its key in a
// trusted_root.json (sigstore protobuf-specs TrustedRoot), and Rekor bundles for cosign's
// `dev.sigstore.cosign/bundle` annotation made as Rekor makes them: a hashedrekord 0.0.1 body
// (rekor pkg/types/hashedrekord) and a SET, the log's signature over the canonical JSON of
// {body, integratedTime, logID, logIndex} (rekor pkg/api entries.go, cosign pkg/cosign/verify.go VerifySET).
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

export interface RekorEntryOptions {
  /** Record another signature than the one annotated. */
  readonly signature?: Buffer;
  /** Record another payload hash. */
  readonly payloadSha256?: string;
  /** Record another signer's public key (PEM). */
  readonly publicKeyPem?: string;
  /** Sign the SET with another key than the log's. */
  readonly setKey?: KeyObject;
  /** Change the entry after the SET was made. */
  readonly logIndexAfterSigning?: number;
}

export class PrivateRekor {
  readonly key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  readonly spki = this.key.publicKey.export({ type: 'spki', format: 'der' });
  readonly logId = createHash('sha256').update(this.spki).digest();
  private index = 1000;

  trustedRoot(): string {
    return JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [{
        baseUrl: 'https://rekor.test',
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: this.spki.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: '2020-01-01T00:00:00Z' } },
        logId: { keyId: this.logId.toString('base64') },
      }],
      certificateAuthorities: [],
      ctlogs: [],
      timestampAuthorities: [],
    });
  }

  /** The `dev.sigstore.cosign/bundle` annotation for `signature` over `payload` by the key `publicKeyPem`. */
  bundleAnnotation(payload: Buffer, signature: Buffer, publicKeyPem: string, options: RekorEntryOptions = {}): string {
    const body = Buffer.from(JSON.stringify({
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: options.payloadSha256 ?? createHash('sha256').update(payload).digest('hex') } },
        signature: { content: (options.signature ?? signature).toString('base64'), publicKey: { content: Buffer.from(options.publicKeyPem ?? publicKeyPem).toString('base64') } },
      },
    }));
    const entry = { body: body.toString('base64'), integratedTime: Math.floor(Date.now() / 1000) - 60, logID: this.logId.toString('hex'), logIndex: this.index++ };
    // Canonical JSON: keys sorted, no spaces (these values need no escaping).
    const canonical = `{"body":"${entry.body}","integratedTime":${entry.integratedTime},"logID":"${entry.logID}","logIndex":${entry.logIndex}}`;
    const set = sign('sha256', Buffer.from(canonical), options.setKey ?? this.key.privateKey);
    if (options.logIndexAfterSigning !== undefined) entry.logIndex = options.logIndexAfterSigning;
    return JSON.stringify({ SignedEntryTimestamp: set.toString('base64'), Payload: entry });
  }
}
