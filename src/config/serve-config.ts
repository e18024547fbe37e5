// The `trustgate serve` configuration file (docs/configuration.md documents every key; a test
// fails when one is missing there). Checked once at start, unknown keys rejected, then frozen.
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { canonicalRegistry } from '../reference/index.js';
import { Guard } from '../shared/guard.js';

export interface ServeConfig {
  /** HTTPS address, `host:port`. */
  readonly listen: { readonly host: string; readonly port: number };
  readonly tls: {
    readonly certFile: string;
    readonly keyFile: string;
    readonly reloadIntervalSeconds: number;
    /** CA of the client certificates /mutate and /validate require (kube-apiserver's); undefined: none required. */
    readonly clientCAFile: string | undefined;
    /** CN or DNS SAN a client certificate must carry; empty: any certificate from the CA. */
    readonly clientNames: readonly string[];
  };
  /** Plain-HTTP metrics address; undefined: /metrics is served on the HTTPS listener. */
  readonly metrics: { readonly host: string; readonly port: number } | undefined;
  readonly policies: { readonly files: readonly string[]; readonly reloadIntervalSeconds: number };
  /** The API server: policies from CRDs, pull-secret credentials, Events. Undefined: off. */
  readonly kubernetes:
    | {
        /** Undefined: the pod's service account (in-cluster). */
        readonly kubeconfig: string | undefined;
        readonly policies: boolean;
        readonly pullSecrets: boolean;
        readonly events: boolean;
        readonly credentialsSecret: { readonly namespace: string; readonly name: string } | undefined;
        /** Undefined: every namespace's; else pull secrets are read only in these namespaces. */
        readonly pullSecretNamespaces: readonly string[] | undefined;
        /** The namespaces the webhooks review (the chart's scope): Events are written only there. */
        readonly namespaces: NamespaceScope;
        /**
         * Notation trust stores from ConfigMaps (and Secrets, unless `secrets` is false) labelled
         * trustgate.dev/trust-store: "true" in `namespace`, trustgate's own: the only objects a
         * configMapRef/secretRef may name. Undefined: such refs are refused.
         */
        readonly trustStores: { readonly namespace: string; readonly secrets: boolean } | undefined;
      }
    | undefined;
  readonly defaultAction: 'allow' | 'deny';
  readonly mutateWorkloads: boolean;
  /** All images of one review verified within this; keep it under the webhook timeout. */
  readonly deadlineSeconds: number;
  readonly trust: {
    readonly requestTimeoutSeconds: number;
    /** Trust servers by registry host, instead of docker's default (`https://<registry>`). */
    readonly servers: Readonly<Record<string, string>>;
  };
  readonly cache: {
    readonly maxEntries: number;
    readonly maxBytes: number;
    readonly maxTtlSeconds: number;
    readonly negativeTtlSeconds: number;
    /** How long past its refresh an answer without freshness metadata (cosign, Notation) may bridge an outage (docs/adr/0014). */
    readonly staleForSeconds: number;
  };
  /** Where roots trusted on first use and rollback floors are kept (ADR 0013). */
  readonly trustState: TrustStateConfig;
  /** The background audit of running pods (docs/audit.md); undefined: off (always without `kubernetes`). */
  readonly audit: AuditConfig | undefined;
  readonly maxRequestBytes: number;
  /** What the request bodies of reviews in flight may hold together (src/server/body-budget.ts). */
  readonly maxBytesInFlight: number;
  readonly shutdownGraceSeconds: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Directory relative paths in the file are resolved against. */
  readonly baseDir: string;
}

/** The durable trust state: TrustRecord objects, a file, or this process's memory only. */
export interface TrustStateConfig {
  readonly store: 'kubernetes' | 'file' | 'memory';
  /** Namespace of the TrustRecord objects (store: kubernetes). */
  readonly namespace: string | undefined;
  /** Path of the state file (store: file). */
  readonly file: string | undefined;
  readonly maxFileBytes: number;
  readonly maxRecords: number;
  readonly expireAfterSeconds: number;
  readonly touchIntervalSeconds: number;
  readonly writesPerSecond: number;
  readonly writeBurst: number;
  readonly refreshIntervalSeconds: number;
}

/** The audit of running pods written as PolicyReports (docs/audit.md). */
export interface AuditConfig {
  readonly intervalSeconds: number;
  /** Every namespace, not only those the webhooks review. */
  readonly allNamespaces: boolean;
  /** New verifications a round starts per second (each may fetch from a trust server). */
  readonly trustLookupsPerSecond: number;
  /** Requests to the API server per second (lists, report writes, the Lease). */
  readonly apiRequestsPerSecond: number;
  /** Running pods decided per round; a round that finds more stops and says so. */
  readonly maxPods: number;
  /** Results per PolicyReport object; a namespace with more gets several objects. */
  readonly maxResultsPerReport: number;
  /** Namespace of the Lease that makes one replica the auditing one (trustgate's own). */
  readonly leaseNamespace: string;
  readonly leaseDurationSeconds: number;
}

/** Which namespaces the webhook configurations send for review, as the chart sets them up. */
export interface NamespaceScope {
  /** optIn: labelled trustgate.dev/enforce=true; clusterWide: all but those labelled "false". */
  readonly scope: 'optIn' | 'clusterWide';
  /** Never reviewed, whatever their labels; always includes kube-system. */
  readonly excluded: readonly string[];
}

/** Every key with its default, as documented. */
export const CONFIG_KEYS = [
  'listen', 'tls', 'tls.certFile', 'tls.keyFile', 'tls.reloadIntervalSeconds', 'tls.clientCAFile', 'tls.clientNames', 'metrics', 'metrics.listen',
  'policies', 'policies.files', 'policies.reloadIntervalSeconds', 'kubernetes', 'kubernetes.kubeconfig', 'kubernetes.policies',
  'kubernetes.pullSecrets', 'kubernetes.events', 'kubernetes.credentialsSecret', 'kubernetes.pullSecretNamespaces', 'kubernetes.namespaces', 'kubernetes.namespaces.scope',
  'kubernetes.namespaces.excluded', 'kubernetes.trustStores', 'kubernetes.trustStores.namespace', 'kubernetes.trustStores.secrets', 'defaultAction', 'mutateWorkloads', 'deadlineSeconds',
  'trust', 'trust.requestTimeoutSeconds', 'trust.servers', 'cache', 'cache.maxEntries', 'cache.maxBytes',
  'cache.maxTtlSeconds', 'cache.negativeTtlSeconds', 'cache.staleForSeconds', 'trustState', 'trustState.store', 'trustState.namespace', 'trustState.file',
  'trustState.maxFileBytes', 'trustState.maxRecords', 'trustState.expireAfterSeconds', 'trustState.touchIntervalSeconds',
  'trustState.writesPerSecond', 'trustState.writeBurst', 'trustState.refreshIntervalSeconds',
  'audit', 'audit.enabled', 'audit.intervalSeconds', 'audit.allNamespaces', 'audit.trustLookupsPerSecond', 'audit.apiRequestsPerSecond', 'audit.maxPods',
  'audit.maxResultsPerReport', 'audit.leaseNamespace', 'audit.leaseDurationSeconds', 'maxRequestBytes', 'maxBytesInFlight', 'shutdownGraceSeconds', 'logLevel',
] as const;

export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG' as const;
  constructor(readonly source: string, readonly problems: readonly string[]) {
    super(`${source}: invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** @throws ConfigError with every problem and its key path. */
export function parseServeConfig(text: string, source: string): ServeConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (error) {
    throw new ConfigError(source, [`not valid YAML: ${(error as Error).message.split('\n')[0] ?? ''}`]);
  }
  const g = new Guard(1000);
  const c = g.object(doc ?? {}, 'config');
  g.onlyKeys(c, topLevel(), 'config');
  const num = (v: unknown, p: string, def: number, min: number, max: number): number => {
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      g.fail(p, `expected a number from ${min} to ${max}`);
      return def;
    }
    return v;
  };
  const listen = address(g, c?.listen ?? '127.0.0.1:8443', 'config.listen');
  const tls = g.object(c?.tls, 'config.tls');
  g.onlyKeys(tls, ['certFile', 'keyFile', 'reloadIntervalSeconds', 'clientCAFile', 'clientNames'], 'config.tls');
  const certFile = g.string(tls?.certFile, 'config.tls.certFile');
  const keyFile = g.string(tls?.keyFile, 'config.tls.keyFile');
  const clientCAFile = g.optional(tls?.clientCAFile, (v) => g.string(v, 'config.tls.clientCAFile'));
  const clientNames = clientNamesOf(g, tls?.clientNames, clientCAFile !== undefined);
  const metricsObj = g.optional(c?.metrics, (v) => g.object(v, 'config.metrics'));
  g.onlyKeys(metricsObj, ['listen'], 'config.metrics');
  const metrics = metricsObj ? address(g, metricsObj.listen, 'config.metrics.listen') : undefined;
  const kube = g.optional(c?.kubernetes, (v) => g.object(v, 'config.kubernetes'));
  g.onlyKeys(kube, ['kubeconfig', 'policies', 'pullSecrets', 'events', 'credentialsSecret', 'pullSecretNamespaces', 'namespaces', 'trustStores'], 'config.kubernetes');
  const flag = (key: string, def: boolean) => g.optional(kube?.[key], (v) => g.boolean(v, `config.kubernetes.${key}`)) ?? def;
  const credentialsSecret = g.optional(kube?.credentialsSecret, (v) => {
    const o = g.object(v, 'config.kubernetes.credentialsSecret');
    g.onlyKeys(o, ['namespace', 'name'], 'config.kubernetes.credentialsSecret');
    const namespace = g.string(o?.namespace, 'config.kubernetes.credentialsSecret.namespace');
    const name = g.string(o?.name, 'config.kubernetes.credentialsSecret.name');
    return namespace !== undefined && name !== undefined ? { namespace, name } : undefined;
  });
  const pullSecretNamespaces = g.optional(kube?.pullSecretNamespaces, (v) => g.stringArray(v, 'config.kubernetes.pullSecretNamespaces'));
  pullSecretNamespaces?.forEach((ns, i) => {
    if (ns.length > 63 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns)) g.fail(`config.kubernetes.pullSecretNamespaces[${i}]`, 'must be a namespace name (DNS-1123 label)');
  });
  const namespaces = namespaceScope(g, kube?.namespaces);
  const trustStores = g.optional(kube?.trustStores, (v) => {
    const o = g.object(v, 'config.kubernetes.trustStores');
    g.onlyKeys(o, ['namespace', 'secrets'], 'config.kubernetes.trustStores');
    const ns = g.string(o?.namespace, 'config.kubernetes.trustStores.namespace');
    if (ns !== undefined && !NAMESPACE_NAME.test(ns)) g.fail('config.kubernetes.trustStores.namespace', 'must be a namespace name (DNS-1123 label)');
    const secrets = g.optional(o?.secrets, (b) => g.boolean(b, 'config.kubernetes.trustStores.secrets')) ?? true;
    return ns === undefined ? undefined : { namespace: ns, secrets };
  });
  const kubernetes = kube
    ? { kubeconfig: g.optional(kube.kubeconfig, (v) => g.string(v, 'config.kubernetes.kubeconfig')), policies: flag('policies', true), pullSecrets: flag('pullSecrets', true), events: flag('events', true), credentialsSecret, pullSecretNamespaces, namespaces, trustStores }
    : undefined;
  const policiesObj = g.optional(c?.policies, (v) => g.object(v, 'config.policies'));
  if (!policiesObj && !kubernetes?.policies) g.fail('config.policies', 'required unless kubernetes.policies is on');
  g.onlyKeys(policiesObj, ['files', 'reloadIntervalSeconds'], 'config.policies');
  const files = policiesObj ? g.stringArray(policiesObj.files, 'config.policies.files') : [];
  if (policiesObj && files?.length === 0) g.fail('config.policies.files', 'must list at least one file or pattern');
  const defaultAction = g.optional(c?.defaultAction, (v) => g.oneOf(v, ['allow', 'deny'] as const, 'config.defaultAction')) ?? 'deny';
  const mutateWorkloads = g.optional(c?.mutateWorkloads, (v) => g.boolean(v, 'config.mutateWorkloads')) ?? false;
  const trust = g.optional(c?.trust, (v) => g.object(v, 'config.trust'));
  g.onlyKeys(trust, ['requestTimeoutSeconds', 'servers'], 'config.trust');
  const servers = g.optional(trust?.servers, (v) => g.map(v, 'config.trust.servers', (s, p) => {
    const url = g.string(s, p);
    return url !== undefined && !url.startsWith('https://') ? g.fail(p, 'must be an https:// URL') : url?.replace(/\/+$/, '');
  })) ?? new Map<string, string>();
  const serversByRegistry = registryKeys(g, servers, 'config.trust.servers');
  const cache = g.optional(c?.cache, (v) => g.object(v, 'config.cache'));
  g.onlyKeys(cache, ['maxEntries', 'maxBytes', 'maxTtlSeconds', 'negativeTtlSeconds', 'staleForSeconds'], 'config.cache');
  const baseDir = path.dirname(path.resolve(source));
  const trustState = trustStateOf(g, c?.trustState, num, { kubernetes: kubernetes !== undefined, baseDir });
  const audit = auditOf(g, c?.audit, num, { kubernetes: kubernetes !== undefined, namespace: trustState.namespace });
  const logLevel = g.optional(c?.logLevel, (v) => g.oneOf(v, ['debug', 'info', 'warn', 'error'] as const, 'config.logLevel')) ?? 'info';

  const config: ServeConfig = {
    listen: listen ?? { host: '127.0.0.1', port: 8443 },
    tls: {
      certFile: path.resolve(baseDir, certFile ?? ''),
      keyFile: path.resolve(baseDir, keyFile ?? ''),
      reloadIntervalSeconds: num(tls?.reloadIntervalSeconds, 'config.tls.reloadIntervalSeconds', 10, 1, 3600),
      clientCAFile: clientCAFile === undefined ? undefined : path.resolve(baseDir, clientCAFile),
      clientNames,
    },
    metrics,
    policies: { files: files ?? [], reloadIntervalSeconds: num(policiesObj?.reloadIntervalSeconds, 'config.policies.reloadIntervalSeconds', 2, 0.1, 3600) },
    kubernetes: kubernetes && { ...kubernetes, kubeconfig: kubernetes.kubeconfig === undefined ? undefined : path.resolve(baseDir, kubernetes.kubeconfig) },
    defaultAction,
    mutateWorkloads,
    deadlineSeconds: num(c?.deadlineSeconds, 'config.deadlineSeconds', 9, 0.1, 29),
    trust: { requestTimeoutSeconds: num(trust?.requestTimeoutSeconds, 'config.trust.requestTimeoutSeconds', 5, 0.1, 60), servers: Object.fromEntries(serversByRegistry) },
    cache: {
      maxEntries: num(cache?.maxEntries, 'config.cache.maxEntries', 10_000, 1, 10_000_000),
      maxBytes: num(cache?.maxBytes, 'config.cache.maxBytes', 64 * 1024 * 1024, 1024, 16 * 1024 * 1024 * 1024),
      maxTtlSeconds: num(cache?.maxTtlSeconds, 'config.cache.maxTtlSeconds', 300, 0, 86_400),
      negativeTtlSeconds: num(cache?.negativeTtlSeconds, 'config.cache.negativeTtlSeconds', 10, 0, 3600),
      // Minutes by default, a day at most: these kinds carry no expiry to bound a stale answer by.
      staleForSeconds: num(cache?.staleForSeconds, 'config.cache.staleForSeconds', 300, 0, 86_400),
    },
    trustState,
    audit,
    maxRequestBytes: num(c?.maxRequestBytes, 'config.maxRequestBytes', 4 * 1024 * 1024, 64 * 1024, 64 * 1024 * 1024),
    maxBytesInFlight: num(c?.maxBytesInFlight, 'config.maxBytesInFlight', 32 * 1024 * 1024, 64 * 1024, 16 * 1024 * 1024 * 1024),
    shutdownGraceSeconds: num(c?.shutdownGraceSeconds, 'config.shutdownGraceSeconds', 20, 0, 600),
    logLevel,
    baseDir,
  };
  // Else a body of the largest size accepted could never be reviewed (it is charged twice its size).
  if (config.maxBytesInFlight < 2 * config.maxRequestBytes) g.fail('config.maxBytesInFlight', `must be at least twice maxRequestBytes (${2 * config.maxRequestBytes})`);
  if (!g.ok) throw new ConfigError(source, g.problems);
  return deepFreeze(config);
}

const TRUST_STATE_KEYS = CONFIG_KEYS.filter((k) => k.startsWith('trustState.')).map((k) => k.slice('trustState.'.length));

function trustStateOf(
  g: Guard,
  value: unknown,
  num: (v: unknown, p: string, def: number, min: number, max: number) => number,
  context: { kubernetes: boolean; baseDir: string },
): TrustStateConfig {
  const o = g.optional(value, (v) => g.object(v, 'config.trustState'));
  g.onlyKeys(o, TRUST_STATE_KEYS, 'config.trustState');
  const store = g.optional(o?.store, (v) => g.oneOf(v, ['kubernetes', 'file', 'memory'] as const, 'config.trustState.store')) ?? 'memory';
  const namespace = g.optional(o?.namespace, (v) => g.string(v, 'config.trustState.namespace'));
  const file = g.optional(o?.file, (v) => g.string(v, 'config.trustState.file'));
  if (store === 'kubernetes' && !context.kubernetes) g.fail('config.trustState.store', 'kubernetes needs the kubernetes section');
  if (store === 'kubernetes' && namespace === undefined) g.fail('config.trustState.namespace', 'required with store: kubernetes (trustgate\'s own namespace)');
  if (namespace !== undefined && !NAMESPACE_NAME.test(namespace)) g.fail('config.trustState.namespace', 'not a namespace name');
  if (store === 'file' && file === undefined) g.fail('config.trustState.file', 'required with store: file');
  const expire = num(o?.expireAfterSeconds, 'config.trustState.expireAfterSeconds', 90 * 86_400, 3600, 10 * 365 * 86_400);
  const touch = num(o?.touchIntervalSeconds, 'config.trustState.touchIntervalSeconds', 3600, 1, 86_400);
  // A record in use must be touched several times before it could expire.
  if (expire < 4 * touch) g.fail('config.trustState.expireAfterSeconds', `must be at least four times touchIntervalSeconds (${4 * touch})`);
  return {
    store,
    namespace,
    file: file === undefined ? undefined : path.resolve(context.baseDir, file),
    maxFileBytes: num(o?.maxFileBytes, 'config.trustState.maxFileBytes', 64 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
    maxRecords: num(o?.maxRecords, 'config.trustState.maxRecords', 10_000, 1, 1_000_000),
    expireAfterSeconds: expire,
    touchIntervalSeconds: touch,
    writesPerSecond: num(o?.writesPerSecond, 'config.trustState.writesPerSecond', 5, 0.1, 1000),
    writeBurst: num(o?.writeBurst, 'config.trustState.writeBurst', 20, 1, 10_000),
    refreshIntervalSeconds: num(o?.refreshIntervalSeconds, 'config.trustState.refreshIntervalSeconds', 60, 1, 3600),
  };
}

const AUDIT_KEYS = CONFIG_KEYS.filter((k) => k.startsWith('audit.')).map((k) => k.slice('audit.'.length));

/** On by default with the kubernetes section, off (and refused when asked for) without it. */
function auditOf(
  g: Guard,
  value: unknown,
  num: (v: unknown, p: string, def: number, min: number, max: number) => number,
  context: { kubernetes: boolean; namespace: string | undefined },
): AuditConfig | undefined {
  const o = g.optional(value, (v) => g.object(v, 'config.audit'));
  g.onlyKeys(o, AUDIT_KEYS, 'config.audit');
  const enabled = g.optional(o?.enabled, (v) => g.boolean(v, 'config.audit.enabled'));
  if (enabled === true && !context.kubernetes) g.fail('config.audit.enabled', 'the audit needs the kubernetes section (it lists pods and writes PolicyReports)');
  const leaseNamespace = g.optional(o?.leaseNamespace, (v) => g.string(v, 'config.audit.leaseNamespace')) ?? context.namespace ?? 'trustgate';
  if (!NAMESPACE_NAME.test(leaseNamespace)) g.fail('config.audit.leaseNamespace', 'not a namespace name');
  const leaseDurationSeconds = num(o?.leaseDurationSeconds, 'config.audit.leaseDurationSeconds', 15, 2, 300);
  const intervalSeconds = num(o?.intervalSeconds, 'config.audit.intervalSeconds', 300, 1, 86_400);
  const config: AuditConfig = {
    intervalSeconds,
    allNamespaces: g.optional(o?.allNamespaces, (v) => g.boolean(v, 'config.audit.allNamespaces')) ?? false,
    trustLookupsPerSecond: num(o?.trustLookupsPerSecond, 'config.audit.trustLookupsPerSecond', 20, 0.1, 10_000),
    apiRequestsPerSecond: num(o?.apiRequestsPerSecond, 'config.audit.apiRequestsPerSecond', 10, 0.1, 10_000),
    maxPods: num(o?.maxPods, 'config.audit.maxPods', 10_000, 1, 1_000_000),
    maxResultsPerReport: num(o?.maxResultsPerReport, 'config.audit.maxResultsPerReport', 200, 1, 1000),
    leaseNamespace,
    leaseDurationSeconds,
  };
  if (!Number.isInteger(config.maxPods)) g.fail('config.audit.maxPods', 'must be a whole number');
  if (!Number.isInteger(config.maxResultsPerReport)) g.fail('config.audit.maxResultsPerReport', 'must be a whole number');
  return context.kubernetes && enabled !== false ? config : undefined;
}

const MAX_CLIENT_NAMES = 100;

function clientNamesOf(g: Guard, value: unknown, haveCa: boolean): string[] {
  const names = g.optional(value, (v) => g.stringArray(v, 'config.tls.clientNames')) ?? [];
  if (names.length > 0 && !haveCa) g.fail('config.tls.clientNames', 'needs tls.clientCAFile (names are checked on certificates from that CA)');
  if (names.length > MAX_CLIENT_NAMES) g.fail('config.tls.clientNames', `at most ${MAX_CLIENT_NAMES} names`);
  names.forEach((n, i) => {
    if (n === '') g.fail(`config.tls.clientNames[${i}]`, 'must not be empty');
  });
  return names;
}

// DNS-1123 label: what a namespace name may be.
const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function namespaceScope(g: Guard, value: unknown): NamespaceScope {
  const o = g.optional(value, (v) => g.object(v, 'config.kubernetes.namespaces'));
  g.onlyKeys(o, ['scope', 'excluded'], 'config.kubernetes.namespaces');
  const scope = g.optional(o?.scope, (v) => g.oneOf(v, ['optIn', 'clusterWide'] as const, 'config.kubernetes.namespaces.scope')) ?? 'optIn';
  const excluded = g.optional(o?.excluded, (v) => g.stringArray(v, 'config.kubernetes.namespaces.excluded')) ?? [];
  excluded.forEach((n, i) => {
    if (!NAMESPACE_NAME.test(n)) g.fail(`config.kubernetes.namespaces.excluded[${i}]`, 'not a namespace name');
  });
  // The chart never reviews kube-system: neither does this, whatever the file says.
  return { scope, excluded: [...new Set(['kube-system', ...excluded])] };
}

function topLevel(): string[] {
  return CONFIG_KEYS.filter((k) => !k.includes('.'));
}

function address(g: Guard, value: unknown, p: string): { host: string; port: number } | undefined {
  const text = g.string(value, p);
  const m = text === undefined ? null : /^(\[[0-9a-fA-F:]+\]|[^:[\]]+):(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  if (text !== undefined && (!m || port > 65535)) return g.fail(p, 'expected host:port');
  return m ? { host: m[1]!.replace(/^\[|\]$/g, ''), port } : undefined;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * Keys by canonical registry name (reference/host.ts), as images are looked up: every spelling of
 * a registry finds its entry. Two keys for one registry are an error, not a silent choice.
 */
function registryKeys<T>(g: Guard, byHost: ReadonlyMap<string, T>, path: string): Map<string, T> {
  const out = new Map<string, T>();
  const spelledAs = new Map<string, string>();
  for (const [key, value] of byHost) {
    const canonical = canonicalRegistry(key);
    if ('problem' in canonical) {
      g.fail(`${path}[${JSON.stringify(key)}]`, canonical.problem);
      continue;
    }
    const earlier = spelledAs.get(canonical.host);
    if (earlier !== undefined) g.fail(`${path}[${JSON.stringify(key)}]`, `names the same registry as ${JSON.stringify(earlier)} (${canonical.host})`);
    spelledAs.set(canonical.host, key);
    out.set(canonical.host, value);
  }
  return out;
}
