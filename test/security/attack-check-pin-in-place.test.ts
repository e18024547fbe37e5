// `trustgate pin --in-place` in CI on a pull request's checkout (docs/ci.md), where a job that
// pins and then commits (`git commit -a`) the result is the point of pinning. The pull request
// chooses what `-f deploy/app.yaml` is: a symlink to a file outside the checkout on the CI runner
// (a Secret manifest of the runner's, another job's file). pin read the target through the
// link and renamed the pinned text over the link: the target's content became a regular file
// of the repository, for the next commit to publish. And a temporary file planted under the
// name pin writes first must not redirect the write either.
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ScriptedVerifier } from '../support/fake-verifier.js';
import { policyFile, runCli, tempFiles } from '../support/check-cli.js';

const A = `sha256:${'a'.repeat(64)}`;
const verifier = () => new ScriptedVerifier({ 'registry.test/team/app:1.0': A });
const POD = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: registry.test/team/app:1.0}]}\n';
/** The runner's own file: a Secret manifest, and a Pod for pin to have something to do. */
const RUNNERS = `apiVersion: v1\nkind: Secret\nmetadata: {name: deploy-token}\nstringData: {token: s3cr3t-of-the-runner}\n---\n${POD}`;

it('--in-place on a symlink to a file outside the checkout: refused, the link and its target left as they were', async () => {
  const root = tempFiles({});
  const outside = path.join(root, 'runner', 'deploy-secret.yaml');
  mkdirSync(path.dirname(outside));
  writeFileSync(outside, RUNNERS);
  const checkout = path.join(root, 'checkout');
  mkdirSync(checkout);
  const link = path.join(checkout, 'app.yaml');
  symlinkSync(outside, link);
  const r = await runCli(['pin', '-f', link, '--policies', policyFile(checkout, ['registry.test/**']), '--in-place'], { verifier: verifier() });
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/--in-place: .*app\.yaml is a symbolic link/);
  // Nothing of the runner's file landed in the checkout, and the file itself is untouched.
  expect(lstatSync(link).isSymbolicLink()).toBe(true);
  expect(readFileSync(outside, 'utf8')).toBe(RUNNERS);
  // Printing (no --in-place) still works on what the user named.
  expect((await runCli(['pin', '-f', link, '--policies', policyFile(checkout, ['registry.test/**'])], { verifier: verifier() })).code).toBe(0);
});

it('a planted temporary file (a symlink under pin\'s temporary name) does not redirect the write', async () => {
  const root = tempFiles({});
  const victim = path.join(root, 'victim.txt');
  writeFileSync(victim, 'untouched');
  const checkout = path.join(root, 'checkout');
  mkdirSync(checkout);
  const file = path.join(checkout, 'app.yaml');
  writeFileSync(file, POD);
  // pin runs in this process here: its temporary name is known (`.app.yaml.trustgate-<pid>`).
  symlinkSync(victim, path.join(checkout, `.app.yaml.trustgate-${process.pid}`));
  const r = await runCli(['pin', '-f', file, '--policies', policyFile(checkout, ['registry.test/**']), '--in-place'], { verifier: verifier() });
  expect(r.code).toBe(2);
  expect(readFileSync(victim, 'utf8')).toBe('untouched');
  expect(readFileSync(file, 'utf8')).toBe(POD);
  expect(existsSync(path.join(checkout, `.app.yaml.trustgate-${process.pid}`))).toBe(true); // the attacker's link, not ours to remove
});
