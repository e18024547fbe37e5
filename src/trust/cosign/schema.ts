// The CRD schema of a cosign authority (`spec.authorities[i].cosign`), for scripts/generate-crds.ts:
// the API server then refuses objects past the bounds before trustgate reads them, as it does for
// Notary's fields. The same bounds as the parser (./spec.ts, ./trusted-root.ts, ./regexp.ts).
import { MAX_KEY_PEM_LENGTH } from './keys.js';
import { MAX_SIGNATURES } from './limits.js';
import { MAX_PATTERN_LENGTH } from './regexp.js';
import { COSIGN_SPEC_LIMITS } from './spec.js';
import { MAX_TRUSTED_ROOT_LENGTH } from './trusted-root.js';

const text = (maxLength: number, description: string) => ({ type: 'string', minLength: 1, maxLength, description });
const trustedRoot = (description: string) => text(MAX_TRUSTED_ROOT_LENGTH, description);

export const COSIGN_AUTHORITY_SCHEMA = {
  type: 'object',
  description: 'cosign (Sigstore) signatures: legacy .sig tags and v3 bundle referrers. Exactly one of keys or keyless.',
  properties: {
    keys: {
      type: 'array', minItems: 1, maxItems: COSIGN_SPEC_LIMITS.keys,
      items: text(MAX_KEY_PEM_LENGTH, 'PEM public key (cosign.pub): ECDSA P-256/P-384/P-521, RSA 2048-8192, Ed25519.'),
      description: 'Keyed: a signature by any of these keys counts.',
    },
    keyless: {
      type: 'object', required: ['identities'],
      properties: {
        identities: {
          type: 'array', minItems: 1, maxItems: COSIGN_SPEC_LIMITS.identities,
          items: {
            type: 'object',
            properties: {
              issuer: text(COSIGN_SPEC_LIMITS.identityLength, 'OIDC issuer, exactly.'),
              issuerRegExp: text(MAX_PATTERN_LENGTH, 'OIDC issuer: RE2 pattern matching the whole value.'),
              subject: text(COSIGN_SPEC_LIMITS.identityLength, 'Certificate SAN (email or URI), exactly.'),
              subjectRegExp: text(MAX_PATTERN_LENGTH, 'Certificate SAN: RE2 pattern matching the whole value.'),
            },
          },
          description: 'Keyless: Fulcio certificates with one of these identities count (issuer or issuerRegExp, and subject or subjectRegExp).',
        },
        trustedRoot: trustedRoot('trusted_root.json of a private Sigstore deployment; default: the public-good root.'),
      },
    },
    tlog: {
      type: 'object',
      properties: {
        required: { type: 'boolean', default: true, description: 'A signature counts only with a transparency-log entry. false: keys signed offline only.' },
        trustedRoot: trustedRoot('Keys only: trusted_root.json whose Rekor keys a log entry is checked against.'),
      },
    },
    registry: {
      type: 'object',
      properties: {
        insecure: { type: 'boolean', default: false, description: 'Plain HTTP to the image\'s registry.' },
        caBundle: { type: 'string', maxLength: COSIGN_SPEC_LIMITS.caBundleLength, description: 'PEM CA certificates for the registry\'s TLS.' },
      },
    },
    minSignatures: { type: 'integer', minimum: 1, maximum: MAX_SIGNATURES, default: 1, description: 'Distinct signers (keys or identities) whose signatures must verify.' },
  },
} as const;
