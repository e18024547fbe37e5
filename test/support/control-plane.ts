// A real Kubernetes control plane on loopback, the way controller-runtime's envtest runs one:
// etcd, kube-apiserver (secure port, generated certificates, RBAC, service-account keys, an
// admin client certificate) and kube-controller-manager, so Deployments really create
// ReplicaSets and Pods that pass through admission. No scheduler or kubelet: pods stay Pending.
// Binaries come from scripts/build-control-plane.sh (built once, cached by version).
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { freePort, run, runOk, startDaemon, stopDaemon, type RunResult } from './processes.js';

/** The directory of the cached binaries, building them when missing (minutes on a fresh machine). */
export function controlPlaneBinaries(): string {
  const out = execFileSync('bash', [path.resolve('scripts/build-control-plane.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 3_600_000 });
  return out.trim().split('\n').pop() ?? '';
}

/** kube-apiserver settings a test may add; each is written to a file in the control plane's dir. */
export interface ControlPlaneOptions {
  readonly bin?: string;
  /** An audit.k8s.io/v1 Policy (YAML): kube-apiserver writes its audit log to `auditLog`. */
  readonly auditPolicy?: string;
  /**
   * An apiserver.config.k8s.io/v1 AdmissionConfiguration (YAML), as
   * --admission-control-config-file: how kube-apiserver authenticates to webhooks.
   */
  readonly admissionConfiguration?: string;
}

export class ControlPlane {
  private constructor(
    readonly dir: string,
    readonly bin: string,
    readonly apiserverUrl: string,
    readonly kubeconfig: string,
    private readonly daemons: ChildProcess[],
    /** kube-apiserver's program and arguments, to start it again (restartApiServer). */
    private readonly apiserverCommand: readonly [string, readonly string[]],
  ) {}

  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const bin = options.bin ?? controlPlaneBinaries();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-cp-'));
    const pki = path.join(dir, 'pki');
    mkdirSync(pki);
    const f = (name: string) => path.join(pki, name);
    await makePki(pki);
    const extra: string[] = [];
    if (options.auditPolicy !== undefined) {
      writeFileSync(path.join(dir, 'audit-policy.yaml'), options.auditPolicy);
      extra.push(`--audit-policy-file=${path.join(dir, 'audit-policy.yaml')}`, `--audit-log-path=${path.join(dir, 'audit.log')}`);
    }
    if (options.admissionConfiguration) {
      writeFileSync(path.join(dir, 'admission.yaml'), options.admissionConfiguration);
      extra.push(`--admission-control-config-file=${path.join(dir, 'admission.yaml')}`);
    }
    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const daemons: ChildProcess[] = [];
    daemons.push(startDaemon(path.join(bin, 'etcd'), [
      '--name=default', `--data-dir=${path.join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`, `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`, `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=default=http://127.0.0.1:${peerPort}`, '--unsafe-no-fsync', '--log-level=warn',
    ], path.join(dir, 'etcd.log')));
    const apiserverArgs = [
      '--advertise-address=127.0.0.1', '--bind-address=127.0.0.1', `--secure-port=${apiPort}`,
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      `--cert-dir=${pki}`, `--tls-cert-file=${f('apiserver.crt')}`, `--tls-private-key-file=${f('apiserver.key')}`,
      `--client-ca-file=${f('ca.crt')}`, '--authorization-mode=RBAC', '--allow-privileged=true',
      '--service-cluster-ip-range=10.0.0.0/24', '--disable-admission-plugins=ServiceAccount',
      // As envtest: the endpoint reconciler refuses a loopback advertise address.
      '--endpoint-reconciler-type=none',
      `--service-account-issuer=https://127.0.0.1:${apiPort}`, `--service-account-key-file=${f('sa.pub')}`, `--service-account-signing-key-file=${f('sa.key')}`,
      '--v=1', ...extra,
    ];
    daemons.push(startDaemon(path.join(bin, 'kube-apiserver'), apiserverArgs, path.join(dir, 'kube-apiserver.log')));
    const url = `https://127.0.0.1:${apiPort}`;
    const kubeconfig = path.join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml(url, f('ca.crt'), f('admin.crt'), f('admin.key')));
    const plane = new ControlPlane(dir, bin, url, kubeconfig, daemons, [path.join(bin, 'kube-apiserver'), apiserverArgs]);
    try {
      await plane.waitReady(60_000);
    } catch (error) {
      // Leave nothing running when the control plane cannot start.
      for (const daemon of daemons) await stopDaemon(daemon);
      throw error;
    }
    daemons.push(startDaemon(path.join(bin, 'kube-controller-manager'), [
      `--kubeconfig=${kubeconfig}`, `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`,
      '--bind-address=127.0.0.1', `--secure-port=${await freePort()}`, '--leader-elect=false',
      `--service-account-private-key-file=${f('sa.key')}`, `--root-ca-file=${f('ca.crt')}`, '--use-service-account-credentials=false',
      '--controllers=*',
    ], path.join(dir, 'kube-controller-manager.log')));
    return plane;
  }

  /** Polls /readyz with the admin certificate. */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const pki = path.join(this.dir, 'pki');
    for (;;) {
      const ok = await new Promise<boolean>((resolve) => {
        https.get(`${this.apiserverUrl}/readyz`, { ca: readFileSync(path.join(pki, 'ca.crt')), cert: readFileSync(path.join(pki, 'admin.crt')), key: readFileSync(path.join(pki, 'admin.key')) }, (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        }).on('error', () => resolve(false));
      });
      if (ok) return;
      const dead = this.daemons.find((d) => d.exitCode !== null);
      if (dead) throw new Error(`${dead.spawnfile} exited ${dead.exitCode}; see the logs in ${this.dir}`);
      if (Date.now() > deadline) throw new Error(`kube-apiserver not ready after ${timeoutMs} ms; see ${this.dir}/kube-apiserver.log`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /**
   * Stops kube-apiserver (SIGTERM, its graceful shutdown) and starts it again with the same
   * arguments, port, certificates and etcd: what a control-plane upgrade or a crash-looping API
   * server does to its clients. etcd and kube-controller-manager keep running; resolves once
   * /readyz answers 200 again.
   */
  async restartApiServer(timeoutMs = 60_000): Promise<void> {
    const index = this.daemons.findIndex((d) => d.spawnfile === this.apiserverCommand[0]);
    if (index < 0) throw new Error('kube-apiserver is not one of this control plane\'s daemons');
    await stopDaemon(this.daemons[index]);
    this.daemons[index] = startDaemon(this.apiserverCommand[0], this.apiserverCommand[1], path.join(this.dir, 'kube-apiserver.log'));
    await this.waitReady(timeoutMs);
  }

  /** Where kube-apiserver writes its audit log (with `auditPolicy`). */
  get auditLog(): string {
    return path.join(this.dir, 'audit.log');
  }

  /** The audit log's events (JSON lines), as written so far. */
  auditEvents(): AuditEvent[] {
    let text;
    try {
      text = readFileSync(this.auditLog, 'utf8');
    } catch {
      return [];
    }
    return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditEvent);
  }

  kubectl(args: readonly string[], input?: string): Promise<RunResult> {
    return run(path.join(this.bin, 'kubectl'), [`--kubeconfig=${this.kubeconfig}`, ...args], { timeoutMs: 60_000, ...(input !== undefined && { input }) });
  }

  async kubectlOk(args: readonly string[], input?: string): Promise<string> {
    const r = await this.kubectl(args, input);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  helm(args: readonly string[]): Promise<RunResult> {
    return run(path.join(this.bin, 'helm'), [`--kubeconfig=${this.kubeconfig}`, ...args], {
      timeoutMs: 120_000,
      env: { HELM_CACHE_HOME: path.join(this.dir, 'helm-cache'), HELM_CONFIG_HOME: path.join(this.dir, 'helm-config'), HELM_DATA_HOME: path.join(this.dir, 'helm-data') },
    });
  }

  /**
   * `helm upgrade --install` of charts/trustgate pointing the webhooks at a trustgate on
   * loopback (webhook.url), with the given cluster policies and extra helm arguments.
   */
  async installChart(options: { port: number; caPem: string; policies: unknown[]; extra?: readonly string[] }): Promise<void> {
    const r = await this.helm(['upgrade', '--install', 'trustgate', path.resolve('charts/trustgate'), '--namespace', 'trustgate', '--create-namespace', '--wait=false',
      '--set', `webhook.url=https://127.0.0.1:${options.port}`, '--set', `webhook.caBundle=${Buffer.from(options.caPem).toString('base64')}`,
      '--set-json', `clusterPolicies=${JSON.stringify(options.policies)}`, ...(options.extra ?? [])]);
    if (r.code !== 0) throw new Error(`helm failed: ${r.stdout}\n${r.stderr}`);
  }

  /**
   * The policy working group's PolicyReport and ClusterPolicyReport CRDs as the chart ships them
   * (charts/trustgate/files), established: for tests of the audit without the chart. Server-side
   * apply: the CRDs are too large for kubectl's last-applied annotation.
   */
  async installPolicyReportCrds(): Promise<void> {
    for (const file of ['wgpolicyk8s.io_policyreports.yaml', 'wgpolicyk8s.io_clusterpolicyreports.yaml']) {
      await this.kubectlOk(['apply', '--server-side', '-f', path.resolve('charts/trustgate/files', file)]);
    }
    await this.kubectlOk(['wait', '--for=condition=Established', 'crd/policyreports.wgpolicyk8s.io', 'crd/clusterpolicyreports.wgpolicyk8s.io', '--timeout=60s']);
  }

  /** Lets `user` write PolicyReports in `namespace`, as a cluster whose tenants run their own reporting tools does. */
  async allowPolicyReports(namespace: string, user: string): Promise<void> {
    await this.kubectlOk(['apply', '-f', '-'], `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reports, namespace: ${namespace}}
rules: [{apiGroups: [wgpolicyk8s.io], resources: [policyreports], verbs: [get, list, create, update, patch, delete]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reports, namespace: ${namespace}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reports}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: ${user}}]
`);
  }

  /**
   * A tenant as a platform team sets one up: a user (client certificate, CN = `user`) allowed
   * only pods (and pods/ephemeralcontainers) and `ImagePolicy` objects in `namespace`, plus
   * read access to the pods and Events there. Returns kubectl as that user.
   */
  async tenant(namespace: string, user: string): Promise<Tenant> {
    const pki = path.join(this.dir, 'pki');
    const f = (name: string) => path.join(pki, name);
    await issueClientCert(pki, user, `/CN=${user}`);
    const kubeconfig = path.join(this.dir, `kubeconfig-${user}`);
    writeFileSync(kubeconfig, kubeconfigYaml(this.apiserverUrl, f('ca.crt'), f(`${user}.crt`), f(`${user}.key`)));
    await this.kubectlOk(['apply', '-f', '-'], `apiVersion: v1
kind: Namespace
metadata: {name: ${namespace}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: tenant, namespace: ${namespace}}
rules:
- {apiGroups: [""], resources: [pods, pods/ephemeralcontainers], verbs: [get, list, watch, create, update, patch, delete]}
- {apiGroups: [""], resources: [events], verbs: [get, list, watch]}
- {apiGroups: [trustgate.dev], resources: [imagepolicies], verbs: [get, list, watch, create, update, patch, delete]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: tenant, namespace: ${namespace}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: tenant}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: ${user}}]
`);
    const kubectl = (args: readonly string[], input?: string) =>
      run(path.join(this.bin, 'kubectl'), [`--kubeconfig=${kubeconfig}`, '-n', namespace, ...args], { timeoutMs: 60_000, ...(input !== undefined && { input }) });
    return { namespace, user, kubeconfig, kubectl };
  }

  async stop(): Promise<void> {
    for (const daemon of [...this.daemons].reverse()) await stopDaemon(daemon);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The part of an audit.k8s.io/v1 Event the tests read. */
export interface AuditEvent {
  readonly stage: string;
  readonly verb: string;
  readonly objectRef?: { readonly resource?: string; readonly namespace?: string; readonly name?: string };
  readonly annotations?: Readonly<Record<string, string>>;
}

/** kubectl bound to one tenant's user and namespace (see ControlPlane.tenant). */
export interface Tenant {
  readonly namespace: string;
  readonly user: string;
  readonly kubeconfig: string;
  kubectl(args: readonly string[], input?: string): Promise<RunResult>;
}

/** A client certificate for `subject`, signed by the control plane's CA. */
async function issueClientCert(pki: string, name: string, subject: string): Promise<void> {
  const f = (file: string) => path.join(pki, file);
  await runOk('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', subject, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`)]);
  writeFileSync(f(`${name}.ext`), 'extendedKeyUsage=clientAuth\n');
  await runOk('openssl', ['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '7', '-extfile', f(`${name}.ext`), '-out', f(`${name}.crt`)]);
}

function kubeconfigYaml(server: string, ca: string, cert: string, key: string): string {
  return `apiVersion: v1
kind: Config
clusters: [{name: trustgate-e2e, cluster: {server: "${server}", certificate-authority: "${ca}"}}]
users: [{name: admin, user: {client-certificate: "${cert}", client-key: "${key}"}}]
contexts: [{name: trustgate-e2e, context: {cluster: trustgate-e2e, user: admin}}]
current-context: trustgate-e2e
`;
}

/** CA, apiserver serving cert, admin client cert (system:masters), service-account key pair. */
async function makePki(dir: string): Promise<void> {
  const f = (name: string) => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await runOk('openssl', ['req', '-x509', ...ec, '-days', '7', '-subj', '/CN=trustgate-e2e-ca', '-keyout', f('ca.key'), '-out', f('ca.crt'),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']);
  const issue = async (name: string, subject: string, ext: string) => {
    await runOk('openssl', ['req', ...ec, '-subj', subject, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`)]);
    writeFileSync(f(`${name}.ext`), ext);
    await runOk('openssl', ['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '7', '-extfile', f(`${name}.ext`), '-out', f(`${name}.crt`)]);
  };
  await issue('apiserver', '/CN=kube-apiserver', 'subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n');
  await issue('admin', '/O=system:masters/CN=admin', 'extendedKeyUsage=clientAuth\n');
  await runOk('openssl', ['genrsa', '-out', f('sa.key'), '2048']);
  await runOk('openssl', ['rsa', '-in', f('sa.key'), '-pubout', '-out', f('sa.pub')]);
}
