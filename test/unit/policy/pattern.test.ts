import { compareSpecificity, compilePattern, matchPattern, type Pattern } from '../../../src/policy/index.js';
import { parseReference } from '../../../src/reference/index.js';

const compile = (text: string): Pattern => {
  const p = compilePattern(text);
  if (typeof p === 'string') throw new Error(p);
  return p;
};
const matches = (pattern: string, image: string) => matchPattern(compile(pattern), parseReference(image).name);

describe('patterns are normalised like image names', () => {
  it.each([
    ['nginx', 'docker.io/library/nginx'],
    ['docker.io/nginx', 'docker.io/library/nginx'],
    ['index.docker.io/library/nginx', 'docker.io/library/nginx'],
    ['bitnami/*', 'docker.io/bitnami/*'],
    ['registry.example.com/team/**', 'registry.example.com/team/**'],
    ['**', '**'],
    // Hosts as image names canonicalise them (docs/policy.md "Matching").
    ['DOCKER.io/nginx', 'docker.io/library/nginx'],
    ['registry-1.docker.io:443/bitnami/*', 'docker.io/bitnami/*'],
    ['REGISTRY.example.com:443/team/**', 'registry.example.com/team/**'],
    ['LOCALHOST:15000/**', 'localhost:15000/**'],
    ['[0:0::1]:5000/**', '[::1]:5000/**'],
    ['*.Example.com/**', '*.example.com/**'],
  ])('%s → %s', (text, normalised) => {
    expect(compile(text).text).toBe(normalised);
  });

  it('so nginx, docker.io/nginx and index.docker.io/library/nginx are one image', () => {
    for (const image of ['nginx', 'docker.io/nginx', 'index.docker.io/library/nginx', 'nginx:1.25']) {
      expect(matches('nginx', image)).toBe(true);
      expect(matches('docker.io/library/nginx', image)).toBe(true);
    }
  });

  it.each(['', 'a//b', 'a/**b/c', 'a b', 'x'.repeat(600), 'host:80/**', '*.example.com:80/**', '*.example.com:443/**', '*:0443/**', 'registry.123/**'])('refuses %j', (text) => {
    expect(typeof compilePattern(text)).toBe('string');
  });
});

describe('matching', () => {
  it.each([
    ['registry.example.com/team/**', 'registry.example.com/team/app', true],
    ['registry.example.com/team/**', 'registry.example.com/team/a/b/c', true],
    ['registry.example.com/team/**', 'registry.example.com/team', true],
    ['registry.example.com/team/**', 'registry.example.com/other/app', false],
    ['registry.example.com/team/*', 'registry.example.com/team/a/b', false],
    ['*.trusted.com/**', 'a.trusted.com/x/y', true],
    ['*.trusted.com/**', 'evil.com/x.trusted.com/app', false],
    ['*.trusted.com/**', 'trusted.com.evil.com/app', false],
    ['*.trusted.com/**', 'eviltrusted.com/app', false],
    ['registry.example.com/team/**', 'registry.example.com.evil.io/team/app', false],
    ['registry.example.com:5000/**', 'registry.example.com/app', false],
    ['registry.example.com/app-*', 'registry.example.com/app-web', true],
    ['registry.example.com/*-web', 'registry.example.com/app-web', true],
    ['registry.example.com/a*b*c', 'registry.example.com/abc', true],
    ['registry.example.com/a*b*c', 'registry.example.com/acb', false],
    ['**', 'anything.io/at/all', true],
    ['docker.io/library/*', 'alpine', true],
    ['docker.io/library/*', 'bitnami/nginx', false],
  ])('%s ~ %s → %s', (pattern, image, expected) => {
    expect(matches(pattern, image)).toBe(expected);
  });
});

describe('specificity: the most specific pattern wins', () => {
  const order = ['registry.example.com/team/app', 'registry.example.com/team/app-*', 'registry.example.com/team/*', 'registry.example.com/team/**', 'registry.example.com/**', '*.example.com/**', '**'];
  it('orders exact, then more literal characters, then fewer ** and *', () => {
    const sorted = [...order].reverse().map(compile).sort(compareSpecificity).map((p) => p.text);
    expect(sorted).toEqual(order);
  });
});
