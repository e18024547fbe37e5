// `npm run demo`: Docker Content Trust's walk-through, with trustgate as the verifier, on a
// local registry and Notary server (Debian's docker-registry and notary-server). Each step
// checks that it behaved as narrated and the demo exits non-zero if one did not.
//   --keep   leave the registry and Notary server running and print how to use them
import path from 'node:path';
import { runOk } from '../test/support/processes.js';
import { trustgate } from '../test/support/cli.js';
import { TrustStack } from '../test/support/stack.js';

const keep = process.argv.includes('--keep');
const bold = (s: string) => (process.stdout.isTTY ? `\u001b[1m${s}\u001b[0m` : s);
let step = 0;

function say(title: string, text = ''): void {
  console.log(`\n${bold(`${++step}. ${title}`)}${text ? `\n   ${text}` : ''}`);
}

function show(output: string): void {
  for (const line of output.trimEnd().split('\n')) console.log(`   │ ${line}`);
}

function expectThat(ok: boolean, what: string): void {
  if (!ok) throw new Error(`the demo did not behave as narrated: ${what}`);
  console.log(`   ✔ ${what}`);
}

async function verify(stack: TrustStack, image: string, ...extra: string[]) {
  const args = ['verify', image, '--trust-server', stack.notaryUrl, '--ca-file', stack.tls.caCert, ...extra];
  console.log(`   $ trustgate ${args.join(' ').replace(stack.tls.caCert, 'ca.crt')}`);
  const r = await trustgate(args);
  show(r.stdout + r.stderr);
  return r;
}

async function main(): Promise<void> {
  say('Start a local registry and Notary server');
  const stack = await TrustStack.start();
  try {
    const repo = 'demo/app';
    const image = `${stack.registry}/${repo}`;
    console.log(`   registry ${stack.registry}, Notary ${stack.notaryUrl}`);

    say('Push an unsigned image', `${image}:1.0 — trust is off in docker by default, so it would run`);
    const unsigned = await stack.pushImage(repo, '1.0', 'demo build 1');
    const r1 = await verify(stack, `${image}:1.0`);
    expectThat(r1.code === 1 && /NO_TRUST_DATA/.test(r1.stderr), 'with trust on it is refused: the repository has no trust data');

    say('Sign the tag, as a publisher does with docker trust sign', '(notary init, then notary addhash with the manifest digest)');
    await stack.init(image);
    await stack.sign(image, '1.0', unsigned);
    const r2 = await verify(stack, `${image}:1.0`);
    expectThat(r2.code === 0 && r2.stdout.startsWith(`${image}:1.0@${unsigned.digest}`), 'admitted, pinned to the digest that was signed');

    say('Push a new, unsigned manifest over the signed tag');
    const overwrite = await stack.pushImage(repo, '1.0', 'demo build 2, unsigned');
    console.log(`   the registry now serves ${overwrite.digest} for 1.0`);
    const r3 = await verify(stack, `${image}:1.0`);
    expectThat(r3.code === 0 && r3.stdout.startsWith(`${image}:1.0@${unsigned.digest}`), 'trustgate still answers with the signed digest, not the registry\'s');

    say('Require a release signer (targets/releases)', 'a tag signed only with the repository key is refused …');
    const r4 = await verify(stack, `${image}:1.0`, '--signer', 'targets/releases');
    expectThat(r4.code === 1 && /SIGNER_MISSING/.test(r4.stderr), 'refused: targets/releases has not signed 1.0');
    const key = path.join(stack.dir, 'releaser');
    await runOk('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '365', '-subj', '/CN=releaser', '-keyout', `${key}.key`, '-out', `${key}.crt`]);
    await stack.notaryOk(['delegation', 'add', image, 'targets/releases', `${key}.crt`, '--all-paths', '--publish']);
    await stack.notaryOk(['key', 'import', `${key}.key`, '--role', 'targets/releases']);
    const release = await stack.pushImage(repo, '1.1', 'demo release 1.1');
    await stack.sign(image, '1.1', release, ['targets/releases']);
    console.log('   … the release key signs 1.1 (docker trust signer add + docker trust sign)');
    const r5 = await verify(stack, `${image}:1.1`, '--signer', 'targets/releases');
    expectThat(r5.code === 0 && /signed by: +targets\/releases/.test(r5.stdout), 'admitted: signed by targets/releases');

    say('Inspect the repository\'s trust data, like docker trust inspect');
    const r6 = await trustgate(['inspect', image, '--trust-server', stack.notaryUrl, '--ca-file', stack.tls.caCert]);
    show(r6.stdout);
    expectThat(r6.code === 0 && r6.stdout.includes('targets/releases'), 'signed tags, signers and keys listed');

    if (keep) {
      console.log(`\n${bold('Left running')} (Ctrl-C to stop):`);
      console.log(`   trustgate verify ${image}:1.0 --trust-server ${stack.notaryUrl} --ca-file ${stack.tls.caCert}`);
      console.log(`   notary -c ${path.join(stack.dir, 'notary-client.json')} -d ${stack.trustDir} list ${image}`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
  } finally {
    say('Tear down');
    await stack.stop();
  }
  console.log('\nDemo finished: every step behaved as narrated.');
}

main().catch((error: unknown) => {
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
