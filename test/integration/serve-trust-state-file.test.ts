// `trustgate serve` without Kubernetes keeps its trust state in the file the config names
// (trustState.store: file, ADR 0013): a root trusted on first use survives a restart, and a
// state file someone else could have written stops the start with the reason.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trustgate } from '../support/cli.js';
import { review, workload } from '../support/reviews.js';
import { ServeProcess } from '../support/serve-process.js';
import { TrustStack } from '../support/stack.js';

let stack: TrustStack;
let dir: string;
let config: string;
let stateFile: string;

beforeAll(async () => {
  stack = await TrustStack.start();
  dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-state-file-'));
  const stateDir = path.join(dir, 'state');
  mkdirSync(stateDir, { mode: 0o700 });
  stateFile = path.join(stateDir, 'trust.json');
  writeFileSync(path.join(dir, 'policies.yaml'), `apiVersion: trustgate.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: tofu}
spec:
  images: ["${stack.registry}/**"]
  trust: {server: "${stack.notaryUrl}", caBundle: ${JSON.stringify(readFileSync(stack.tls.caCert, 'utf8'))}, trustOnFirstUse: true}
`);
  config = path.join(dir, 'config.yaml');
  writeFileSync(config, `listen: "127.0.0.1:0"
tls: {certFile: ${stack.tls.cert}, keyFile: ${stack.tls.key}}
policies: {files: [policies.yaml]}
trustState: {store: file, file: state/trust.json}
defaultAction: deny
`);
});

afterAll(async () => {
  await stack?.stop();
});

const verdict = async (serve: ServeProcess, image: string) => {
  const answer = await serve.review('mutate', review('Pod', workload('Pod', 'web', { containers: [{ name: 'app', image }] })));
  return answer.allowed ? 'admitted' : (answer.status?.message ?? 'denied');
};

it('a root trusted on first use is enforced after a restart', async () => {
  const gun = `${stack.registry}/team/app`;
  const image = await stack.pushImage('team/app', '1.0', 'state-file: first publisher');
  await stack.init(gun);
  await stack.sign(gun, '1.0', image);
  const first = await ServeProcess.start(config, stack.tls.caCert);
  expect(await verdict(first, `${gun}:1.0`)).toBe('admitted');
  await first.stop();
  expect(statSync(stateFile).mode & 0o777).toBe(0o600);
  expect(readFileSync(stateFile, 'utf8')).toContain(gun);

  await stack.notaryOk(['delete', gun, '--remote']);
  await stack.init(gun);
  await stack.sign(gun, '1.0', image);
  const second = await ServeProcess.start(config, stack.tls.caCert);
  try {
    expect(await verdict(second, `${gun}:1.0`)).toMatch(/ROOT_KEY_MISMATCH/);
  } finally {
    await second.stop();
  }
});

it('refuses to start with a state file others can write, naming it, without a stack trace', async () => {
  writeFileSync(stateFile, readFileSync(stateFile));
  chmodSync(stateFile, 0o666);
  try {
    const r = await trustgate(['serve', '--config', config]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`trust state file ${stateFile} can be written by others`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  } finally {
    chmodSync(stateFile, 0o600);
  }
});
