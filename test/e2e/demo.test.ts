// `npm run demo` is part of the README's contract: it must keep behaving as it narrates.
import { run } from '../support/processes.js';
import { existsSync } from 'node:fs';

it('npm run demo walks every step and exits 0', async () => {
  expect(existsSync('dist/scripts/demo.js')).toBe(true);
  const r = await run(process.execPath, ['dist/scripts/demo.js'], { timeoutMs: 300_000 });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/Demo finished: all 20 checks behaved as narrated/);
  expect(r.stdout.match(/✔/g)?.length).toBe(20);
});
