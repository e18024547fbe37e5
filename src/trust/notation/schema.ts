// The CRD schema of a Notation authority (`spec.authorities[i].notation`), for
// scripts/generate-crds.ts: the API server refuses objects past these bounds before trustgate
// reads them. The same bounds as the parser (./spec.ts, ./trust-store.ts).
//
// `trustPolicy` is kept whole (x-kubernetes-preserve-unknown-fields), the parser being its check:
// it is a trustpolicy.json as it is, an object or its JSON text, which a structural schema cannot
// type; notation's rules (scope grammar, DNs, override, overlapping identities) are beyond
// OpenAPI anyway; and a typed schema would make the API server silently prune a misspelled field
// (`trustedIdentity`) that trustgate must see to refuse.
import { NOTATION_SPEC_LIMITS } from './spec.js';
import { TRUST_POLICY_LIMITS } from './trust-policy.js';
import { TRUST_STORE_LIMITS } from './trust-store.js';

const objectRef = (what: string) => ({
  type: 'object', required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 253, description: `The ${what}'s name, in trustgate's namespace.` },
    key: { type: 'string', minLength: 1, maxLength: 253, pattern: '^[-._a-zA-Z0-9]+$', description: `One key of the ${what}; without it, every key holding certificates, in key order.` },
  },
  description: `The certificates of a ${what} in trustgate's own namespace labelled trustgate.dev/trust-store: "true" (read by the cluster side only; src/policy/trust-store-refs.ts).`,
});

export const NOTATION_AUTHORITY_SCHEMA = {
  type: 'object',
  required: ['trustPolicy'],
  description: 'Notation (Notary Project) signatures, verified as notation does with a trustpolicy.json and its trust stores.',
  properties: {
    trustPolicy: {
      'x-kubernetes-preserve-unknown-fields': true,
      description: `A Notation trustpolicy.json (version "1.0"), as an object or its JSON text (at most ${TRUST_POLICY_LIMITS.length} characters); checked by trustgate as notation checks it.`,
    },
    trustStores: {
      type: 'array', maxItems: NOTATION_SPEC_LIMITS.trustStores,
      description: 'Every trust store the statements name, and no other: certificates inline, or from a labelled ConfigMap or Secret.',
      items: {
        type: 'object', required: ['name'],
        properties: {
          name: { type: 'string', maxLength: 160, pattern: '^(ca|signingAuthority|tsa):[a-zA-Z0-9_.-]+$', description: 'type:name as the trust policy names it, e.g. ca:acme.' },
          certificates: { type: 'string', minLength: 1, maxLength: TRUST_STORE_LIMITS.length, description: `PEM certificates (at most ${TRUST_STORE_LIMITS.certificates}).` },
          configMapRef: objectRef('ConfigMap'),
          secretRef: objectRef('Secret'),
        },
      },
    },
    registry: {
      type: 'object',
      properties: {
        insecure: { type: 'boolean', default: false, description: 'Plain HTTP to the image\'s registry.' },
        caBundle: { type: 'string', maxLength: 65_536, description: 'PEM CA certificates for the registry\'s TLS.' },
      },
    },
  },
} as const;
