// Every command in a ```sh block of the README or docs/ is exercised by a test or the demo:
// each must match an entry below, and the named file must really contain that invocation.
import { readdirSync, readFileSync } from 'node:fs';

const EXERCISED: readonly { command: RegExp; file: string; fragment: string }[] = [
  { command: /^npm run demo\b/, file: 'test/e2e/demo.test.ts', fragment: "'dist/scripts/demo.js'" },
  { command: /^npm test$/, file: '.ci/run', fragment: 'npm test' },
  // `npm run soak` is scripts/soak.sh around the harness that test/e2e/soak.test.ts runs for a minute.
  { command: /^(SOAK_MINUTES=\d+ )?(SOAK_SEED=\d+ )?npm run soak( -- --record)?$/, file: 'test/e2e/soak.test.ts', fragment: 'runSoak({ minutes: Number(process.env.SOAK_MINUTES ?? 1), seed: Number(process.env.SOAK_SEED ?? 1) })' },
  { command: /^helm install trustgate charts\/trustgate --namespace trustgate --create-namespace --set tls\.certManager\.enabled=true$/, file: 'test/e2e/chart.test.ts', fragment: "'tls.certManager.enabled=true'" },
  { command: /^helm install trustgate charts\/trustgate --namespace trustgate --create-namespace$/, file: 'test/support/control-plane.ts', fragment: "'--namespace', 'trustgate', '--create-namespace'" },
  { command: /^kubectl label namespace [\w-]+ trustgate\.dev\/enforce=true$/, file: 'test/e2e/cluster.test.ts', fragment: "['label', 'namespace', 'enforced', 'trustgate.dev/enforce=true']" },
  { command: /^kubectl get clusterimagepolicies,imagepolicies -A$/, file: 'test/e2e/cluster.test.ts', fragment: "['get', 'clusterimagepolicies,imagepolicies', '-A']" },
  { command: /^kubectl get events -A --field-selector reason=ImageNotTrusted$/, file: 'test/e2e/cluster.test.ts', fragment: "['get', 'events', '-A', '--field-selector', 'reason=ImageNotTrusted'" },
  { command: /^kubectl label namespace [\w-]+ trustgate\.dev\/enforce=false$/, file: 'test/e2e/cluster.test.ts', fragment: "['label', 'namespace', 'wide', 'trustgate.dev/enforce=false']" },
  { command: /^helm upgrade trustgate charts\/trustgate --namespace trustgate --reuse-values --set webhook\.failurePolicy=Ignore$/, file: 'test/e2e/cluster.test.ts', fragment: "'webhook.failurePolicy=Ignore'" },
  { command: /^kubectl -n trustgate create configmap trustgate-client-ca --from-file=ca\.crt=\S+$/, file: 'test/security/forged-reviews.test.ts', fragment: "['-n', 'trustgate', 'create', 'configmap', 'trustgate-client-ca', `--from-file=ca.crt=" },
  { command: /^helm upgrade trustgate charts\/trustgate --namespace trustgate --reuse-values --set webhook\.clientAuth\.caConfigMap=trustgate-client-ca --set 'webhook\.clientAuth\.clientNames=\{kube-apiserver-webhook-client\}'$/, file: 'test/security/forged-reviews.test.ts', fragment: "'webhook.clientAuth.caConfigMap=trustgate-client-ca', '--set', 'webhook.clientAuth.clientNames={kube-apiserver-webhook-client}'" },
  { command: /^trustgate verify \S+ --trust-server https:\/\/\S+$/, file: 'test/integration/verify-cli.test.ts', fragment: "['verify', `${gun}:1.0`, ...trust]" },
  { command: /^trustgate verify \S+ --kind cosign --key \S+ --insecure-ignore-tlog$/, file: 'test/e2e/cosign.test.ts', fragment: "'--kind', 'cosign', '--key', key.pub, '--insecure-ignore-tlog'" },
  { command: /^trustgate verify \S+ --kind cosign --key \S+$/, file: 'test/unit/cmd/cosign-cli.test.ts', fragment: "['verify', `${NAME}:1.0`, '--kind', 'cosign', '--key', keyFile, '--output', 'json']" },
  { command: /^kubectl get pods -A -o custom-columns=NAMESPACE:\.metadata\.namespace,NAME:\.metadata\.name,VERIFIED-BY:\.metadata\.annotations\.trustgate\\\.dev\/verified-by$/, file: 'test/e2e/cosign.test.ts', fragment: "['get', 'pods', '-A', '-o', 'custom-columns=NAMESPACE:.metadata.namespace,NAME:.metadata.name,VERIFIED-BY:.metadata.annotations.trustgate\\\\.dev/verified-by']" },
  { command: /^trustgate verify \S+ --kind notation --trust-policy \S+ --trust-store \S+$/, file: 'test/unit/cmd/notation-cli.test.ts', fragment: "'--kind', 'notation', '--trust-policy', policyFile, '--trust-store', storeFile]" },
  { command: /^trustgate inspect \S+ --trust-server https:\/\/\S+$/, file: 'test/integration/verify-cli.test.ts', fragment: "['inspect', gun, ...trust" },
  { command: /^trustgate check -f \S+\/ --policies \S+$/, file: 'test/unit/cmd/check.test.ts', fragment: "['check', '-f', dir, '--policies', policies]" },
  { command: /^trustgate check -f \S+\/ --policies \S+ --output sarif$/, file: 'test/unit/cmd/check.test.ts', fragment: "['check', '-f', dir, '--policies', policies, '--output', 'sarif']" },
  { command: /^trustgate check -f \S+\/ --policies \S+ --docker-config \S+\/$/, file: 'test/integration/check-credentials.test.ts', fragment: "['check', '-f', deploy, '--policies', policies, '--docker-config', good]" },
  { command: /^trustgate check -f \S+\/ --kubeconfig \S+ --trustgate-namespace trustgate$/, file: 'test/e2e/check-trust-store-refs.test.ts', fragment: "['check', '-f', deploy, '--kubeconfig', cp.kubeconfig, '--trustgate-namespace', 'trustgate']" },
  { command: /^kubectl get policyreports -A -l trustgate\.dev\/report=audit$/, file: 'test/e2e/audit.test.ts', fragment: "['get', 'policyreports', '-A', '-l', 'trustgate.dev/report=audit']" },
  { command: /^kubectl get policyreports -n [\w-]+ -l trustgate\.dev\/report=audit -o json$/, file: 'test/e2e/audit.test.ts', fragment: "['get', 'policyreports', '-n', namespace, '-l', 'trustgate.dev/report=audit', '-o', 'json']" },
  { command: /^kubectl get clusterpolicyreport trustgate-audit -o json$/, file: 'test/e2e/audit.test.ts', fragment: "['get', 'clusterpolicyreport', 'trustgate-audit', '-o', 'json']" },
  { command: /^trustgate pin -f \S+ --policies \S+ --in-place$/, file: 'test/integration/check-pin-cli.test.ts', fragment: "['pin', '-f', file, '--policies', policies, '--in-place']" },
];

function shellCommands(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) =>
    (m[1] ?? '').split('\n').map((line) => line.replace(/#.*$/, '').trim()).filter(Boolean),
  );
}

const files = ['README.md', ...readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const commands = files.flatMap((file) => shellCommands(file).map((command) => [file, command] as const));

describe('commands in the docs', () => {
  it('there are some', () => {
    expect(commands.length).toBeGreaterThan(5);
  });

  it.each(commands)('%s: %s is exercised', (_file, command) => {
    const entry = EXERCISED.find((e) => e.command.test(command));
    expect(entry).toBeDefined();
    expect(readFileSync(entry!.file, 'utf8')).toContain(entry!.fragment);
  });
});
