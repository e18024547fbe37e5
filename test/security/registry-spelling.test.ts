// Issue 9 item 4: every spelling of a registry host that reaches the same registry (case, the
// default HTTPS port, Docker Hub's other names, IPv6 and port notations) must meet the same
// policies, the same configured trust server and the same verification cache entry as the
// canonical spelling. A deny or a pinned-key policy on the host cannot be stepped around by
// writing the host differently.
import fc from 'fast-check';
import { CachingVerifier, decide, parseReview, type DecisionContext } from '../../src/admission/index.js';
import { parseServeConfig } from '../../src/config/index.js';
import { compilePattern, PolicySet, type Policy } from '../../src/policy/index.js';
import { parseReference } from '../../src/reference/index.js';
import { findCredentials, parseDockerConfig } from '../../src/registry/index.js';
import { TrustClient, TrustError } from '../../src/trust/index.js';
import { ScriptedVerifier } from '../support/fake-verifier.js';
import { policy } from '../support/policies.js';
import { RecordedFetcher } from '../support/recorded-fetcher.js';
import { buildRepository, digestOf, standardKeys, standardSpec } from '../support/repo-builder.js';
import { review, workload } from '../support/reviews.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const PINNED_ROOT = 'a'.repeat(64);

/** The six spellings from the issue: the name they reach, and the host-specific pattern. */
const ISSUE_SPELLINGS: [image: string, canonicalName: string, hostPattern: string][] = [
  ['DOCKER.IO/library/alpine:3.19', 'docker.io/library/alpine', 'docker.io/**'],
  ['Index.docker.io/library/alpine:3.19', 'docker.io/library/alpine', 'docker.io/**'],
  ['registry-1.docker.io:443/library/alpine:3.19', 'docker.io/library/alpine', 'docker.io/**'],
  ['REGISTRY.example.com/team/app:1.0', 'registry.example.com/team/app', 'registry.example.com/**'],
  ['registry.example.com:443/team/app:1.0', 'registry.example.com/team/app', 'registry.example.com/**'],
  ['LOCALHOST:15000/team/app:1.0', 'localhost:15000/team/app', 'localhost:15000/**'],
];

function context(policies: Policy[], defaultAction: 'allow' | 'deny', verifier = new ScriptedVerifier({})): DecisionContext & { verifier: ScriptedVerifier } {
  return { policies: new PolicySet(policies), defaultAction, mutateWorkloads: false, deadlineMs: 2000, credentialsFor: () => undefined, verifier };
}

const podReview = (image: string) => parseReview(review('Pod', workload('Pod', 'web', { containers: [{ name: 'app', image }] })));

describe.each(ISSUE_SPELLINGS)('%s', (image, canonicalName, hostPattern) => {
  const deny = policy('deny-host', [hostPattern], { action: 'deny' });

  it('is denied by a deny policy on its host despite an allow policy for **', async () => {
    const d = await decide(podReview(image), 'mutate', context([deny, policy('allow-everything', ['**'], { action: 'allow' })], 'deny'));
    expect(d.allowed).toBe(false);
    expect(d.reasons).toEqual(['POLICY_DENIED']);
    expect(d.message).toContain('ClusterImagePolicy "deny-host"');
  });

  it('is denied by a deny policy on its host despite defaultAction: allow', async () => {
    const d = await decide(podReview(image), 'mutate', context([deny], 'allow'));
    expect(d.allowed).toBe(false);
    expect(d.reasons).toEqual(['POLICY_DENIED']);
  });

  it('must pass the pinned-key policy on its host, and keeps its written name when pinned', async () => {
    const pinned = policy('pinned-host', [hostPattern], { trust: { rootKeys: [PINNED_ROOT] } });
    const tagOf = image.slice(image.lastIndexOf(':') + 1);
    const signed = context([pinned, policy('allow-everything', ['**'], { action: 'allow' })], 'deny', new ScriptedVerifier({ [`${canonicalName}:${tagOf}`]: D1 }));
    const d = await decide(podReview(image), 'mutate', signed);
    expect(signed.verifier.calls).toEqual([image]);
    expect(d.allowed).toBe(true);
    expect(d.patch).toContainEqual(expect.objectContaining({ path: '/spec/containers/0/image', value: `${image}@${D1}` }));

    const unsigned = context([pinned, policy('allow-everything', ['**'], { action: 'allow' })], 'deny');
    const refused = await decide(podReview(image), 'mutate', unsigned);
    expect(refused.allowed).toBe(false);
    expect(refused.reasons).toEqual(['TAG_NOT_SIGNED']);
  });
});

it('two spellings share one real verification, and each pod keeps its own spelling, pinned', async () => {
  const gun = 'registry.example.com/team/app';
  const keys = standardKeys(gun);
  const signed = digestOf('signed');
  const served = new Map<string, string[]>();
  const files = buildRepository(standardSpec(gun, keys, { '1.0': signed })).files;
  const client = new TrustClient({
    fetcher: (server, asked) => {
      const fetcher = new RecordedFetcher(asked === gun ? files : new Map());
      served.set(`${server} ${asked}`, fetcher.requests);
      return fetcher;
    },
  });
  const observer = { hit: () => undefined, miss: () => undefined, evicted: () => undefined, size: () => undefined, verified: () => undefined };
  const verifier = new CachingVerifier(client, { maxEntries: 100, maxBytes: 1 << 20, maxTtlMs: 60_000, negativeTtlMs: 60_000, timeoutMs: 5000, servers: {}, now: Date.now }, observer);
  const ctx: DecisionContext = {
    policies: new PolicySet([policy('pinned-host', ['Registry.Example.com/**'], { trust: { rootKeys: [keys.root.id] } }), policy('allow-everything', ['**'], { action: 'allow' })]),
    defaultAction: 'deny', mutateWorkloads: false, deadlineMs: 5000, credentialsFor: () => undefined, verifier,
  };
  for (const image of ['registry.example.com/team/app:1.0', 'REGISTRY.example.com:443/team/app:1.0', 'Registry.Example.COM:0443/team/app:1.0']) {
    const d = await decide(podReview(image), 'mutate', ctx);
    expect(d.allowed).toBe(true);
    expect(d.patch).toContainEqual(expect.objectContaining({ path: '/spec/containers/0/image', value: `${image}@${signed}` }));
  }
  // One repository fetched once, under its canonical GUN, from the canonical host's server.
  expect([...served.keys()]).toEqual([`https://registry.example.com/ ${gun}`]);
});

it.each(['registry.example.com:80/team/app:1.0', 'LOCALHOST:080/team/app:1.0'])('%s (port 80, ambiguous over HTTP) is refused with INVALID_REFERENCE, whatever allows it', async (image) => {
  const d = await decide(podReview(image), 'mutate', context([policy('allow-everything', ['**'], { action: 'allow' })], 'allow'));
  expect(d.allowed).toBe(false);
  expect(d.reasons).toEqual(['INVALID_REFERENCE']);
  expect(d.message).toMatch(/registry port 80 is refused/);
});

// ---- The property: any spelling ≡ the canonical one -------------------------------------------

interface Registry {
  /** The canonical host, as trustgate names it. */
  readonly canonical: string;
  /** Other host spellings that reach it (before case and port variations). */
  readonly aliases: readonly string[];
  /** Whether the host carries no port, so `:443` (the default HTTPS port) may be added. */
  readonly defaultPort: boolean;
}

const REGISTRIES: readonly Registry[] = [
  { canonical: 'docker.io', aliases: ['docker.io', 'index.docker.io', 'registry-1.docker.io'], defaultPort: true },
  { canonical: 'registry.example.com', aliases: ['registry.example.com'], defaultPort: true },
  { canonical: 'localhost:15000', aliases: ['localhost:15000', 'localhost:015000'], defaultPort: false },
  { canonical: '127.0.0.1:5000', aliases: ['127.0.0.1:5000', '127.0.0.1:05000'], defaultPort: false },
  { canonical: '[::1]:5000', aliases: ['[::1]:5000', '[0:0:0:0:0:0:0:1]:5000', '[0::1]:5000', '[::0001]:5000'], defaultPort: false },
  { canonical: '[2001:db8::1]', aliases: ['[2001:db8::1]', '[2001:0db8:0:0:0:0:0:1]', '[2001:DB8::1]'], defaultPort: true },
];

/**
 * One random spelling of a registry's host: an alias, each letter's case, maybe `:443`; for
 * Docker Hub images (not patterns, which need a host to be host-specific), maybe no host at all.
 */
function hostSpelling(registry: Registry, mayOmit: boolean): fc.Arbitrary<string> {
  const omitted = mayOmit && registry.canonical === 'docker.io' ? [''] : [];
  return fc
    .tuple(fc.constantFrom(...registry.aliases, ...omitted), fc.infiniteStream(fc.boolean()), fc.constantFrom('', ':443', ':0443'))
    .map(([alias, upper, port]) => {
      if (alias === '') return '';
      const cased = [...alias].map((c) => (upper.next().value ? c.toUpperCase() : c)).join('');
      return registry.defaultPort ? `${cased}${port}` : cased;
    });
}

const component = fc.stringMatching(/^[a-z0-9]{1,8}(?:[-_][a-z0-9]{1,6})?$/);
const repository = fc.array(component, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'));
const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}$/);

/** A registry, a repository in it, a tag, and two random spellings of the host. */
const scenario = fc.record({
  registry: fc.constantFrom(...REGISTRIES),
  repository,
  tag,
}).chain((s) => fc.record({ imageHost: hostSpelling(s.registry, true), patternHost: hostSpelling(s.registry, false), configHost: hostSpelling(s.registry, false) }).map((h) => ({ ...s, ...h })));

/** `alpine` on Docker Hub is `library/alpine`: the canonical image names the path in full. */
function canonicalImage(registry: Registry, repo: string, t: string): string {
  const path = registry.canonical === 'docker.io' && !repo.includes('/') ? `library/${repo}` : repo;
  return `${registry.canonical}/${path}:${t}`;
}

const TRUST_SERVER = 'https://notary.internal.example';

/** Verifications that record where they went, and fail in a way the cache keeps (not "unsigned"). */
function recordingVerifier(servers: Readonly<Record<string, string>>): { verifier: CachingVerifier; asked: [server: string, gun: string][] } {
  const asked: [string, string][] = [];
  const client = new TrustClient({
    fetcher: (server, gun) => {
      asked.push([server, gun]);
      return { fetch: () => Promise.reject(new TrustError('SERVER_ERROR', 'recorded, not fetched')) };
    },
  });
  const observer = { hit: () => undefined, miss: () => undefined, evicted: () => undefined, size: () => undefined, verified: () => undefined };
  const verifier = new CachingVerifier(client, { maxEntries: 100, maxBytes: 1 << 20, maxTtlMs: 60_000, negativeTtlMs: 60_000, timeoutMs: 1000, servers, now: Date.now }, observer);
  return { verifier, asked };
}

describe('any spelling of a registry host is the canonical spelling', () => {
  it('chooses the same policy, trust server, cache entry and credentials', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ registry, repository: repo, tag: t, imageHost, patternHost, configHost }) => {
        const canonical = parseReference(canonicalImage(registry, repo, t));
        const spelled = parseReference(`${imageHost === '' ? '' : `${imageHost}/`}${repo}:${t}`);

        // A pattern written like the image is the image's name: patterns and references agree.
        const written = `${imageHost === '' ? '' : `${imageHost}/`}${repo}`;
        expect(compilePattern(written)).toMatchObject({ text: canonical.name, exact: true });

        // Policies whose patterns spell the host their own way: the pinned one must win.
        const pinned = policy('pinned', [`${patternHost}/${repo}`], { trust: { rootKeys: [PINNED_ROOT] } });
        const set = new PolicySet([pinned, policy('deny-host', [`${patternHost}/**`], { action: 'deny' }), policy('allow-everything', ['**'], { action: 'allow' })]);
        expect(set.applicable(undefined, spelled.name).cluster?.policy.name).toBe('pinned');
        expect(set.applicable(undefined, canonical.name).cluster?.policy.name).toBe('pinned');

        // trust.servers keyed by a third spelling of the host.
        const config = parseServeConfig(`tls: {certFile: s.crt, keyFile: s.key}\npolicies: {files: [p.yaml]}\ntrust: {servers: {${JSON.stringify(configHost)}: ${JSON.stringify(TRUST_SERVER)}}}\n`, '/etc/trustgate/config.yaml');
        const { verifier, asked } = recordingVerifier(config.trust.servers);
        const trust = pinned.trust;
        const first = await verifier.verify(canonical, trust, undefined).catch((e: unknown) => e);
        expect(first).toBeInstanceOf(TrustError);
        expect(asked).toEqual([[`${TRUST_SERVER}/`, canonical.name]]);
        // The spelled image finds the canonical one's cache entry, and asks nothing more.
        expect(verifier.peek(spelled, trust, undefined)).toBe(first);
        await expect(verifier.verify(spelled, trust, undefined)).rejects.toBe(first);
        expect(asked).toHaveLength(1);

        // Pull-secret credentials keyed by that third spelling belong to both.
        const auths = parseDockerConfig(JSON.stringify({ auths: { [configHost]: { auth: Buffer.from('user:secret').toString('base64') } } }), 'test');
        expect(findCredentials(auths, [spelled.registry])).toEqual({ username: 'user', password: 'secret' });
        expect(findCredentials(auths, [canonical.registry])).toEqual({ username: 'user', password: 'secret' });
      }),
      { numRuns: 300 },
    );
  });
});
