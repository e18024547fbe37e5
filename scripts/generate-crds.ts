// Writes charts/trustgate/crds/*.yaml: both policy CRDs from one OpenAPI schema (and TrustRecord's) that mirrors
// what src/policy/parse.ts accepts, so `kubectl apply` refuses what trustgate would refuse.
// Structural schemas may not say additionalProperties: false beside properties; the API server
// prunes unknown fields instead and kubectl's strict field validation reports them.
//   npm run generate:crds      (test/unit/policy/crds.test.ts fails when the files drift)
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { POLICY_LIMITS as L } from '../src/policy/limits.js';
import { COSIGN_AUTHORITY_SCHEMA } from '../src/trust/cosign/schema.js';
import { NOTATION_AUTHORITY_SCHEMA } from '../src/trust/notation/schema.js';
import { RECORD_LIMITS } from '../src/trust/trust-state.js';

// The API server refuses objects past these bounds, so no tenant can make trustgate parse more
// than a few hundred keys per object (issue 9 item 6: 2,112 keys per object stalled admission).
const keyList = (maxItems: number) => ({ type: 'array', maxItems, items: { type: 'string', minLength: 1, maxLength: L.keyLength } });

/** Notary v1's settings: spec.trust, and an authority's notary. */
const NOTARY_SCHEMA = {
  type: 'object',
  properties: {
    server: { type: 'string', pattern: '^https://[^\\s/]+', maxLength: 2048, description: 'Notary server URL.' },
    caBundle: { type: 'string', maxLength: L.caBundleLength, description: 'PEM CA certificates for the Notary server.' },
    rootKeys: { ...keyList(L.rootKeys), description: 'Root pins: cert ID, canonical key ID, PEM public key, leaf or CA certificate.' },
    signers: {
      type: 'array', maxItems: L.signers, description: 'Delegations that must each have signed the digest.',
      items: {
        type: 'object', required: ['role'],
        properties: { role: { type: 'string', pattern: '^targets(/[-a-z0-9_]+)+$', maxLength: 255 }, keys: keyList(L.keysPerSigner) },
      },
    },
    allowUnsignedDigests: { type: 'boolean', default: false, description: 'Admit name@sha256 references without trust data, as docker does.' },
    trustOnFirstUse: { type: 'boolean', default: false, description: 'Trust the first root seen (no pins). A verify policy needs rootKeys, signers[].keys or this; trustgate refuses it otherwise.' },
  },
};

/**
 * The schema of each kind an authority may name (src/policy/authorities.ts registers their
 * parsers). A kind absent here is pruned by the API server, and the authority left names no kind:
 * trustgate refuses it.
 */
const AUTHORITY_KINDS = {
  // A copy: the YAML writer would otherwise make trust's fields an anchor and this an alias.
  notary: { ...structuredClone(NOTARY_SCHEMA), description: 'Notary v1 (Docker Content Trust): the fields of trust.' },
  cosign: structuredClone(COSIGN_AUTHORITY_SCHEMA),
  notation: structuredClone(NOTATION_AUTHORITY_SCHEMA),
};

export const SPEC_SCHEMA = {
  type: 'object',
  required: ['images'],
  properties: {
    images: {
      type: 'array', minItems: 1, maxItems: L.images,
      description: 'Normalised image name patterns: registry/path, * within one segment, ** across segments. See docs/policy.md.',
      items: { type: 'string', minLength: 1, maxLength: L.imageLength, pattern: '^[a-zA-Z0-9._\\-:\\[\\]*]+(/[a-zA-Z0-9._\\-:\\[\\]*]+)*$' },
    },
    action: { type: 'string', enum: ['verify', 'allow', 'deny'], default: 'verify', description: 'verify: require signatures (trust, or authorities); allow: no check; deny: never.' },
    mode: { type: 'string', enum: ['enforce', 'warn', 'audit'], default: 'enforce', description: 'What a failure does: enforce denies, warn admits with a warning, audit admits and records.' },
    mutate: { type: 'boolean', default: true, description: 'Rewrite verified pod images to tag@signed-digest.' },
    trust: { ...NOTARY_SCHEMA, description: 'How images are verified with Notary v1 (action: verify only): one Notary authority. Not together with authorities.' },
    authorities: {
      type: 'array', minItems: 1, maxItems: L.authorities,
      description: 'Ways an image may be verified (action: verify only), each of one kind of trust; require says how many must verify. Not together with trust. See docs/policy.md.',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string', maxLength: L.authorityNameLength, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', description: 'Names the authority in messages.' },
          ...AUTHORITY_KINDS,
        },
      },
    },
    require: { type: 'string', enum: ['any', 'all'], description: 'With authorities: any (default) admits when one verifies, all when every one does.' },
  },
};

const STATUS_SCHEMA = {
  type: 'object',
  properties: {
    observedGeneration: { type: 'integer', format: 'int64' },
    accepted: { type: 'boolean', description: 'Whether trustgate accepted this policy.' },
    message: { type: 'string', description: 'Why not, when it did not.' },
  },
};

const COLUMNS = [
  { name: 'Action', type: 'string', jsonPath: '.spec.action' },
  { name: 'Mode', type: 'string', jsonPath: '.spec.mode' },
  { name: 'Images', type: 'string', jsonPath: '.spec.images', priority: 1 },
  { name: 'Accepted', type: 'boolean', jsonPath: '.status.accepted' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

export function crd(kind: string, plural: string, scope: 'Cluster' | 'Namespaced', shortName: string): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.trustgate.dev` },
    spec: {
      group: 'trustgate.dev',
      scope,
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), shortNames: [shortName], categories: ['trustgate'] },
      versions: [{
        name: 'v1alpha1', served: true, storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: COLUMNS,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            description: `${kind}: which images must be signed, and by whom. See docs/policy.md.`,
            required: ['spec'],
            properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, spec: SPEC_SCHEMA, status: STATUS_SCHEMA },
          },
        },
      }],
    },
  };
}

/**
 * TrustRecord: what trustgate remembers of one repository on one trust server (ADR 0013), written
 * only by trustgate's service account in its own namespace. The bounds are src/trust/trust-state.ts
 * RECORD_LIMITS': the API server refuses a larger record before trustgate ever reads it.
 */
export function trustRecordCrd(): Record<string, unknown> {
  const spec = {
    type: 'object',
    required: ['server', 'gun', 'versions', 'lastSeen'],
    properties: {
      server: { type: 'string', maxLength: RECORD_LIMITS.name, description: 'The trust server (Notary) base URL.' },
      gun: { type: 'string', maxLength: RECORD_LIMITS.name, description: 'The repository (globally unique name).' },
      root: {
        type: 'object',
        required: ['data', 'version', 'sha256'],
        description: 'The root trusted on first use (policies with trustOnFirstUse); absent for pinned repositories.',
        properties: {
          data: { type: 'string', maxLength: Math.ceil(RECORD_LIMITS.rootBytes / 3) * 4, description: 'root.json, base64.' },
          version: { type: 'integer', minimum: 1 },
          sha256: { type: 'string', pattern: '^[a-f0-9]{64}$' },
        },
      },
      versions: {
        type: 'object', maxProperties: RECORD_LIMITS.roles,
        description: 'The highest version trusted of every role (the rollback floor).',
        additionalProperties: { type: 'integer', minimum: 0 },
      },
      lastSeen: { type: 'string', format: 'date-time', description: 'When a replica last verified the repository; records unseen for trustState.expireAfterSeconds are removed.' },
    },
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'trustrecords.trustgate.dev' },
    spec: {
      group: 'trustgate.dev',
      scope: 'Namespaced',
      names: { kind: 'TrustRecord', listKind: 'TrustRecordList', plural: 'trustrecords', singular: 'trustrecord', shortNames: ['tr'], categories: ['trustgate'] },
      versions: [{
        name: 'v1alpha1', served: true, storage: true,
        additionalPrinterColumns: [
          { name: 'Repository', type: 'string', jsonPath: '.spec.gun' },
          { name: 'Server', type: 'string', jsonPath: '.spec.server' },
          { name: 'Root', type: 'integer', jsonPath: '.spec.root.version', description: 'Version of the root trusted on first use.' },
          { name: 'Last-Seen', type: 'date', jsonPath: '.spec.lastSeen' },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
        schema: {
          openAPIV3Schema: {
            type: 'object',
            description: 'TrustRecord: a root trusted on first use and the rollback floor of one repository, kept by trustgate. See docs/adr/0013-durable-trust-state.md.',
            required: ['spec'],
            properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, spec },
          },
        },
      }],
    },
  };
}

export const CRD_FILES: Record<string, Record<string, unknown>> = {
  'clusterimagepolicies.yaml': crd('ClusterImagePolicy', 'clusterimagepolicies', 'Cluster', 'cip'),
  'imagepolicies.yaml': crd('ImagePolicy', 'imagepolicies', 'Namespaced', 'ip'),
  'trustrecords.yaml': trustRecordCrd(),
};

export function renderCrd(doc: Record<string, unknown>): string {
  return `# Generated by scripts/generate-crds.ts — do not edit; run npm run generate:crds.\n${stringify(doc, { lineWidth: 0 })}`;
}

if (process.argv[1]?.endsWith('generate-crds.js')) {
  const dir = path.resolve('charts/trustgate/crds');
  for (const [file, doc] of Object.entries(CRD_FILES)) writeFileSync(path.join(dir, file), renderCrd(doc));
  console.log(`wrote ${Object.keys(CRD_FILES).join(', ')} to ${dir}`);
}
