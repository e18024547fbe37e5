// The CRDs in the chart are generated (scripts/generate-crds.ts) and must not drift; their
// schema must accept what trustgate accepts and refuse the same malformed fields.
import { readFileSync } from 'node:fs';
import { CRD_FILES, renderCrd, SPEC_SCHEMA } from '../../../scripts/generate-crds.js';

describe('charts/trustgate/crds', () => {
  it.each(Object.keys(CRD_FILES))('%s is what scripts/generate-crds.ts writes (run npm run generate:crds)', (file) => {
    expect(readFileSync(`charts/trustgate/crds/${file}`, 'utf8')).toBe(renderCrd(CRD_FILES[file]!));
  });

  it('the spec schema lists exactly the fields parsePolicy reads', () => {
    expect(Object.keys(SPEC_SCHEMA.properties).sort()).toEqual(['action', 'images', 'mode', 'mutate', 'trust']);
    expect(Object.keys(SPEC_SCHEMA.properties.trust.properties).sort()).toEqual(['allowUnsignedDigests', 'caBundle', 'rootKeys', 'server', 'signers', 'trustOnFirstUse']);
  });
});
