// Image patterns, matched on the normalised name (docs/policy.md "Matching"):
//   `*`  any characters within one path segment (the registry host is a segment)
//   `**` any number of whole segments, zero included
// Matching segment by segment is what keeps `evil.com/x.trusted.com/app` from matching
// `*.trusted.com/**`: the first segment must be the registry.

import { canonicalRegistry, DEFAULT_REGISTRY, DOCKER_HUB_ALIASES, type CanonicalHost } from '../reference/index.js';

export interface Pattern {
  readonly text: string;
  readonly segments: readonly string[];
  /** Sort key: higher is more specific. See {@link compareSpecificity}. */
  readonly literalChars: number;
  readonly doubleStars: number;
  readonly singleStars: number;
  readonly exact: boolean;
}

const SEGMENT_RE = /^(?:\*\*|[a-z0-9A-Z._\-:[\]*]+)$/;

/**
 * Normalises a pattern the way image names are normalised: `nginx` → `docker.io/library/nginx`,
 * `bitnami/*` → `docker.io/bitnami/*`, `Index.Docker.io:443/x/y` → `docker.io/x/y`,
 * `REGISTRY.example.com:443/**` → `registry.example.com/**`.
 * @returns the pattern, or a reason it is invalid.
 */
export function compilePattern(text: string): Pattern | string {
  if (text.length === 0 || text.length > 512) return 'must be 1-512 characters';
  let segments = text.split('/');
  if (segments.some((s) => !SEGMENT_RE.test(s))) return 'segments may hold letters, digits, ".", "_", "-", ":", "[", "]" and "*", and may not be empty';
  if (segments.some((s) => s.includes('**') && s !== '**')) return '"**" must be a whole segment';
  const first = segments[0] ?? '';
  // As image names are split (distribution/reference splitDockerDomain), plus wildcards.
  const isHost = /[.:*]/.test(first) || first === 'localhost' || first.toLowerCase() !== first;
  if (isHost) {
    const host = patternHost(first);
    if ('problem' in host) return host.problem;
    segments[0] = host.host;
  } else {
    segments = ['docker.io', ...(segments.length === 1 ? ['library'] : []), ...segments];
  }
  // A tag or digest is never part of the name matched: a pattern carrying one would match nothing,
  // and a deny written that way would hold for no image. Only the host may have ":" or "[ ]".
  if (segments.slice(1).some((s) => /[:[\]]/.test(s))) return 'matches names without tag or digest: ":" (and "[ ]") may appear only in the registry host (docs/policy.md "Matching")';
  // `docker.io/x` is `docker.io/library/x`, so `docker.io/ngin*` is `docker.io/library/ngin*`: a
  // Docker Hub name always has two path segments, so left as written it would match nothing.
  if (segments[0] === 'docker.io' && segments.length === 2 && segments[1] !== '**') segments.splice(1, 0, 'library');
  const normalised = segments.join('/');
  return {
    text: normalised,
    segments,
    literalChars: normalised.replace(/\*/g, '').length,
    doubleStars: segments.filter((s) => s === '**').length,
    singleStars: segments.filter((s) => s !== '**').reduce((n, s) => n + (s.match(/\*/g)?.length ?? 0), 0),
    exact: !normalised.includes('*'),
  };
}

/**
 * A pattern's host segment in the form image names take (reference/host.ts), so that a pattern
 * covers every spelling of its registry. A wildcard host cannot be parsed as a host: it is
 * lowercased, and a port no canonical name carries (443, 80) is refused rather than dropped,
 * since `*:443` without its port would be `*`, any host.
 */
function patternHost(segment: string): CanonicalHost {
  if (!segment.includes('*')) return canonicalRegistry(segment);
  if (/:0*(?:443|80)$/.test(segment)) {
    return { problem: 'a registry name never carries port 443 (the default) or 80 (refused): write the host pattern without it (docs/policy.md "Matching")' };
  }
  return { host: segment.toLowerCase() };
}

/** True when the normalised image name (`registry/path`, no tag) matches. */
export function matchPattern(pattern: Pattern, name: string): boolean {
  const segments = name.split('/');
  if (matchSegments(pattern.segments, 0, segments, 0)) return true;
  const host = pattern.segments[0]!;
  if (!host.includes('*') || host === '**') return false;
  // A wildcard host is written against host names, and the name matched carries the canonical
  // one: `*.docker.io` must match Docker Hub, which `registry-1.docker.io` reaches, and
  // `*.example.com:*` the host on :443. So the wildcard also tries the other spellings of the
  // name's registry; a literal host was canonicalised when compiled and needs none of this.
  return otherSpellings(segments[0]!).some((spelling) => matchSegment(host, spelling) && matchSegments(pattern.segments, 1, segments, 1));
}

/** Other names of a canonical registry host that reach it: the default port, Docker Hub's names. */
function otherSpellings(host: string): string[] {
  const names = host === DEFAULT_REGISTRY ? [...DOCKER_HUB_ALIASES] : [host];
  return names.flatMap((n) => (/:\d+$/.test(n) ? [n] : [n, `${n}:443`])).filter((n) => n !== host);
}

/**
 * Whether pattern[pi..] matches name[ni..]. Each (pi, ni) is decided once: without remembering
 * the failures, a tenant's pattern of many `**` between literals, against a deep name,
 * backtracks exponentially (minutes for a dozen), on the event loop every namespace's
 * admissions share. With it, the work is at most pattern segments × name segments².
 */
function matchSegments(pattern: readonly string[], pi: number, name: readonly string[], ni: number, failed = new Set<number>()): boolean {
  if (pi === pattern.length) return ni === name.length;
  const state = pi * (name.length + 1) + ni;
  if (failed.has(state)) return false;
  const p = pattern[pi]!;
  let matched = false;
  if (p === '**') {
    // Zero or more whole segments.
    for (let k = ni; k <= name.length && !matched; k++) matched = matchSegments(pattern, pi + 1, name, k, failed);
  } else {
    matched = ni < name.length && matchSegment(p, name[ni]!) && matchSegments(pattern, pi + 1, name, ni + 1, failed);
  }
  if (!matched) failed.add(state);
  return matched;
}

function matchSegment(pattern: string, segment: string): boolean {
  if (!pattern.includes('*')) return pattern === segment;
  // `*` never crosses "/", and segments contain none: a linear glob within one segment.
  const parts = pattern.split('*');
  const head = parts[0]!;
  const tail = parts[parts.length - 1]!;
  if (!segment.startsWith(head) || !segment.endsWith(tail) || segment.length < head.length + tail.length) return false;
  let at = head.length;
  const end = segment.length - tail.length;
  for (const middle of parts.slice(1, -1)) {
    const found = segment.indexOf(middle, at);
    if (found === -1 || found + middle.length > end) return false;
    at = found + middle.length;
  }
  return true;
}

/**
 * Most specific first: an exact name beats any wildcard; then more literal characters; then
 * fewer `**`; then fewer `*`. Returns < 0 when `a` is more specific.
 */
export function compareSpecificity(a: Pattern, b: Pattern): number {
  if (a.exact !== b.exact) return a.exact ? -1 : 1;
  return b.literalChars - a.literalChars || a.doubleStars - b.doubleStars || a.singleStars - b.singleStars;
}
