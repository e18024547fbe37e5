// Manifests name images, containers and objects a contributor chose: check's text output must
// not carry a terminal escape to a CI log or a developer's terminal, and its JSON and SARIF must
// stay valid documents that give the strings back exactly (code-scanning tools render them).
import { runCli, policyFile, tempFiles } from '../support/check-cli.js';
import { ScriptedVerifier } from '../support/fake-verifier.js';

const POLICIES = policyFile(tempFiles({}), ['registry.test/**']);
const ESC = '\u001b';
const HOSTILE_IMAGE = `registry.test/team/app:1.0${ESC}[2J${ESC}]0;owned\u0007\r\nok`;
const HOSTILE_NAME = `web${ESC}[31mRED\u2028x`;
const HOSTILE_CONTAINER = `c${ESC}[1A\u0000`;

const manifest = JSON.stringify({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: HOSTILE_NAME },
  spec: { containers: [{ name: HOSTILE_CONTAINER, image: HOSTILE_IMAGE }, { name: 'plain', image: `registry.test/team/unsigned:1${ESC}` }] },
});

async function check(output: string) {
  return runCli(['check', '-f', '-', '--policies', POLICIES, '--output', output], { verifier: new ScriptedVerifier({}), stdin: manifest });
}

/** C0 and C1 controls, DEL, and the Unicode line separators. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/;

describe('check: hostile strings in manifests', () => {
  it('text: no control character or escape reaches the output, and each finding stays one line', async () => {
    const r = await check('text');
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(CONTROL);
    const lines = r.stdout.split('\n');
    expect(lines).toHaveLength(3); // two findings and the summary
    expect(lines[0]).toContain('\\u001b[2J');
    expect(lines[0]).toContain('Pod/web\\u001b[31mRED');
  });

  it('JSON: a valid document with no raw control character, giving the strings back exactly', async () => {
    const r = await check('json');
    expect(r.stdout).not.toMatch(CONTROL);
    const json = JSON.parse(r.stdout) as { objects: { name: string; containers: { name: string; image: string }[] }[] };
    expect(json.objects[0]?.name).toBe(HOSTILE_NAME);
    expect(json.objects[0]?.containers[0]).toMatchObject({ name: HOSTILE_CONTAINER, image: HOSTILE_IMAGE });
  });

  it('SARIF: a valid document with no raw control character; messages carry the escaped words', async () => {
    const r = await check('sarif');
    expect(r.stdout).not.toMatch(CONTROL);
    const sarif = JSON.parse(r.stdout) as { runs: { results: { ruleId: string; message: { text: string } }[] }[] };
    const results = sarif.runs[0]!.results;
    expect(results.map((x) => x.ruleId)).toEqual(['INVALID_REFERENCE', 'INVALID_REFERENCE']);
    for (const result of results) expect(result.message.text).not.toContain(ESC);
  });

  it('a file name with control characters is escaped in text and encoded in SARIF', async () => {
    const dir = tempFiles({ [`evil${ESC}[2J.yaml`]: 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: registry.test/team/unsigned:1}]}\n' });
    const text = await runCli(['check', '-f', dir, '--policies', POLICIES], { verifier: new ScriptedVerifier({}) });
    expect(text.stdout).not.toMatch(CONTROL);
    expect(text.stdout).toContain('evil\\u001b[2J.yaml:4: deny');
    const sarif = await runCli(['check', '-f', dir, '--policies', POLICIES, '--output', 'sarif'], { verifier: new ScriptedVerifier({}) });
    expect(sarif.stdout).toContain('evil%1B%5B2J.yaml');
  });

  it('errors about input name hostile files escaped, too', async () => {
    const r = await runCli(['check', '-f', `/nonexistent/${ESC}[2J`, '--policies', POLICIES]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(CONTROL);
  });
});
