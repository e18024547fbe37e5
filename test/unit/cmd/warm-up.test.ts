// The start-up run of the review path (cmd/cli/warm-up.ts) verifies what it says it verifies: a
// byte-for-byte copy of a repository recorded from notary-server, admitted and pinned through
// decide(). If it stopped verifying, serve would only log a warning and first reviews would be
// slow again; this test is what notices.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { warmUpReviewPath } from '../../../cmd/cli/warm-up.js';
import { WARM_UP_DIGEST, WARM_UP_FILES, WARM_UP_GUN, WARM_UP_NOW, WARM_UP_TAG } from '../../../src/trust/notary/warm-up-repository.js';
import { loadScenario } from '../../support/fixtures.js';

it('embeds test/fixtures/notary/targets-only unchanged, with its recorded gun, tag and time', () => {
  const recorded = loadScenario('targets-only');
  expect(WARM_UP_GUN).toBe(recorded.scenario.gun);
  expect(WARM_UP_DIGEST).toBe(recorded.scenario.tags[WARM_UP_TAG]);
  expect(WARM_UP_NOW).toBe(recorded.now);
  expect(WARM_UP_FILES.length).toBeGreaterThanOrEqual(4);
  for (const [name, b64] of WARM_UP_FILES) {
    expect(Buffer.from(b64, 'base64').equals(readFileSync(path.resolve('test/fixtures/notary/targets-only', `${name}.json`)))).toBe(true);
  }
});

it('verifies the recorded tag through decide(): admitted and pinned to the recorded digest', async () => {
  const result = await warmUpReviewPath();
  expect(result.ok).toBe(true);
});
