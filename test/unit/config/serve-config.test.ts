import { readFileSync } from 'node:fs';
import { CONFIG_KEYS, ConfigError, parseServeConfig } from '../../../src/config/index.js';

const minimal = 'tls: {certFile: s.crt, keyFile: s.key}\npolicies: {files: ["policies/*.yaml"]}\n';

describe('parseServeConfig', () => {
  it('fills documented defaults and resolves nothing it need not', () => {
    const c = parseServeConfig(minimal, '/etc/trustgate/config.yaml');
    expect(c).toMatchObject({
      listen: { host: '127.0.0.1', port: 8443 },
      metrics: undefined,
      defaultAction: 'deny',
      mutateWorkloads: false,
      deadlineSeconds: 9,
      maxRequestBytes: 4 * 1024 * 1024,
      maxBytesInFlight: 32 * 1024 * 1024,
      cache: { maxEntries: 10_000, maxTtlSeconds: 300, negativeTtlSeconds: 10, staleForSeconds: 300 },
      baseDir: '/etc/trustgate',
      tls: { certFile: '/etc/trustgate/s.crt', keyFile: '/etc/trustgate/s.key' },
    });
    expect(Object.isFrozen(c) && Object.isFrozen(c.tls)).toBe(true);
  });

  it('reads cache.staleForSeconds, from 0 (never) to a day, and refuses more', () => {
    expect(parseServeConfig(`${minimal}cache: {staleForSeconds: 0}\n`, 'c.yaml').cache.staleForSeconds).toBe(0);
    expect(parseServeConfig(`${minimal}cache: {staleForSeconds: 86400}\n`, 'c.yaml').cache.staleForSeconds).toBe(86_400);
    for (const bad of ['86401', '-1', '"5m"']) expect(() => parseServeConfig(`${minimal}cache: {staleForSeconds: ${bad}}\n`, 'c.yaml')).toThrow(/config\.cache\.staleForSeconds/);
  });

  it('reads every key', () => {
    const c = parseServeConfig(
      `${minimal}listen: "[::1]:9443"\nmetrics: {listen: "0.0.0.0:9090"}\ndefaultAction: allow\nmutateWorkloads: true\ndeadlineSeconds: 5\ntrust: {requestTimeoutSeconds: 2, servers: {"registry.example.com": "https://notary.example.com/"}}\nlogLevel: debug\n`,
      'c.yaml',
    );
    expect(c).toMatchObject({ listen: { host: '::1', port: 9443 }, metrics: { host: '0.0.0.0', port: 9090 }, defaultAction: 'allow', trust: { servers: { 'registry.example.com': 'https://notary.example.com' } } });
  });

  it('audits with the kubernetes side by default, and never without it', () => {
    const kube = `${minimal}kubernetes: {kubeconfig: kc}\n`;
    expect(parseServeConfig(minimal, 'c.yaml').audit).toBeUndefined();
    expect(parseServeConfig(kube, 'c.yaml').audit).toEqual({
      intervalSeconds: 300, allNamespaces: false, trustLookupsPerSecond: 20, apiRequestsPerSecond: 10, maxPods: 10_000, maxResultsPerReport: 200, leaseNamespace: 'trustgate', leaseDurationSeconds: 15,
    });
    expect(parseServeConfig(`${kube}trustState: {store: kubernetes, namespace: tg}\n`, 'c.yaml').audit?.leaseNamespace).toBe('tg');
    expect(parseServeConfig(`${kube}audit: {enabled: false}\n`, 'c.yaml').audit).toBeUndefined();
    expect(parseServeConfig(`${kube}audit: {intervalSeconds: 5, allNamespaces: true, maxPods: 40, maxResultsPerReport: 10}\n`, 'c.yaml').audit).toMatchObject({ intervalSeconds: 5, allNamespaces: true, maxPods: 40, maxResultsPerReport: 10 });
  });

  it.each([
    ['audit: {enabled: true}', /config\.audit\.enabled: the audit needs the kubernetes section/, false],
    ['audit: {intervalSeconds: 0}', /config\.audit\.intervalSeconds: expected a number from 1 to 86400/, true],
    ['audit: {maxPods: 2.5}', /config\.audit\.maxPods: must be a whole number/, true],
    ['audit: {maxResultsPerReport: 5000}', /config\.audit\.maxResultsPerReport: expected a number from 1 to 1000/, true],
    ['audit: {leaseNamespace: "Not_A_Namespace"}', /config\.audit\.leaseNamespace: not a namespace name/, true],
    ['audit: {trustLookupsPerSecond: 0}', /config\.audit\.trustLookupsPerSecond/, true],
    ['audit: {surprise: 1}', /config\.audit/, true],
    ['audit: yes', /config\.audit/, true],
  ])('refuses %s with a clear error', (line, message, kube) => {
    expect(() => parseServeConfig(`${minimal}${kube ? 'kubernetes: {kubeconfig: kc}\n' : ''}${line}\n`, 'c.yaml')).toThrow(message);
  });

  it('keeps the trust state in memory unless told where, and reads where', () => {
    expect(parseServeConfig(minimal, '/etc/trustgate/c.yaml').trustState).toMatchObject({ store: 'memory', maxRecords: 10_000, expireAfterSeconds: 90 * 86_400 });
    expect(parseServeConfig(`${minimal}trustState: {store: file, file: state/trust.json}\n`, '/etc/trustgate/c.yaml').trustState).toMatchObject({ store: 'file', file: '/etc/trustgate/state/trust.json' });
    const kube = parseServeConfig(`${minimal}kubernetes: {}\ntrustState: {store: kubernetes, namespace: trustgate, maxRecords: 50, writesPerSecond: 2}\n`, 'c.yaml').trustState;
    expect(kube).toMatchObject({ store: 'kubernetes', namespace: 'trustgate', maxRecords: 50, writesPerSecond: 2 });
  });

  it('reads the namespaces pull secrets may be read in', () => {
    const c = parseServeConfig(`${minimal}kubernetes: {pullSecretNamespaces: [team-a, team-b]}\n`, 'c.yaml');
    expect(c.kubernetes?.pullSecretNamespaces).toEqual(['team-a', 'team-b']);
    expect(parseServeConfig(`${minimal}kubernetes: {}\n`, 'c.yaml').kubernetes?.pullSecretNamespaces).toBeUndefined();
  });

  it('reads where Notation trust stores come from: trustgate\'s namespace, Secrets unless told not to', () => {
    expect(parseServeConfig(`${minimal}kubernetes: {trustStores: {namespace: trustgate}}\n`, 'c.yaml').kubernetes?.trustStores).toEqual({ namespace: 'trustgate', secrets: true });
    expect(parseServeConfig(`${minimal}kubernetes: {trustStores: {namespace: tg, secrets: false}}\n`, 'c.yaml').kubernetes?.trustStores).toEqual({ namespace: 'tg', secrets: false });
    expect(parseServeConfig(`${minimal}kubernetes: {}\n`, 'c.yaml').kubernetes?.trustStores).toBeUndefined();
    expect(() => parseServeConfig(`${minimal}kubernetes: {trustStores: {namespace: Not_A_Namespace}}\n`, 'c.yaml')).toThrow('config.kubernetes.trustStores.namespace: must be a namespace name');
    expect(() => parseServeConfig(`${minimal}kubernetes: {trustStores: {secrets: true}}\n`, 'c.yaml')).toThrow('config.kubernetes.trustStores.namespace');
    expect(() => parseServeConfig(`${minimal}kubernetes: {trustStores: {namespace: tg, labels: x}}\n`, 'c.yaml')).toThrow('config.kubernetes.trustStores.labels: unknown field');
  });

  it('reads the client CA and names, and the reviewed namespaces (kube-system always excluded)', () => {
    const c = parseServeConfig(
      'tls: {certFile: s.crt, keyFile: s.key, clientCAFile: client-ca.crt, clientNames: [kube-apiserver]}\nkubernetes: {namespaces: {scope: clusterWide, excluded: [trustgate]}}\n',
      '/etc/trustgate/config.yaml',
    );
    expect(c.tls).toMatchObject({ clientCAFile: '/etc/trustgate/client-ca.crt', clientNames: ['kube-apiserver'] });
    expect(c.kubernetes?.namespaces).toEqual({ scope: 'clusterWide', excluded: ['kube-system', 'trustgate'] });
    const defaults = parseServeConfig('tls: {certFile: s.crt, keyFile: s.key}\nkubernetes: {}\n', 'c.yaml');
    expect(defaults.tls).toMatchObject({ clientCAFile: undefined, clientNames: [] });
    expect(defaults.kubernetes?.namespaces).toEqual({ scope: 'optIn', excluded: ['kube-system'] });
  });

  it.each([
    ['tls: {certFile: a, keyFile: b, clientNames: [x]}\nkubernetes: {}\n', [/config.tls.clientNames: needs tls.clientCAFile/]],
    ['tls: {certFile: a, keyFile: b, clientCAFile: c, clientNames: [""]}\nkubernetes: {}\n', [/config.tls.clientNames\[0\]: must not be empty/]],
    ['tls: {certFile: a, keyFile: b}\nkubernetes: {namespaces: {scope: everywhere, excluded: [Bad_Name]}}\n', [/config.kubernetes.namespaces.scope: expected one of optIn, clusterWide/, /config.kubernetes.namespaces.excluded\[0\]: not a namespace name/]],
    ['tls: {certFile: a}\npolicies: {files: []}\n', [/config.tls.keyFile: expected a string/, /config.policies.files: must list at least one/]],
    [`${minimal}listne: ":1"\n`, [/config.listne: unknown field/]],
    [`${minimal}cache: {maxEntrys: 3}\n`, [/config.cache.maxEntrys: unknown field/]],
    [`${minimal}listen: "nohost"\n`, [/config.listen: expected host:port/]],
    [`${minimal}deadlineSeconds: 45\n`, [/config.deadlineSeconds: expected a number from 0.1 to 29/]],
    [`${minimal}defaultAction: maybe\n`, [/config.defaultAction: expected one of allow, deny/]],
    [`${minimal}trust: {servers: {r: "http://x"}}\n`, [/config.trust.servers\["r"\]: must be an https/]],
    [`${minimal}trust: {servers: {"Registry.example.com": "https://a", "registry.example.com:443": "https://b"}}\n`, [/config.trust.servers\["registry.example.com:443"\]: names the same registry as "Registry.example.com"/]],
    [`${minimal}trust: {servers: {"host:80": "https://a", "a_b": "https://b"}}\n`, [/config.trust.servers\["host:80"\]: registry port 80 is refused/, /config.trust.servers\["a_b"\]: registry host "a_b" is not a valid host name/]],
    [`${minimal}kubernetes: {pullSecretNamespaces: ["team-a", "Team_B"]}\n`, [/config.kubernetes.pullSecretNamespaces\[1\]: must be a namespace name/]],
    [`${minimal}maxRequestBytes: 20971520\n`, [/config.maxBytesInFlight: must be at least twice maxRequestBytes \(41943040\)/]],
    [`${minimal}trustState: {store: kubernetes}\n`, [/config.trustState.store: kubernetes needs the kubernetes section/, /config.trustState.namespace: required with store: kubernetes/]],
    [`${minimal}trustState: {store: file}\n`, [/config.trustState.file: required with store: file/]],
    [`${minimal}trustState: {store: etcd, maxRecords: 0}\n`, [/config.trustState.store: expected one of kubernetes, file, memory/, /config.trustState.maxRecords: expected a number from 1/]],
    [`${minimal}trustState: {expireAfterSeconds: 7200, touchIntervalSeconds: 3600}\n`, [/config.trustState.expireAfterSeconds: must be at least four times touchIntervalSeconds/]],
    ['tls: [', [/not valid YAML/]],
  ])('refuses %j', (text, messages) => {
    expect(() => parseServeConfig(text, 'c.yaml')).toThrow(ConfigError);
    for (const m of messages) expect(() => parseServeConfig(text, 'c.yaml')).toThrow(m);
  });
});

describe('docs/configuration.md', () => {
  const doc = readFileSync('docs/configuration.md', 'utf8');
  it.each([...CONFIG_KEYS])('documents %s', (key) => {
    expect(doc).toContain(`\`${key}\``);
  });
});
