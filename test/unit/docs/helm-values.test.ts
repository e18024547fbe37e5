import { readFileSync } from 'node:fs';

// Every value of charts/trustgate/values.schema.json has a row in docs/configuration.md.
interface Schema {
  properties?: Record<string, Schema>;
  additionalProperties?: unknown;
}

function leaves(schema: Schema, prefix = ''): string[] {
  return Object.entries(schema.properties ?? {}).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    // Closed objects are documented field by field; open ones (maps, resources) as a whole.
    return child.properties && child.additionalProperties === false ? leaves(child, path) : [path];
  });
}

const schema = JSON.parse(readFileSync('charts/trustgate/values.schema.json', 'utf8')) as Schema;
const doc = readFileSync('docs/configuration.md', 'utf8');
const helmSection = doc.slice(doc.indexOf('## Helm values'));

describe('docs/configuration.md documents every Helm value', () => {
  it.each(leaves(schema))('%s', (path) => {
    expect(helmSection).toContain(`| \`${path}\` |`);
  });
});
