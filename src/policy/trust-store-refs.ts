// A Notation authority's trust stores may name a ConfigMap or a Secret instead of giving their
// certificates inline (docs/policy.md "Trust stores from ConfigMaps and Secrets"). The refs are
// resolved here, before the policy is parsed, into `certificates`: the parser only ever sees
// inline PEM. Where refs come from (the API server's labelled objects in trustgate's own
// namespace, src/kube/trust-stores.ts) is the caller's; without a source, as with
// policies.files, a ref is refused. Pure: objects in, spec and problems out.
import { X509Certificate } from 'node:crypto';

/** Bounds on refs and on what a referenced object may bring into a policy. */
export const TRUST_STORE_REF_LIMITS = {
  /** Refs one policy may hold (every authority's together). */
  refsPerPolicy: 32,
  /** Trust stores looked at per authority (more are the parser's to refuse). */
  storesPerAuthority: 64,
  /** Certificate text one object may bring (PEM, every key together). */
  objectCertificateBytes: 256 * 1024,
  /** Keys of one object looked at. */
  keysPerObject: 64,
} as const;

/** The label an object must carry to be read at all, and its value. */
export const TRUST_STORE_LABEL = 'trustgate.dev/trust-store';

export type TrustStoreObjectKind = 'ConfigMap' | 'Secret';

/** One labelled object as the source holds it: its certificates by key, nothing else of it. */
export interface TrustStoreObject {
  /** resourceVersion: a policy naming it is compiled again when it changes. */
  readonly version: string;
  /** Every key's certificates as PEM (CERTIFICATE blocks only); undefined for a key whose value holds none. */
  readonly certificates: ReadonlyMap<string, string | undefined>;
  /** Every key's certificates concatenated in key order, made once: what a ref without `key` gets. */
  readonly all: string;
  /** Why the object cannot be used (too large, too many keys); never any of its content. */
  readonly problem: string | undefined;
}

/** Where refs are resolved: trustgate's namespace's labelled objects, or nowhere (policies.files). */
export interface TrustStoreSource {
  readonly namespace: string;
  /** The kinds read at all. */
  readonly kinds: ReadonlySet<TrustStoreObjectKind>;
  get(kind: TrustStoreObjectKind, name: string): TrustStoreObject | undefined;
}

export interface ResolvedRefs {
  /** The spec with every ref replaced by `certificates` (the same object when there are none). */
  readonly spec: unknown;
  /** Every ref's problem with its field path; the policy is refused when there is any. */
  readonly problems: readonly string[];
  /** What the result was built from (`Secret/ops-certs@123`), for recompiling when it changes. */
  readonly inputs: readonly string[];
}

const MAX_PROBLEMS = 20;
const REF_KEYS = { configMapRef: 'ConfigMap', secretRef: 'Secret' } as const;
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const DATA_KEY = /^[-._a-zA-Z0-9]{1,253}$/;

/**
 * Replaces each `configMapRef: {name[, key]}` / `secretRef: {name[, key]}` of
 * `spec.authorities[i].notation.trustStores[j]` by `certificates`: the named key's PEM
 * certificates, or every key's that holds any, concatenated in key order. Only objects `source`
 * has are read (it holds only labelled ones, of one namespace); a missing one is refused without
 * saying whether it exists unlabelled, so no policy can probe trustgate's namespace.
 */
export function resolveTrustStoreRefs(spec: unknown, source: TrustStoreSource | undefined): ResolvedRefs {
  const authorities = arrayOf(field(spec, 'authorities'));
  if (!authorities) return { spec, problems: [], inputs: [] };
  const problems: string[] = [];
  const inputs: string[] = [];
  let refs = 0;
  let changed = false;
  const resolved = authorities.map((authority, i) => {
    const notation = field(authority, 'notation');
    const stores = arrayOf(field(notation, 'trustStores'));
    if (!stores) return authority;
    let storesChanged = false;
    const next = stores.map((store, j) => {
      if (j >= TRUST_STORE_REF_LIMITS.storesPerAuthority) return store;
      const path = `spec.authorities[${i}].notation.trustStores[${j}]`;
      const refKeys = (Object.keys(REF_KEYS) as (keyof typeof REF_KEYS)[]).filter((k) => field(store, k) !== undefined);
      if (refKeys.length === 0) return store;
      storesChanged = true;
      if (refKeys.length > 1 || field(store, 'certificates') !== undefined) {
        problems.push(`${path}: give one of certificates, configMapRef or secretRef`);
        return store;
      }
      const refKey = refKeys[0]!;
      if (++refs > TRUST_STORE_REF_LIMITS.refsPerPolicy) {
        if (refs === TRUST_STORE_REF_LIMITS.refsPerPolicy + 1) problems.push(`${path}.${refKey}: more than ${TRUST_STORE_REF_LIMITS.refsPerPolicy} configMapRef/secretRef in one policy`);
        return store;
      }
      const answer = resolveRef(REF_KEYS[refKey], field(store, refKey), `${path}.${refKey}`, source);
      if ('problem' in answer) {
        problems.push(answer.problem);
        return store;
      }
      inputs.push(answer.input);
      const rest = Object.fromEntries(Object.entries(store as Record<string, unknown>).filter(([k]) => k !== refKey));
      return { ...rest, certificates: answer.certificates };
    });
    if (!storesChanged) return authority;
    changed = true;
    return { ...(authority as Record<string, unknown>), notation: { ...(notation as Record<string, unknown>), trustStores: next } };
  });
  // As many as a policy's status shows (Guard's 20), then how many more.
  const shown = problems.length > MAX_PROBLEMS ? [...problems.slice(0, MAX_PROBLEMS), `… and ${problems.length - MAX_PROBLEMS} more trust store ref problems`] : problems;
  return { spec: changed ? { ...(spec as Record<string, unknown>), authorities: resolved } : spec, problems: shown, inputs };
}

function resolveRef(kind: TrustStoreObjectKind, ref: unknown, path: string, source: TrustStoreSource | undefined): { certificates: string; input: string } | { problem: string } {
  if (typeof ref !== 'object' || ref === null || Array.isArray(ref)) return { problem: `${path}: expected {name, key}` };
  const { name, key, ...unknown } = ref as Record<string, unknown>;
  const extra = Object.keys(unknown);
  if (extra.length > 0) return { problem: `${path}.${extra[0]!.slice(0, 64)}: unknown field (a ref has name and, optionally, key; the namespace is always trustgate's own)` };
  if (typeof name !== 'string' || !OBJECT_NAME.test(name)) return { problem: `${path}.name: must be the name of a ${kind} (a DNS-1123 subdomain)` };
  if (key !== undefined && (typeof key !== 'string' || !DATA_KEY.test(key))) return { problem: `${path}.key: must be a ${kind} key ([-._a-zA-Z0-9]+)` };
  if (!source) {
    return { problem: `${path}: trust stores from ${kind}s are read only from the API server (kubernetes.policies); in policy files give the certificates inline` };
  }
  if (!source.kinds.has(kind)) return { problem: `${path}: trust stores from ${kind}s are not read by this trustgate (kubernetes.trustStores.secrets: false; the chart's trustStores.secrets); use a configMapRef` };
  const object = source.get(kind, name);
  const where = `${kind} "${name}" in namespace ${source.namespace}`;
  if (!object) return { problem: `${path}: no ${where} labelled ${TRUST_STORE_LABEL}: "true" (only such objects of trustgate's namespace are read)` };
  if (object.problem !== undefined) return { problem: `${path}: ${where}: ${object.problem}` };
  let pem: string | undefined;
  if (key !== undefined) {
    pem = object.certificates.get(key);
    if (pem === undefined) return { problem: `${path}: ${where} has no key ${JSON.stringify(key)} holding PEM or DER certificates` };
  } else {
    pem = object.all;
    if (pem === '') return { problem: `${path}: ${where} holds no PEM or DER certificates` };
  }
  return { certificates: pem, input: `${kind}/${name}${key === undefined ? '' : `#${key}`}@${object.version}` };
}

/** Whether a raw spec names any configMapRef or secretRef (resolving is needed at all). */
export function hasTrustStoreRefs(spec: unknown): boolean {
  const authorities = field(spec, 'authorities');
  if (!Array.isArray(authorities)) return false;
  return authorities.some((a) => {
    const stores = field(field(a, 'notation'), 'trustStores');
    return Array.isArray(stores) && stores.some((s) => field(s, 'configMapRef') !== undefined || field(s, 'secretRef') !== undefined);
  });
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\s]*?)-----END \1-----/g;

/**
 * A certificate file's or value's certificates as PEM, read as notation-core-go x509.ReadCertificateFile
 * reads one: PEM when it has a PEM block (every block must be a CERTIFICATE), else DER, one or
 * more certificates back to back. Undefined when it is neither: a key, a token, a kubeconfig.
 * Only the certificates' own bytes are returned, re-encoded, never the rest of the input.
 */
export function certificatesPem(bytes: Uint8Array): string | undefined {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = buffer.toString('latin1');
  if (text.includes('-----BEGIN ')) {
    const blocks: string[] = [];
    for (const m of text.matchAll(PEM_BLOCK)) {
      if (m[1] !== 'CERTIFICATE') return undefined;
      const der = Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64');
      if (!isCertificate(der)) return undefined;
      blocks.push(toPem(der));
    }
    // A BEGIN without its END is not a PEM file; text around the blocks is skipped, as pem.Decode does.
    const rest = text.replace(PEM_BLOCK, '');
    if (blocks.length === 0 || /-----BEGIN /.test(rest)) return undefined;
    return blocks.join('');
  }
  const ders = splitDer(buffer);
  return ders && ders.length > 0 && ders.every(isCertificate) ? ders.map(toPem).join('') : undefined;
}

/**
 * Whether DER bytes are an X.509 certificate: a DER private key or any other SEQUENCE is not
 * (x509.ParseCertificates refuses them too), so nothing but certificates is ever taken.
 */
function isCertificate(der: Buffer): boolean {
  try {
    new X509Certificate(der);
    return true;
  } catch {
    return false;
  }
}

/** Back-to-back DER SEQUENCEs (Go's x509.ParseCertificates input); undefined when it is not that. */
function splitDer(buffer: Buffer): Buffer[] | undefined {
  const out: Buffer[] = [];
  let at = 0;
  while (at < buffer.length) {
    if (buffer[at] !== 0x30 || at + 2 > buffer.length) return undefined;
    const first = buffer[at + 1]!;
    let length = first;
    let header = 2;
    if (first & 0x80) {
      const n = first & 0x7f;
      if (n === 0 || n > 4 || at + 2 + n > buffer.length) return undefined;
      length = 0;
      for (let i = 0; i < n; i++) length = length * 256 + buffer[at + 2 + i]!;
      header = 2 + n;
    }
    if (at + header + length > buffer.length) return undefined;
    out.push(buffer.subarray(at, at + header + length));
    at += header + length;
  }
  return out;
}

function toPem(der: Buffer): string {
  const base64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`;
}

function arrayOf(value: unknown): readonly unknown[] | undefined {
  return Array.isArray(value) ? (value as unknown[]) : undefined;
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
}
