// The Sigstore trust material a cosign authority verifies against: Fulcio CAs, Rekor and CT log
// keys, timestamp authorities, as a `trusted_root.json` (sigstore protobuf-specs TrustedRoot).
// The default is Sigstore's public-good root as @sigstore/tuf ships it in its seeds, so that
// verification works offline; it is not refreshed over TUF (a new trustgate release brings a
// newer one, or an operator gives the current one as `trustedRoot`).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { TrustMaterial } from '@sigstore/verify';
import { checkJsonShape } from '../../shared/json-shape.js';
import { sigstoreSpecs, sigstoreVerify } from './sigstore-lib.js';

/**
 * Largest `trusted_root.json` accepted. The public-good one is some 9 KiB; a policy object holds
 * it, so a tenant's policies could otherwise make every compile parse megabytes.
 */
export const MAX_TRUSTED_ROOT_LENGTH = 64 * 1024;
const SHAPE = { maxValues: 20_000, maxDepth: 16 };
/** Bounds on what one trusted root lists: each entry is parsed, and each is tried per signature. */
const MAX_AUTHORITIES = 32;
const MAX_CHAIN = 8;

/** A trusted root, parsed once per policy. */
export interface CosignTrustedRoot {
  /** `public-good` or `sha256:<hex of the JSON text>`: names it in cache keys and messages. */
  readonly id: string;
  readonly material: TrustMaterial;
}

const SEEDS_MIRROR = 'https://tuf-repo-cdn.sigstore.dev';
let publicGood: CosignTrustedRoot | undefined;

/**
 * Sigstore's public-good trusted root, from @sigstore/tuf's seeds. Read on first use of its
 * material: a keyed authority without the log never needs it.
 */
export function publicGoodTrustedRoot(): CosignTrustedRoot {
  publicGood ??= {
    id: 'public-good',
    get material(): TrustMaterial {
      publicGoodMaterial ??= readPublicGood();
      return publicGoodMaterial;
    },
  };
  return publicGood;
}

let publicGoodMaterial: TrustMaterial | undefined;

function readPublicGood(): TrustMaterial {
  const seedsPath = createRequire(import.meta.url).resolve('@sigstore/tuf/seeds.json');
  const seeds = JSON.parse(readFileSync(seedsPath, 'utf8')) as Record<string, { targets?: Record<string, string> }>;
  const encoded = seeds[SEEDS_MIRROR]?.targets?.['trusted_root.json'];
  if (encoded === undefined) throw new Error(`@sigstore/tuf seeds hold no trusted_root.json for ${SEEDS_MIRROR}`);
  const parsed = parseTrustedRoot(Buffer.from(encoded, 'base64').toString('utf8'));
  if (typeof parsed === 'string') throw new Error(`@sigstore/tuf's public-good trusted_root.json: ${parsed}`);
  return parsed.material;
}

type Certificate = TrustMaterial['certificateAuthorities'][number]['certChain'][number];

/**
 * Makes a trusted root's own certificates (its CAs, parsed once per root) remember what does
 * not change between verifications: their DER encoding, their public key, and whether one
 * signed another. sigstore-js's path building (packages/verify/src/key/certificate.ts,
 * `findIssuer`) re-encodes every certificate of the chain from its ASN.1 tree and re-verifies
 * each CA against its issuer for every signature: ~85% of a keyless verification's CPU. The leaf
 * (the signature's own certificate) is a new object each time and is still checked in full; a
 * CA's answer is cached only for an issuer that is itself one of the root's certificates, by
 * object identity, so no certificate from a signature can ever share a CA's remembered answer.
 */
function rememberChecks(cert: Certificate, _index: number, chain: readonly Certificate[]): void {
  const der = cert.root.toDER();
  const publicKey = cert.publicKey;
  const verified = new Map<Certificate | undefined, boolean>();
  const verify = cert.verify.bind(cert);
  Object.defineProperty(cert.root, 'toDER', { value: () => der });
  Object.defineProperties(cert, {
    publicKey: { value: publicKey },
    verify: {
      value: (issuer?: Certificate) => {
        if (issuer !== undefined && issuer !== cert && !chain.includes(issuer)) return verify(issuer);
        let ok = verified.get(issuer);
        if (ok === undefined) verified.set(issuer, (ok = verify(issuer)));
        return ok;
      },
    },
  });
}

/** Reads a `trusted_root.json` text. Returns the root or why it is refused. */
export function parseTrustedRoot(text: string): CosignTrustedRoot | string {
  if (text.length > MAX_TRUSTED_ROOT_LENGTH) return `longer than ${MAX_TRUSTED_ROOT_LENGTH} characters`;
  const bytes = Buffer.from(text, 'utf8');
  if (!checkJsonShape(bytes, SHAPE).ok) return `nested deeper than ${SHAPE.maxDepth} or more than ${SHAPE.maxValues} JSON values`;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return 'is not JSON';
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'is not a JSON object';
  const mediaType = (json as Record<string, unknown>).mediaType;
  if (typeof mediaType !== 'string' || !mediaType.startsWith('application/vnd.dev.sigstore.trustedroot')) {
    return 'mediaType is not application/vnd.dev.sigstore.trustedroot…: not a trusted_root.json';
  }
  try {
    const root = sigstoreSpecs().TrustedRoot.fromJSON(json);
    const lists = [root.certificateAuthorities, root.tlogs, root.ctlogs, root.timestampAuthorities];
    if (lists.some((l) => l.length > MAX_AUTHORITIES)) return `lists more than ${MAX_AUTHORITIES} authorities or logs of one kind`;
    if ([...root.certificateAuthorities, ...root.timestampAuthorities].some((ca) => (ca.certChain?.certificates.length ?? 0) > MAX_CHAIN)) {
      return `has a certificate chain longer than ${MAX_CHAIN}`;
    }
    const material = sigstoreVerify().toTrustMaterial(root);
    for (const ca of [...material.certificateAuthorities, ...material.timestampAuthorities]) ca.certChain.forEach(rememberChecks);
    return { id: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, material };
  } catch (e) {
    return `cannot be read: ${e instanceof Error ? e.message.slice(0, 200) : 'unknown error'}`;
  }
}
