import fc from 'fast-check';
import { formatNormalized, formatPinned, parseReference, ReferenceError } from '../../../src/reference/index.js';

const D = `sha256:${'a'.repeat(64)}`;

describe('parseReference normalises as docker does', () => {
  it.each([
    ['alpine', 'docker.io', 'library/alpine', undefined],
    ['alpine:3.19', 'docker.io', 'library/alpine', '3.19'],
    ['docker.io/alpine', 'docker.io', 'library/alpine', undefined],
    ['index.docker.io/library/alpine', 'docker.io', 'library/alpine', undefined],
    ['registry-1.docker.io/library/alpine:edge', 'docker.io', 'library/alpine', 'edge'],
    ['bitnami/nginx', 'docker.io', 'bitnami/nginx', undefined],
    ['localhost/app', 'localhost', 'app', undefined],
    ['localhost:5000/ns/app:v1', 'localhost:5000', 'ns/app', 'v1'],
    ['127.0.0.1:5000/ns/app', '127.0.0.1:5000', 'ns/app', undefined],
    ['[::1]:5000/app:1', '[::1]:5000', 'app', '1'],
    ['[2001:db8::1]/team/app', '[2001:db8::1]', 'team/app', undefined],
    ['registry.example.com/a/b/c/d', 'registry.example.com', 'a/b/c/d', undefined],
    ['Registry.Example.com/app', 'registry.example.com', 'app', undefined],
    // One name per registry (docs/policy.md "Matching"): case, the default HTTPS port, Docker
    // Hub's other names, IPv6 and port notation.
    ['DOCKER.IO/alpine', 'docker.io', 'library/alpine', undefined],
    ['Index.Docker.io:443/library/alpine:3', 'docker.io', 'library/alpine', '3'],
    ['registry.example.com:443/app', 'registry.example.com', 'app', undefined],
    ['registry.example.com:0443/app', 'registry.example.com', 'app', undefined],
    ['LOCALHOST:015000/app', 'localhost:15000', 'app', undefined],
    ['[0:0:0:0:0:0:0:1]:5000/app', '[::1]:5000', 'app', undefined],
    ['[2001:DB8::1]:443/app', '[2001:db8::1]', 'app', undefined],
    ['REGISTRY/app', 'registry', 'app', undefined],
    ['ghcr.io/org/my_app__x.y-z---w', 'ghcr.io', 'org/my_app__x.y-z---w', undefined],
  ])('%s', (input, registry, repository, tag) => {
    const ref = parseReference(input);
    expect(ref.registry).toBe(registry);
    expect(ref.repository).toBe(repository);
    expect(ref.name).toBe(`${registry}/${repository}`);
    expect(ref.tag).toBe(tag);
    expect(ref.written).toBe(input);
  });

  it('keeps the name as written for the pinned form, and makes latest explicit', () => {
    expect(formatPinned(parseReference('alpine'), D)).toBe(`alpine:latest@${D}`);
    expect(formatPinned(parseReference('REGISTRY.example.com:443/app:1'), D)).toBe(`REGISTRY.example.com:443/app:1@${D}`);
    expect(formatPinned(parseReference('localhost:5000/app:1.0'), D)).toBe(`localhost:5000/app:1.0@${D}`);
    expect(formatNormalized(parseReference(`nginx:1@${D}`))).toBe(`docker.io/library/nginx:1@${D}`);
  });

  it('accepts name@digest and name:tag@digest', () => {
    expect(parseReference(`app@${D}`)).toMatchObject({ tag: undefined, digest: D });
    expect(parseReference(`host:5000/app:1@${D}`)).toMatchObject({ tag: '1', digest: D, registry: 'host:5000' });
  });
});

describe('parseReference refuses bad references with a reason', () => {
  it.each([
    ['', /empty/],
    ['Alpine', /must be lowercase/],
    ['docker.io/Library/alpine', /must be lowercase/],
    ['example.com/App', /must be lowercase/],
    [`app@sha512:${'a'.repeat(128)}`, /algorithm "sha512" is not supported/],
    [`app@md5:${'a'.repeat(32)}`, /algorithm "md5" is not supported/],
    [`app@sha256:${'A'.repeat(64)}`, /64 lowercase hexadecimal/],
    ['app@sha256:abc', /64 lowercase hexadecimal/],
    ['app@latest', /not a digest/],
    ['app:-bad', /tag "-bad" is invalid/],
    [`app:${'t'.repeat(129)}`, /tag .* is invalid/],
    ['app:', /tag "" is invalid/],
    ['a//b', /empty component/],
    ['app/', /empty component/],
    ['/app', /empty/],
    ['a-/b', /path component "a-"/],
    ['exa_mple.com/app', /registry host/],
    ['host:99999/app', /port 99999 is out of range/],
    ['host:80/app', /port 80 is refused/],
    ['Host:0080/app', /port 80 is refused/],
    ['registry.123/app', /must be an IPv4 address/],
    ['[zz::1]/app', /registry host/],
    ['a'.repeat(64), /image ID/],
    [`example.com/${'a'.repeat(250)}`, /longer than 255/],
    ['x'.repeat(600), /longer than 512/],
    ['app name', /path component/],
    ['app@', /not a digest/],
    ['app:1:2', /path component|registry host/],
  ])('%j', (input, reason) => {
    const attempt = () => parseReference(input);
    expect(attempt).toThrow(ReferenceError);
    expect(attempt).toThrow(reason);
  });

  it('sanitises what it echoes back', () => {
    expect(() => parseReference('app\n\u001b[31mred')).toThrow(/app\\n\\u001b\[31mred/);
  });
});

describe('properties', () => {
  const component = fc.stringMatching(/^[a-z0-9]{1,8}(?:[._-][a-z0-9]{1,8}){0,2}$/);
  const host = fc.oneof(
    fc.constant(undefined),
    fc.constantFrom('localhost', 'localhost:5000', 'registry.example.com', '10.0.0.1:443', '[::1]:5000', 'docker.io'),
  );
  const tag = fc.option(fc.stringMatching(/^\w[\w.-]{0,20}$/), { nil: undefined });
  const digest = fc.option(fc.stringMatching(/^[a-f0-9]{64}$/).map((h) => `sha256:${h}`), { nil: undefined });
  const reference = fc
    .record({ host, path: fc.array(component, { minLength: 1, maxLength: 4 }), tag, digest })
    .filter(({ host: h, path }) => h !== undefined || (!/^[a-f0-9]{64}$/.test(path.join('/')) && !path[0]!.includes('.')))
    .map(({ host: h, path, tag: t, digest: d }) =>
      [h, path.join('/')].filter(Boolean).join('/') + (t ? `:${t}` : '') + (d ? `@${d}` : ''),
    );

  it('parse → normalised format → parse is a fixed point', () => {
    fc.assert(
      fc.property(reference, (input) => {
        const once = parseReference(input);
        const again = parseReference(formatNormalized(once));
        expect(again.name).toBe(once.name);
        expect(again.tag).toBe(once.tag);
        expect(again.digest).toBe(once.digest);
        expect(formatNormalized(again)).toBe(formatNormalized(once));
      }),
      { numRuns: 500 },
    );
  });

  it('no input crashes the parser: it returns a reference or throws ReferenceError', () => {
    const noisy = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 600 }), reference.map((r) => r + '@:/'));
    fc.assert(
      fc.property(noisy, (input) => {
        try {
          const ref = parseReference(input);
          expect(ref.name.length).toBeLessThanOrEqual(255);
        } catch (error) {
          expect(error).toBeInstanceOf(ReferenceError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
