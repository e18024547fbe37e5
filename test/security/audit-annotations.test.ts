// Finding 10: audit-mode findings must reach kube-apiserver's audit log. The API server files a
// webhook's auditAnnotations under "<webhook name>/<key>" and drops any key that is not then a
// qualified name (k8s.io/apiserver admission/attributes.go, checkKeyFormat): one prefix only.
// Real control plane with an audit policy, the chart, Debian's notary-server and registry, and
// trustgate serve on loopback; asserted on the audit log the API server writes.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ControlPlane, type AuditEvent } from '../support/control-plane.js';
import { freePort } from '../support/processes.js';
import { ServeProcess } from '../support/serve-process.js';
import { TrustStack } from '../support/stack.js';
import { eventually } from '../support/eventually.js';

let cp: ControlPlane;
let stack: TrustStack;
let serve: ServeProcess | undefined;

// Metadata is the lowest level that keeps admission annotations (attributes.go refuses them below it).
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    resources: [{group: "", resources: [pods]}]
  - level: None
`;

beforeAll(async () => {
  [cp, stack] = await Promise.all([ControlPlane.start({ auditPolicy: AUDIT_POLICY }), TrustStack.start()]);
  await stack.pushImage('team/app', 'unsigned', 'audit: never signed');
  const port = await freePort();
  const config = path.join(stack.dir, 'trustgate.yaml');
  writeFileSync(config, `listen: "127.0.0.1:${port}"
tls: {certFile: ${stack.tls.cert}, keyFile: ${stack.tls.key}}
kubernetes: {kubeconfig: ${cp.kubeconfig}}
defaultAction: deny
`);
  const caPem = readFileSync(stack.tls.caCert, 'utf8');
  await cp.installChart({
    port,
    caPem,
    policies: [{ name: 'audited', spec: { images: [`${stack.registry}/**`], mode: 'audit', trust: { server: stack.notaryUrl, caBundle: caPem, trustOnFirstUse: true } } }],
  });
  serve = await ServeProcess.start(config, stack.tls.caCert);
  await serve.waitReady();
  await cp.kubectlOk(['create', 'namespace', 'audited']);
  await cp.kubectlOk(['label', 'namespace', 'audited', 'trustgate.dev/enforce=true']);
  await eventually(() => cp.kubectlOk(['get', 'clusterimagepolicy', 'audited', '-o', 'jsonpath={.status.accepted}']), (v) => v === 'true', 'policy accepted');
});

afterAll(async () => {
  await serve?.stop();
  await stack?.stop();
  await cp?.stop();
});

describe('an audit-mode policy\'s finding', () => {
  it('is admitted and lands in the audit log under both webhooks\' names', async () => {
    const image = `${stack.registry}/team/app:unsigned`;
    const r = await cp.kubectl(['run', 'unsigned', `--image=${image}`, '-n', 'audited', '--restart=Never']);
    expect(r.code).toBe(0);
    const isCreate = (e: AuditEvent) => e.stage === 'ResponseComplete' && e.verb === 'create' && e.objectRef?.resource === 'pods' && e.objectRef.namespace === 'audited' && e.objectRef.name === 'unsigned';
    const created = await eventually(() => cp.auditEvents().find(isCreate), (e) => e !== undefined, 'audit event of the pod\'s create');
    const annotations = created?.annotations ?? {};
    expect(annotations['validate.trustgate.dev/audit']).toMatch(/container "unsigned" image ".*team\/app:unsigned": NO_TRUST_DATA: .*required by ClusterImagePolicy "audited"/);
    expect(annotations['mutate.trustgate.dev/audit']).toMatch(/NO_TRUST_DATA/);
    // Nothing the API server had to refuse.
    expect(readFileSync(path.join(cp.dir, 'kube-apiserver.log'), 'utf8')).not.toMatch(/Failed to set admission audit annotation/);
  });

  it('is the message of the ImageNotTrusted Event too', async () => {
    const message = await eventually(
      () => cp.kubectlOk(['get', 'events', '-n', 'audited', '--field-selector', 'reason=ImageNotTrusted,involvedObject.name=unsigned', '-o', 'jsonpath={.items[*].message}']),
      (v) => v.length > 0,
      'ImageNotTrusted event',
    );
    expect(message).toMatch(/^audit: container "unsigned" image ".*team\/app:unsigned": NO_TRUST_DATA/);
  });
});
