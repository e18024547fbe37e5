import { nextLink } from '../../../../src/registry/oci/index.js';

describe('nextLink (RFC 8288 Link header)', () => {
  it.each([
    ['</v2/a/referrers/sha256:1?n=2&last=x>; rel="next"', '/v2/a/referrers/sha256:1?n=2&last=x'],
    ['</p2>; rel=next', '/p2'],
    ['</p2>;rel="NEXT"', '/p2'],
    // rel holds space-separated relation types.
    ['</p2>; rel="prefetch next"', '/p2'],
    // The first link is not next; the second is. Commas inside <> belong to the URI.
    ['</prev,1>; rel="prev", </next;2>; rel="next"', '/next;2'],
    // Other params, quoted strings with escapes, before rel.
    ['</p2>; title="a \\"b\\"; c"; rel="next"', '/p2'],
    ['<https://registry.example/v2/a/referrers/sha256:1?page=2>; rel="next"; type="application/json"', 'https://registry.example/v2/a/referrers/sha256:1?page=2'],
  ])('%s → %s', (header, uri) => {
    expect(nextLink(header)).toBe(uri);
  });

  it.each([
    [undefined],
    [''],
    ['</p2>; rel="prev"'],
    ['</p2>'],
    ['rel="next"'],
    // RFC 8288 3.3: only the first rel of a link counts.
    ['</p2>; rel="prev"; rel="next"'],
    // "nextpage" is another relation type.
    ['</p2>; rel="nextpage"'],
  ])('no next link in %p', (header) => {
    expect(nextLink(header)).toBeUndefined();
  });

  it('reads every Link header when there are several', () => {
    expect(nextLink(['</a>; rel="prev"', '</b>; rel="next"'])).toBe('/b');
  });
});
