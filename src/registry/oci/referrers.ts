// The referrers of a manifest (distribution-spec "Listing Referrers"): the referrers API, page
// by page, else — when the registry answers the API with 404 — the referrers tag schema, an
// image index tagged `sha256-<hex>` ("Unavailable Referrers API"). Either way the list is
// filtered by artifactType here: `OCI-Filters-Applied` says a registry filtered, and filtering
// again costs nothing and does not rest on its word.
import { TrustError } from '../../shared/trust-error.js';
import { referrersTag } from './digest.js';
import { readIndex, requireVerifiable } from './document.js';
import type { RegistryLimits } from './limits.js';
import { nextLink } from './link.js';
import { contentType, isMediaType, shown } from './media-types.js';
import { unexpectedStatus } from './status.js';
import type { Call, RegistryTransport } from './transport.js';
import { MediaType, type Descriptor, type FetchedManifest } from './types.js';

export interface ReferrersQuery {
  readonly call: Call;
  readonly transport: RegistryTransport;
  readonly limits: RegistryLimits;
  readonly digest: string;
  readonly artifactType: string;
  /** Referrers of that type that may be returned; more is an error, never a silent cut. */
  readonly max: number;
  /** A manifest of the call's repository by tag (the tag-schema fallback). */
  readonly fetchIndex: <T>(tag: string, maxBytes: number, use: (index: FetchedManifest | undefined) => T) => Promise<T>;
}

export async function listReferrers(q: ReferrersQuery): Promise<readonly Descriptor[]> {
  if (!isMediaType(q.artifactType)) throw new TrustError('INVALID_OPTION', `artifactType ${shown(q.artifactType)} is not a media type`);
  const endpoint = new URL(`/v2/${q.call.repository}/referrers/${q.digest}`, q.call.origin);
  endpoint.searchParams.set('artifactType', q.artifactType);
  const list = new ReferrersList(q);
  const visited = new Set<string>();
  let page: URL | undefined = endpoint;
  for (let n = 1; page; n++) {
    if (n > q.limits.referrersPages) throw new TrustError('TOO_LARGE', `${list.what}: more than ${q.limits.referrersPages} pages`);
    visited.add(page.href);
    const request = { method: 'GET', path: `${page.pathname}${page.search}`, accept: MediaType.OCI_INDEX, maxBytes: q.limits.referrersBytes, what: list.what } as const;
    const read = await q.transport.fetch(q.call, request, (res) => {
      // A registry with the API never answers it 404; only the first page may say it has none.
      if (res.status === 404 && n === 1) return 'absent';
      if (res.status !== 200) throw unexpectedStatus(res, list.what);
      const served = contentType(res.headers['content-type']);
      if (served !== MediaType.OCI_INDEX) {
        throw new TrustError('REGISTRY_ERROR', `${list.what}: served as ${served === undefined ? 'nothing' : shown(served)}, not an OCI image index`);
      }
      list.add(readIndex(res.body, q.limits, `${list.what}, page ${n}`).manifests);
      return { link: res.headers.link };
    });
    if (read === 'absent') return fromTagSchema(q, list);
    page = nextPage(read.link, page, endpoint, visited, list.what);
  }
  return list.result();
}

/**
 * The referrers tag schema: an index whose manifests are the referrers. No such tag means no
 * referrers, and so does a tag that is no OCI index (distribution-spec: "the client SHOULD
 * assume there are no referrers"); an index that is malformed, too large or does not match its
 * digest is an error, not an empty list.
 */
async function fromTagSchema(q: ReferrersQuery, list: ReferrersList): Promise<readonly Descriptor[]> {
  const tag = referrersTag(q.digest);
  return q.fetchIndex(tag, q.limits.referrersBytes, (index) => {
    if (index?.mediaType !== MediaType.OCI_INDEX) return [];
    list.add(readIndex(index.bytes, q.limits, `referrers index ${tag} of ${q.call.repository}`).manifests);
    return list.result();
  });
}

/**
 * The next page named by a `Link` header, resolved against the page it came with. It must stay
 * on the registry's origin and on this referrers endpoint (it carries the registry's token and
 * must answer this query), and must not name a page already read (a loop).
 */
function nextPage(header: string | string[] | undefined, page: URL, endpoint: URL, visited: ReadonlySet<string>, what: string): URL | undefined {
  const link = nextLink(header);
  if (link === undefined) return undefined;
  let next: URL;
  try {
    next = new URL(link, page);
  } catch {
    throw new TrustError('REGISTRY_ERROR', `${what}: the next page's Link ${shown(link)} is not a URL`);
  }
  if (next.origin !== endpoint.origin) throw new TrustError('REGISTRY_ERROR', `${what}: the next page's Link leads to ${next.protocol}//${next.host}, off the registry`);
  if (next.pathname !== endpoint.pathname) throw new TrustError('REGISTRY_ERROR', `${what}: the next page's Link leads off the referrers of this digest`);
  if (visited.has(next.href)) throw new TrustError('REGISTRY_ERROR', `${what}: the next page's Link loops back to a page already read`);
  return next;
}

/** The descriptors seen so far, bounded before and after filtering. */
class ReferrersList {
  readonly what: string;
  private listed = 0;
  private readonly kept = new Map<string, Descriptor>();

  constructor(private readonly q: ReferrersQuery) {
    this.what = `referrers of ${q.digest} in ${q.call.repository}`;
  }

  add(descriptors: readonly Descriptor[]): void {
    this.listed += descriptors.length;
    if (this.listed > this.q.limits.referrersListed) throw new TrustError('TOO_LARGE', `${this.what}: more than ${this.q.limits.referrersListed} listed`);
    const wanted = descriptors.filter((d) => d.artifactType === this.q.artifactType);
    requireVerifiable(wanted, this.what);
    // The same manifest twice (on two pages, or twice in the index) is one referrer.
    for (const d of wanted) if (!this.kept.has(d.digest)) this.kept.set(d.digest, d);
    if (this.kept.size > this.q.max) {
      throw new TrustError('TOO_LARGE', `${this.what}: more than ${this.q.max} of type ${shown(this.q.artifactType)}`);
    }
  }

  result(): readonly Descriptor[] {
    return [...this.kept.values()];
  }
}
