// Bypass class: pattern boundaries. A platform team allow-lists or denies registries and
// repositories by pattern; an attacker picks an image name that looks like it is covered (or not
// covered) but reaches somewhere else, or a tenant writes a pattern more specific than the
// cluster's hoping to be chosen instead. Each case goes through decide(), with the real
// PolicySet, and asserts what the pod gets: denied, or admitted only where the platform said so.
// Verification is not the point here, so a scripted verifier stands in (test/support/fake-verifier.ts).
import { decide, parseReview, type Decision, type DecisionContext } from '../../src/admission/index.js';
import { compilePattern, PolicySet, type Policy } from '../../src/policy/index.js';
import { ScriptedVerifier } from '../support/fake-verifier.js';
import { policy, TOFU } from '../support/policies.js';
import { review, workload } from '../support/reviews.js';

const D1 = `sha256:${'1'.repeat(64)}`;

function context(policies: Policy[], defaultAction: 'allow' | 'deny', script: Record<string, string> = {}): DecisionContext {
  return { policies: new PolicySet(policies), verifier: new ScriptedVerifier(script), defaultAction, mutateWorkloads: false, deadlineMs: 2000, credentialsFor: () => undefined };
}

function admit(image: string, ctx: DecisionContext, namespace = 'team-a'): Promise<Decision> {
  return decide(parseReview(review('Pod', workload('Pod', 'web', { containers: [{ name: 'app', image }] }), { namespace })), 'mutate', ctx);
}

describe('an allow-list by registry admits nothing from a look-alike name', () => {
  // Only registry.example.com and *.trusted.com may run; everything else is denied by default.
  const ctx = () => context([policy('internal', ['registry.example.com/**'], TOFU), policy('trusted', ['*.trusted.com/**'], { action: 'allow' })], 'deny', {
    'registry.example.com/team/app:1.0': D1,
  });

  it.each([
    // the trusted host as a path segment of another registry
    ['evil.com/x.trusted.com/app:1.0', 'NO_POLICY'],
    ['evil.com/registry.example.com/team/app:1.0', 'NO_POLICY'],
    // prefix and suffix tricks on the host
    ['registry.example.com.evil.com/team/app:1.0', 'NO_POLICY'],
    ['registry.example.com-evil/team/app:1.0', 'NO_POLICY'],
    ['trusted.com.evil.com/app:1.0', 'NO_POLICY'],
    ['eviltrusted.com/app:1.0', 'NO_POLICY'],
    ['trusted.com/app:1.0', 'NO_POLICY'],
    // another port is another registry
    ['registry.example.com:5000/team/app:1.0', 'NO_POLICY'],
    ['x.trusted.com:5000/app:1.0', 'NO_POLICY'],
    // userinfo and "@" in the host: not a reference at all
    ['registry.example.com@evil.com/team/app:1.0', 'INVALID_REFERENCE'],
    ['user:pass@registry.example.com/team/app:1.0', 'INVALID_REFERENCE'],
    ['evil.com@x.trusted.com/app:1.0', 'INVALID_REFERENCE'],
    // a trailing dot (an FQDN) and percent-encoding are refused, not matched or waved through
    ['registry.example.com./team/app:1.0', 'INVALID_REFERENCE'],
    ['x.trusted.com./app:1.0', 'INVALID_REFERENCE'],
    ['registry%2eexample.com/team/app:1.0', 'INVALID_REFERENCE'],
    ['x.trusted.com%2fevil.com/app:1.0', 'INVALID_REFERENCE'],
    // look-alikes: Cyrillic "е", fullwidth ".", and the punycode spelling of the former
    ['rеgistry.example.com/team/app:1.0', 'INVALID_REFERENCE'],
    ['x.trusted．com/app:1.0', 'INVALID_REFERENCE'],
    ['xn--rgistry-2ug.example.com/team/app:1.0', 'NO_POLICY'],
    // a backslash, a space, a tab or a NUL cannot smuggle a second host or path
    ['x.trusted.com\\evil.com/app:1.0', 'INVALID_REFERENCE'],
    ['x.trusted.com /app:1.0', 'INVALID_REFERENCE'],
    ['x.trusted.com\t/app:1.0', 'INVALID_REFERENCE'],
    ['x.trusted.com\u0000.evil.com/app:1.0', 'INVALID_REFERENCE'],
  ])('%j is denied (%s)', async (image, code) => {
    const d = await admit(image, ctx());
    expect(d.allowed).toBe(false);
    expect(d.reasons).toEqual([code]);
    expect(d.patch).toEqual([]);
  });

  it('while the names it does cover are admitted (the cases above are not denied for an unrelated reason)', async () => {
    await expect(admit('registry.example.com/team/app:1.0', ctx())).resolves.toMatchObject({ allowed: true, reasons: [] });
    await expect(admit('REGISTRY.example.com:443/team/app:1.0', ctx())).resolves.toMatchObject({ allowed: true, reasons: [] });
    await expect(admit('x.trusted.com/app:1.0', ctx())).resolves.toMatchObject({ allowed: true, reasons: [] });
    await expect(admit('a.b.trusted.com/team/app:1.0', ctx())).resolves.toMatchObject({ allowed: true, reasons: [] });
  });
});

describe('"*" stays inside one segment and "**" takes whole segments', () => {
  // A repository-level allow-list with the default deny: only what the pattern names runs.
  const ctx = () => context([policy('team', ['registry.example.com/team/*', 'registry.example.com/tools/**/cli'], { action: 'allow' })], 'deny');

  it.each([
    'registry.example.com/team/app:1.0',
    'registry.example.com/tools/cli:1.0',
    'registry.example.com/tools/a/b/cli:1.0',
  ])('%j is covered', async (image) => {
    expect((await admit(image, ctx())).allowed).toBe(true);
  });

  it.each([
    'registry.example.com/team/sub/app:1.0', // * does not cross "/"
    'registry.example.com/team:1.0', // * does not match zero segments
    'registry.example.com/teamx/app:1.0',
    'registry.example.com/tools/cli/extra:1.0', // ** is followed by a whole segment
    'registry.example.com/tools/clix:1.0',
    'registry.example.com/toolsx/cli:1.0',
  ])('%j is not', async (image) => {
    const d = await admit(image, ctx());
    expect(d.allowed).toBe(false);
    expect(d.reasons).toEqual(['NO_POLICY']);
  });
});

describe('tags and digests never enter matching', () => {
  it('a deny on a repository holds whatever tag or digest the image carries', async () => {
    const ctx = context([policy('deny-app', ['registry.example.com/team/app'], { action: 'deny' }), policy('rest', ['**'], { action: 'allow' })], 'allow');
    for (const image of ['registry.example.com/team/app', 'registry.example.com/team/app:1.0', `registry.example.com/team/app@${D1}`, `registry.example.com/team/app:x@${D1}`]) {
      const d = await admit(image, ctx);
      expect(d.allowed).toBe(false);
      expect(d.reasons).toEqual(['POLICY_DENIED']);
    }
  });

  it.each([
    // A pattern with a tag or digest would match no image name: it is refused, not silently inert.
    'registry.example.com/team/app:latest',
    'registry.example.com/team/*:latest',
    'registry.example.com/**:1.0',
    `registry.example.com/team/app@${D1}`,
    'nginx:latest',
    'bitnami/nginx:1.25',
  ])('a pattern written with a tag or digest (%j) is refused', (text) => {
    expect(typeof compilePattern(text)).toBe('string');
  });
});

describe("Docker Hub's official images", () => {
  // `docker.io/nginx` is `docker.io/library/nginx`; so a wildcard written the same way must be.
  it.each([
    ['docker.io/ngin*', 'nginx:1.25'],
    ['docker.io/*', 'alpine:3.19'],
    ['index.docker.io/*', 'docker.io/library/alpine:3.19'],
  ])('a deny on %j holds for %j', async (pattern, image) => {
    const ctx = context([policy('deny-official', [pattern], { action: 'deny' }), policy('rest', ['**'], { action: 'allow' })], 'allow');
    const d = await admit(image, ctx);
    expect(d.allowed).toBe(false);
    expect(d.reasons).toEqual(['POLICY_DENIED']);
  });
});

describe('a deny written for a host holds for every spelling of that host', () => {
  // The deny sits beside a wider allow, the case where an escaped deny admits the image.
  const denyBeside = (pattern: string) => context([policy('deny-host', [pattern], { action: 'deny' }), policy('rest', ['**'], { action: 'allow' })], 'allow');

  it.each([
    // an IPv4 address written as an IPv4-mapped IPv6 address reaches the same registry
    ['10.0.0.5:5000/**', '[::ffff:a00:5]:5000/team/app:1.0'],
    ['10.0.0.5:5000/**', '[0:0:0:0:0:FFFF:0A00:0005]:5000/team/app:1.0'],
    ['127.0.0.1:5000/**', '[::ffff:7f00:1]:5000/team/app:1.0'],
    // a wildcard host that matches one of Docker Hub's names matches Docker Hub
    ['*.docker.io/**', 'registry-1.docker.io/evil/app:1.0'],
    ['*.docker.io/**', 'index.docker.io/evil/app:1.0'],
    ['registry-1.*/**', 'registry-1.docker.io:443/evil/app:1.0'],
    // a wildcard port matches the default port written out
    ['*.example.com:*/**', 'registry.example.com:443/team/app:1.0'],
    ['registry.example.com:*/**', 'REGISTRY.example.com:443/team/app:1.0'],
  ])('a deny on %j holds for %j', async (pattern, image) => {
    const d = await admit(image, denyBeside(pattern));
    expect(d.allowed).toBe(false);
    expect(d.reasons).toEqual(['POLICY_DENIED']);
  });

  it.each([
    // …and matches no other registry for it
    ['*.docker.io/**', 'docker.io.evil.com/app:1.0'],
    ['*.example.com:*/**', 'example.com/app:1.0'],
    ['127.0.0.1:5000/**', '[::1]:5000/team/app:1.0'],
    ['127.0.0.1:5000/**', '[::7f00:1]:5000/team/app:1.0'],
  ])('a deny on %j does not reach %j', async (pattern, image) => {
    expect((await admit(image, denyBeside(pattern))).allowed).toBe(true);
  });
});

describe('most-specific-wins cannot be gamed by a tenant', () => {
  // The cluster verifies everything of the registry; the image is not signed.
  const cluster = policy('internal', ['registry.example.com/**'], TOFU);

  it.each([
    ['an exact name', ['registry.example.com/team/app']],
    ["the cluster's own pattern", ['registry.example.com/**']],
    ['a wider pattern', ['**']],
    ['a pattern per spelling', ['REGISTRY.example.com:443/team/app', 'registry.example.com/team/*']],
  ])('a namespace ImagePolicy that allows %s, named to sort first, does not replace the cluster policy', async (_what, images) => {
    const ctx = context([cluster, policy('0-first', images, { action: 'allow' }, 'team-a'), policy('a', images, { action: 'allow' }, 'team-a')], 'deny');
    const d = await admit('registry.example.com/team/app:1.0', ctx);
    expect(d.allowed).toBe(false);
    expect(d.reasons).toEqual(['TAG_NOT_SIGNED']);
    expect(d.policies).toEqual(['ClusterImagePolicy "internal"']);
  });

  it("a namespace policy never stands in for a missing cluster policy (the default action holds)", async () => {
    const ctx = context([policy('0-first', ['**'], { action: 'allow' }, 'team-a')], 'deny');
    const d = await admit('registry.example.com/team/app:1.0', ctx);
    expect(d.allowed).toBe(false);
    expect(d.reasons).toEqual(['NO_POLICY']);
  });

  it("a cluster-wide deny is not undone by a tenant's exact allow in its own namespace", async () => {
    const ctx = context([policy('no-app', ['registry.example.com/team/app'], { action: 'deny' }), policy('zzz-allow', ['registry.example.com/team/app'], { action: 'allow' }, 'team-a')], 'allow');
    const d = await admit('registry.example.com/team/app:1.0', ctx);
    expect(d.allowed).toBe(false);
    expect(d.reasons).toEqual(['POLICY_DENIED']);
  });
});
