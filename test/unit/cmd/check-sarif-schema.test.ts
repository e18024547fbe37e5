// `check --output sarif` is valid SARIF 2.1.0: validated against the OASIS schema itself
// (test/fixtures/sarif/sarif-schema-2.1.0.json, origin in test/fixtures/README.md), the file
// code-scanning uploads are checked against, for every shape of report check can print.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import Ajv from 'ajv';
import { ScriptedVerifier } from '../../support/fake-verifier.js';
import { policyFile, runCli, tempFiles } from '../../support/check-cli.js';

const SCHEMA_FILE = path.join(import.meta.dirname, '../../fixtures/sarif/sarif-schema-2.1.0.json');
/** The draft-04 meta-schema ajv 6 ships. */
const DRAFT_04 = createRequire(import.meta.url).resolve('ajv/lib/refs/json-schema-draft-04.json');

/**
 * The schema is JSON Schema draft-04 (its `$schema`, and `id` not `$id`): ajv 6 validates draft-04
 * with that meta-schema added in place of its default draft-07 one (ajv 6 README, "Using version 6").
 * Formats (uri, uri-reference, date-time) are checked in full; an unknown format fails compilation.
 */
function sarifValidator(): (data: unknown) => string[] {
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as { $schema: string };
  expect(schema.$schema).toBe('http://json-schema.org/draft-04/schema#');
  const ajv = new Ajv({ schemaId: 'id', meta: false, allErrors: true, format: 'full' });
  ajv.addMetaSchema(JSON.parse(readFileSync(DRAFT_04, 'utf8')) as object);
  const validate = ajv.compile(schema);
  return (data) => (validate(data) ? [] : (validate.errors ?? []).map((e) => `${e.dataPath} ${e.message ?? ''}`));
}

const SIGNED = `sha256:${'a'.repeat(64)}`;
const verifier = () => new ScriptedVerifier({ 'registry.test/team/app:1.0': SIGNED });
const pod = (name: string, image: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${JSON.stringify(name)}}\nspec: {containers: [{name: c, image: ${JSON.stringify(image)}}]}\n`;

describe('check --output sarif against the SARIF 2.1.0 schema', () => {
  const validate = sarifValidator();

  it('the validator refuses what is not SARIF (it can fail)', () => {
    expect(validate({ version: '2.1.0', runs: [{ tool: { driver: {} } }] })).not.toEqual([]);
    expect(validate({ version: '2.1.0', runs: [{ tool: { driver: { name: 't' } }, results: [{ message: { text: 'm' }, level: 'fatal' }] }] })).not.toEqual([]);
    expect(validate({ version: '2.0.0', runs: [] })).not.toEqual([]);
    // Formats are checked: a file name not percent-encoded is not a URI reference.
    const at = (uri: string) => ({ version: '2.1.0', runs: [{ tool: { driver: { name: 't' } }, results: [{ message: { text: 'm' }, locations: [{ physicalLocation: { artifactLocation: { uri } } }] }] }] });
    expect(validate(at('dir/a%20b.yaml'))).toEqual([]);
    expect(validate(at('dir/a b.yaml'))).not.toEqual([]);
  });

  it('a report with no findings', async () => {
    const dir = tempFiles({ 'ok.yaml': pod('ok', 'registry.test/team/app:1.0') });
    const r = await runCli(['check', '-f', dir, '--policies', policyFile(dir, ['registry.test/**']), '--output', 'sarif'], { verifier: verifier() });
    expect(r.code).toBe(0);
    expect(validate(JSON.parse(r.stdout))).toEqual([]);
  });

  it('deny, warn and audit findings, a malformed object, absolute and relative paths and odd file names', async () => {
    const dir = tempFiles({
      'deny.yaml': pod('d', 'registry.test/team/unsigned:1'),
      'a file with spaces, % and ü.yaml': pod('odd\u2028name', 'registry.test/team/unsigned:2'),
      'malformed.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: {name: m}\nspec: {containers: [{name: c, image: 42}]}\n',
    });
    const enforce = policyFile(dir, ['registry.test/**']);
    const absolute = await runCli(['check', '-f', dir, '--policies', enforce, '--output', 'sarif'], { verifier: verifier() });
    expect(absolute.code).toBe(1);
    const report = JSON.parse(absolute.stdout) as { runs: { results: { level: string }[] }[] };
    expect(report.runs[0]!.results.map((r) => r.level)).toEqual(['error', 'error', 'error']);
    expect(validate(report)).toEqual([]);

    const relative = await runCli(['check', '-f', path.relative(process.cwd(), dir), '--policies', enforce, '--output', 'sarif'], { verifier: verifier() });
    expect(validate(JSON.parse(relative.stdout))).toEqual([]);

    for (const mode of ['warn', 'audit']) {
      const r = await runCli(['check', '-f', path.join(dir, 'deny.yaml'), '--policies', policyFile(dir, ['registry.test/**'], `  mode: ${mode}\n`), '--output', 'sarif'], { verifier: verifier() });
      expect(r.code).toBe(0);
      const sarif = JSON.parse(r.stdout) as typeof report;
      expect(sarif.runs[0]!.results.map((x) => x.level)).toEqual([mode === 'warn' ? 'warning' : 'note']);
      expect(validate(sarif)).toEqual([]);
    }
  });

  it('manifests read from stdin', async () => {
    const dir = tempFiles({});
    const r = await runCli(['check', '-f', '-', '--policies', policyFile(dir, ['registry.test/**']), '--output', 'sarif'], { verifier: verifier(), stdin: pod('s', 'registry.test/team/unsigned:1') });
    expect(r.code).toBe(1);
    expect(validate(JSON.parse(r.stdout))).toEqual([]);
  });
});
