import { defaultTrustServer, findCredentials, normaliseHost, parseDockerConfig } from '../../../src/registry/index.js';

describe('normaliseHost', () => {
  it.each([
    ['https://index.docker.io/v1/', 'docker.io'],
    ['index.docker.io', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
    ['docker.io', 'docker.io'],
    ['http://Registry.Example.com:5000/v2/', 'registry.example.com:5000'],
    ['registry.example.com:5000', 'registry.example.com:5000'],
    // The canonical registry name images carry (reference/host.ts).
    ['https://Index.Docker.io:443/v1/', 'docker.io'],
    ['registry.example.com:443', 'registry.example.com'],
    ['[0:0::1]:5000', '[::1]:5000'],
  ])('%s → %s', (key, host) => {
    expect(normaliseHost(key)).toBe(host);
  });
});

describe('parseDockerConfig', () => {
  it('reads auth, username/password and identitytoken entries', () => {
    const auths = parseDockerConfig(
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: Buffer.from('bob:pa:ss').toString('base64') },
          'ghcr.io': { username: 'u', password: 'p' },
          'quay.io': { identitytoken: 'tok' },
        },
        credsStore: 'desktop',
      }),
      'config.json',
    );
    expect(findCredentials(auths, ['notary.docker.io', 'docker.io'])).toEqual({ username: 'bob', password: 'pa:ss' });
    expect(findCredentials(auths, ['ghcr.io'])).toEqual({ username: 'u', password: 'p' });
    expect(findCredentials(auths, ['quay.io'])).toEqual({ identityToken: 'tok' });
    expect(findCredentials(auths, ['other.io'])).toBeUndefined();
  });

  it.each([
    ['not json', /not valid JSON/],
    ['{"auths": []}', /auths must be an object/],
    ['{"auths": {"x": {"auth": 5}}}', /auths\["x"\]\.auth: expected a string/],
  ])('refuses %s', (text, message) => {
    expect(() => parseDockerConfig(text, 'config.json')).toThrow(message);
  });
});

describe('defaultTrustServer', () => {
  it('uses notary.docker.io for Docker Hub and the registry host otherwise, as docker does', () => {
    expect(defaultTrustServer('docker.io')).toBe('https://notary.docker.io');
    expect(defaultTrustServer('registry.example.com:5000')).toBe('https://registry.example.com:5000');
  });
});
