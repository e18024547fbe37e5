// The CRDs in the chart are generated (scripts/generate-crds.ts) and must not drift; their
// schema must accept what trustgate accepts and refuse the same malformed fields.
import { readFileSync } from 'node:fs';
import { CRD_FILES, renderCrd, SPEC_SCHEMA } from '../../../scripts/generate-crds.js';
import { POLICY_LIMITS, supportedKinds } from '../../../src/policy/index.js';

describe('charts/trustgate/crds', () => {
  it.each(Object.keys(CRD_FILES))('%s is what scripts/generate-crds.ts writes (run npm run generate:crds)', (file) => {
    expect(readFileSync(`charts/trustgate/crds/${file}`, 'utf8')).toBe(renderCrd(CRD_FILES[file]!));
  });

  it('the spec schema lists exactly the fields parsePolicy reads', () => {
    expect(Object.keys(SPEC_SCHEMA.properties).sort()).toEqual(['action', 'authorities', 'images', 'mode', 'mutate', 'require', 'trust']);
    expect(Object.keys(SPEC_SCHEMA.properties.trust.properties).sort()).toEqual(['allowUnsignedDigests', 'caBundle', 'rootKeys', 'server', 'signers', 'trustOnFirstUse']);
    // An authority names one kind of those parsePolicy supports, with that kind's fields.
    expect(Object.keys(SPEC_SCHEMA.properties.authorities.items.properties).sort()).toEqual(['name', ...supportedKinds()].sort());
    expect(SPEC_SCHEMA.properties.authorities.items.properties.notary.properties).toEqual(SPEC_SCHEMA.properties.trust.properties);
    expect(SPEC_SCHEMA.properties.authorities.maxItems).toBe(POLICY_LIMITS.authorities);
    expect(SPEC_SCHEMA.properties.require.enum).toEqual(['any', 'all']);
  });
});
