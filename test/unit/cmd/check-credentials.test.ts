// Which credentials `check`/`pin` verify with: the docker config found as docker finds it, looked
// up once per registry the manifests name, handed to decide() as the cluster's (never a
// namespace-chosen connection's), and a bound on the credential helper processes a manifest can cause.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CredentialScope } from '../../../src/admission/index.js';
import { parseReference } from '../../../src/reference/index.js';
import type { Credentials } from '../../../src/registry/credentials.js';
import { parseDockerConfigFile, type HelperGet } from '../../../src/registry/docker-config.js';
import { credentialsFor, MAX_HELPER_REGISTRIES, registriesOf } from '../../../cmd/cli/check-credentials.js';
import { readDockerConfig } from '../../../cmd/cli/common-options.js';
import { UsageError } from '../../../cmd/cli/errors.js';
import { parseManifests } from '../../../cmd/cli/manifests.js';
import { tempFiles } from '../../support/check-cli.js';

const ALICE = { username: 'alice', password: 'pw' };
const b64 = (s: string) => Buffer.from(s).toString('base64');
const env = (vars: Record<string, string> = {}) => ({ env: vars, readStdin: () => Promise.resolve('') });
const pod = (...images: string[]) => `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [${images.map((image, i) => `{name: c${i}, image: "${image}"}`).join(', ')}]}\n`;

describe('readDockerConfig', () => {
  const dir = tempFiles({});
  const config = (name: string, doc: unknown) => {
    mkdirSync(path.join(dir, name));
    writeFileSync(path.join(dir, name, 'config.json'), JSON.stringify(doc));
    return path.join(dir, name);
  };
  const a = config('a', { auths: { 'registry.test': { auth: b64('alice:pw') } } });
  const b = config('b', { auths: { 'other.test': { auth: b64('bob:pw') } } });

  it('reads --docker-config FILE, or DIR/config.json, as docker --config DIR does', () => {
    expect(readDockerConfig(path.join(a, 'config.json'), env())?.auths.get('registry.test')).toEqual(ALICE);
    expect(readDockerConfig(a, env())?.auths.get('registry.test')).toEqual(ALICE);
  });

  it('defaults to $DOCKER_CONFIG/config.json; the flag wins over it', () => {
    expect(readDockerConfig(undefined, env({ DOCKER_CONFIG: b }))?.auths.has('other.test')).toBe(true);
    expect(readDockerConfig(a, env({ DOCKER_CONFIG: b }))?.auths.has('other.test')).toBe(false);
  });

  it('no default file is no credentials; a named file that is missing is a usage error', () => {
    expect(readDockerConfig(undefined, env({ DOCKER_CONFIG: path.join(dir, 'absent') }))).toBeUndefined();
    expect(() => readDockerConfig(path.join(dir, 'absent'), env())).toThrow(UsageError);
  });
});

describe('registriesOf', () => {
  it('the distinct canonical registries of reviewed objects\' images; other kinds and bad references are left to decide()', () => {
    const manifests = parseManifests({ file: 'm.yaml', text: `${pod('app:1', 'docker.io/library/x:2', 'Registry.Test/a:1', 'registry.test/b:1', 'Bad Ref')}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {image: "evil.test/x:1"}\n` });
    expect(registriesOf(manifests).sort()).toEqual(['docker.io', 'registry.test']);
  });
});

describe('credentialsFor', () => {
  const config = (doc: unknown) => parseDockerConfigFile(JSON.stringify(doc), 'config.json');

  it('finds each image\'s credentials by its registry host only, and only for connections the cluster chose', async () => {
    const lookup = await credentialsFor(config({ auths: { 'https://index.docker.io/v1/': { auth: b64('hub:pw') }, 'registry.test:5000': { auth: b64('alice:pw') } } }), ['docker.io', 'registry.test:5000', 'registry.test']);
    expect(lookup(parseReference('nginx:1'), CredentialScope.CLUSTER)).toEqual({ username: 'hub', password: 'pw' });
    expect(lookup(parseReference('registry.test:5000/a:1'), CredentialScope.CLUSTER)).toEqual(ALICE);
    // The same host on another port, and a path that names the registry, are other registries.
    expect(lookup(parseReference('registry.test/a:1'), CredentialScope.CLUSTER)).toBeUndefined();
    expect(lookup(parseReference('evil.test/registry.test/a:1'), CredentialScope.CLUSTER)).toBeUndefined();
    // An ImagePolicy that chose its own server or CA gets none of them.
    expect(lookup(parseReference('registry.test:5000/a:1'), CredentialScope.NAMESPACE)).toBeUndefined();
  });

  it('asks a helper once per registry that uses one, and no more than MAX_HELPER_REGISTRIES registries', async () => {
    const asked: string[] = [];
    const get: HelperGet = (helper, server) => {
      asked.push(`${helper} ${server}`);
      return Promise.resolve<Credentials | undefined>(server === 'registry.test' ? ALICE : undefined);
    };
    const lookup = await credentialsFor(config({ credHelpers: { 'registry.test': 'vault' }, auths: { 'other.test': { auth: b64('bob:pw') } } }), ['registry.test', 'other.test', 'third.test'], get);
    expect(asked).toEqual(['vault registry.test']);
    expect(lookup(parseReference('registry.test/a:1'), CredentialScope.CLUSTER)).toEqual(ALICE);
    expect(lookup(parseReference('other.test/a:1'), CredentialScope.CLUSTER)).toEqual({ username: 'bob', password: 'pw' });

    const many = Array.from({ length: MAX_HELPER_REGISTRIES + 1 }, (_, i) => `r${i}.example`);
    asked.length = 0;
    await expect(credentialsFor(config({ credsStore: 'desktop' }), many, get)).rejects.toThrow(`the manifests name ${MAX_HELPER_REGISTRIES + 1} registries whose credentials the docker config (config.json) keeps in a credential helper`);
    expect(asked).toEqual([]);
    await credentialsFor(config({ credsStore: 'desktop' }), many.slice(1), get);
    expect(asked).toHaveLength(MAX_HELPER_REGISTRIES);
  });

  it('without a docker config, no credentials at all', async () => {
    expect((await credentialsFor(undefined, ['registry.test']))(parseReference('registry.test/a:1'), CredentialScope.CLUSTER)).toBeUndefined();
  });
});
