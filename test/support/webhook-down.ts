// The chart installed on the real control plane with its webhooks (failurePolicy: Fail) pointing
// at a loopback port nothing listens on: trustgate stopped. Whatever the API server still admits
// in an enforced namespace, it admitted without calling trustgate — the webhooks' matchConditions
// let it through. Whatever calls trustgate is refused with "failed calling webhook".
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ControlPlane } from './control-plane.js';
import { freePort, type RunResult } from './processes.js';

export const WEBHOOK_DOWN = /failed calling webhook "(mutate|validate)\.trustgate\.dev"/;

export interface DownCluster {
  readonly cp: ControlPlane;
  readonly namespace: string;
  /** kubectl in the enforced namespace, as the cluster's admin. */
  kubectl(args: readonly string[], input?: string): Promise<RunResult>;
  kubectlOk(args: readonly string[], input?: string): Promise<string>;
}

/**
 * Starts the control plane, applies `objects` (YAML) into `namespace` while it is not yet
 * enforced, then installs the chart (extra helm args as given), stops nothing (trustgate never
 * ran) and labels the namespace trustgate.dev/enforce=true.
 */
export async function startWithTrustgateDown(namespace: string, objects: string, helmArgs: readonly string[] = []): Promise<DownCluster> {
  const cp = await ControlPlane.start();
  try {
    await cp.kubectlOk(['create', 'namespace', namespace]);
    await cp.kubectlOk(['create', '-n', namespace, '-f', '-'], objects);
    const port = await freePort(); // taken and released: nothing listens there
    const caPem = readFileSync(path.join(cp.dir, 'pki', 'ca.crt'), 'utf8');
    await cp.installChart({ port, caPem, policies: [], extra: helmArgs });
    await cp.kubectlOk(['label', 'namespace', namespace, 'trustgate.dev/enforce=true']);
  } catch (error) {
    await cp.stop();
    throw error;
  }
  const kubectl = (args: readonly string[], input?: string) => cp.kubectl(['-n', namespace, ...args], input);
  const kubectlOk = (args: readonly string[], input?: string) => cp.kubectlOk(['-n', namespace, ...args], input);
  return { cp, namespace, kubectl, kubectlOk };
}

/** A pod of one container, with a finalizer when `held`: no scheduler runs, so it stays Pending. */
export function podYaml(name: string, image: string, options: { held?: boolean } = {}): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {app: ${name}}
${options.held ? '  finalizers: [example.com/hold]\n' : ''}spec:
  containers: [{name: app, image: "${image}"}]
`;
}
