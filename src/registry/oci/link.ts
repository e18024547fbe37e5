// The `Link` header that pages a referrers list (distribution-spec "Listing Referrers": "set
// according to RFC 5988 with the Relation Type rel=\"next\""). RFC 8288 section 3:
//   Link = #link-value;  link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param )
//   link-param = token BWS [ "=" BWS ( token / quoted-string ) ]
// `rel` holds space-separated relation types, compared case-insensitively.

/** The URI reference of the first link whose relation types include `next`, as written. */
export function nextLink(header: string | readonly string[] | undefined): string | undefined {
  const values = typeof header === 'string' ? [header] : (header ?? []);
  for (const value of values) {
    for (const link of splitLinks(value)) {
      const rel = link.params.get('rel');
      if (rel?.toLowerCase().split(/\s+/).includes('next')) return link.uri;
    }
  }
  return undefined;
}

interface Link {
  readonly uri: string;
  readonly params: ReadonlyMap<string, string>;
}

/** Each `<uri>; params` of a header; text between them that is no link-value is skipped. */
function splitLinks(header: string): Link[] {
  const links: Link[] = [];
  // The URI inside <> may hold commas and semicolons; params end at the next link-value.
  const linkRe = /<([^>]*)>([^<]*)/g;
  let m: RegExpExecArray | null;
  while ((m = linkRe.exec(header)) !== null) links.push({ uri: m[1]!.trim(), params: readParams(m[2]!) });
  return links;
}

function readParams(text: string): Map<string, string> {
  const params = new Map<string, string>();
  const paramRe = /;\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*(?:=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;,]*)))?/g;
  let m: RegExpExecArray | null;
  while ((m = paramRe.exec(text)) !== null) {
    const name = m[1]!.toLowerCase();
    // RFC 8288 section 3.3: a second `rel` on one link is ignored.
    if (!params.has(name)) params.set(name, m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? ''));
  }
  return params;
}
