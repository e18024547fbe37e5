import { readFileSync } from 'node:fs';
import { TrustErrorCode } from '../../../src/trust/index.js';
import { ReferenceError } from '../../../src/reference/index.js';

// Every code a user can see has a "## CODE" section with a cause and a fix.
const doc = readFileSync('docs/troubleshooting.md', 'utf8');
const sections = new Map(
  doc.split(/^## /m).slice(1).map((section) => [section.split('\n')[0]!.trim(), section] as const),
);

describe('docs/troubleshooting.md', () => {
  const codes = [...Object.values(TrustErrorCode), new ReferenceError('x', 'y').code];

  it.each(codes)('documents %s with its cause and fix', (code) => {
    const section = sections.get(code);
    expect(section).toBeDefined();
    expect(section).toMatch(/\*\*Cause:\*\*/);
    expect(section).toMatch(/\*\*Fix:\*\*/);
  });

  it('documents no code that does not exist', () => {
    expect([...sections.keys()].filter((code) => !codes.includes(code as never))).toEqual([]);
  });
});
