// check has no tenants, but its --policies files are serve's format and go through serve's
// loader and decide(): an ImagePolicy in them only adds requirements to the ClusterImagePolicy
// covering an image, exactly as a tenant's does in the cluster. A manifest cannot relax them.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, tempFiles } from '../support/check-cli.js';
import { ScriptedVerifier } from '../support/fake-verifier.js';

const SIGNED = `sha256:${'a'.repeat(64)}`;
const CLUSTER = 'apiVersion: trustgate.dev/v1alpha1\nkind: ClusterImagePolicy\nmetadata: {name: signed}\nspec:\n  images: ["registry.test/**"]\n  trust: {trustOnFirstUse: true}\n';
const pod = (image: string, namespace = 'team') => `apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ${namespace}}\nspec: {containers: [{name: c, image: ${image}}]}\n`;

function files(namespacePolicy: string): string[] {
  const dir = tempFiles({});
  writeFileSync(path.join(dir, 'cluster.yaml'), CLUSTER);
  writeFileSync(path.join(dir, 'tenant.yaml'), namespacePolicy);
  return ['--policies', path.join(dir, 'cluster.yaml'), '--policies', path.join(dir, 'tenant.yaml')];
}

async function check(image: string, policies: string[], namespace?: string) {
  return runCli(['check', '-f', '-', ...policies], { verifier: new ScriptedVerifier({ 'registry.test/team/app:1.0': SIGNED }), stdin: pod(image, namespace) });
}

describe('check: an ImagePolicy in a policies file only adds requirements', () => {
  it('an ImagePolicy that allows an image does not admit what the ClusterImagePolicy denies', async () => {
    const policies = files('apiVersion: trustgate.dev/v1alpha1\nkind: ImagePolicy\nmetadata: {name: relax, namespace: team}\nspec: {images: ["**"], action: allow}\n');
    const r = await check('registry.test/team/unsigned:1', policies);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('TAG_NOT_SIGNED');
    expect(r.stdout).toContain('required by ClusterImagePolicy "signed"');
  });

  it('an ImagePolicy admitting unsigned digests does not admit a digest the cluster policy refuses', async () => {
    const policies = files('apiVersion: trustgate.dev/v1alpha1\nkind: ImagePolicy\nmetadata: {name: relax, namespace: team}\nspec:\n  images: ["**"]\n  trust: {trustOnFirstUse: true, allowUnsignedDigests: true}\n');
    const r = await check(`registry.test/team/other@sha256:${'b'.repeat(64)}`, policies);
    expect(r.code).toBe(1);
  });

  it('an ImagePolicy that denies does deny, in its namespace only', async () => {
    const policies = files('apiVersion: trustgate.dev/v1alpha1\nkind: ImagePolicy\nmetadata: {name: strict, namespace: team}\nspec: {images: ["registry.test/team/app"], action: deny}\n');
    expect((await check('registry.test/team/app:1.0', policies)).code).toBe(1);
    expect((await check('registry.test/team/app:1.0', policies, 'other')).code).toBe(0);
  });

  it('a broken policies file is a usage error, not an empty policy set', async () => {
    const r = await check('registry.test/team/unsigned:1', files('apiVersion: trustgate.dev/v1alpha1\nkind: ImagePolicy\nmetadata: {name: x}\nspec: {images: 3}\n'));
    expect(r.code).toBe(2);
  });
});
