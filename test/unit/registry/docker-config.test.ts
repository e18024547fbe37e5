import { CredentialsError, dockerCredentials, parseDockerConfigFile, type Credentials } from '../../../src/registry/index.js';

const alice: Credentials = { username: 'alice', password: 'from-helper' };

/** Which helper was asked for which address; answers from a table. The real helper protocol is tested against docker-credential-pass (test/integration/auth.test.ts). */
function helpers(table: Record<string, Credentials>) {
  const asked: string[] = [];
  const get = (helper: string, address: string) => {
    asked.push(`${helper}:${address}`);
    return Promise.resolve(table[`${helper}:${address}`]);
  };
  return { asked, get };
}

describe('parseDockerConfigFile', () => {
  it('reads auths, credsStore and credHelpers', () => {
    const c = parseDockerConfigFile(JSON.stringify({ auths: { 'r.test': { auth: Buffer.from('a:b').toString('base64') } }, credsStore: 'desktop', credHelpers: { 'gcr.io': 'gcloud' } }), 'f');
    expect(c.auths.get('r.test')).toEqual({ username: 'a', password: 'b' });
    expect(c.credsStore).toBe('desktop');
    expect([...c.credHelpers]).toEqual([['gcr.io', 'gcloud']]);
  });

  it.each([
    [{ credsStore: 5 }, /f: credsStore: expected a credential helper name/],
    [{ credsStore: '../../bin/sh' }, /f: credsStore: expected a credential helper name/],
    [{ credHelpers: ['x'] }, /f: credHelpers must be an object/],
    [{ credHelpers: { 'r.test': 'a/b' } }, /f: credHelpers\["r.test"\]: expected a credential helper name/],
  ])('refuses %j, naming the key', (doc, message) => {
    expect(() => parseDockerConfigFile(JSON.stringify(doc), 'f')).toThrow(CredentialsError);
    expect(() => parseDockerConfigFile(JSON.stringify(doc), 'f')).toThrow(message);
  });
});

describe('dockerCredentials', () => {
  it('uses a host\'s own helper rather than credsStore, and never reads auths for a host with a helper', async () => {
    const config = parseDockerConfigFile(JSON.stringify({ auths: { 'r.test': { auth: Buffer.from('old:stale').toString('base64') } }, credsStore: 'desktop', credHelpers: { 'r.test': 'pass' } }), 'f');
    const h = helpers({ 'pass:r.test': alice });
    expect(await dockerCredentials(config, ['notary.test:4443', 'r.test'], h.get)).toEqual(alice);
    expect(h.asked).toEqual(['desktop:notary.test:4443', 'pass:r.test']);
  });

  it('reads auths for hosts without a helper, and asks for Docker Hub under docker\'s key', async () => {
    const config = parseDockerConfigFile(JSON.stringify({ auths: { 'r.test': { auth: Buffer.from('a:b').toString('base64') } }, credHelpers: { 'docker.io': 'pass' } }), 'f');
    const h = helpers({ 'pass:https://index.docker.io/v1/': alice });
    expect(await dockerCredentials(config, ['r.test'], h.get)).toEqual({ username: 'a', password: 'b' });
    expect(await dockerCredentials(config, ['docker.io'], h.get)).toEqual(alice);
    expect(h.asked).toEqual(['pass:https://index.docker.io/v1/']);
  });

  it('gives nothing when no host has credentials', async () => {
    const h = helpers({});
    expect(await dockerCredentials(parseDockerConfigFile('{"credsStore":"pass"}', 'f'), ['a.test', 'b.test'], h.get)).toBeUndefined();
    expect(h.asked).toEqual(['pass:a.test', 'pass:b.test']);
  });
});
