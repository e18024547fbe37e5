import { readFileSync } from 'node:fs';
import { TrustErrorCode } from '../../../src/trust/index.js';
import { ReferenceError } from '../../../src/reference/index.js';
import { fixFor } from '../../../src/admission/index.js';
import { CredentialsError } from '../../../src/registry/index.js';
import { ClientAuthCode, RequestLimitCode } from '../../../src/server/index.js';

// Every code a user can see has a "## CODE" section with a cause and a fix.
const doc = readFileSync('docs/troubleshooting.md', 'utf8');
const sections = new Map(
  doc.split(/^## /m).slice(1).map((section) => [section.split('\n')[0]!.trim(), section] as const),
);

describe('docs/troubleshooting.md', () => {
  // Trust codes, the reference code, and the codes admission adds (src/admission).
  // …and the CLI's INVALID_CREDENTIALS, which no denial carries.
  const codes = [...Object.values(TrustErrorCode), new ReferenceError('x', 'y').code, 'POLICY_DENIED', 'POLICY_REFUSED', 'NO_POLICY', 'DIGEST_CONFLICT', 'TOO_MANY_IMAGES', 'TOO_MANY_PULL_SECRETS', 'NOT_PINNED', 'UNSUPPORTED_KIND', 'MALFORMED_OBJECT', new CredentialsError('x').code, ...Object.values(ClientAuthCode), ...Object.values(RequestLimitCode)];
  // …and the HTTP refusals of clients without the API server's certificate (tls.clientCAFile),
  // and of requests refused for what they would cost (src/server/body.ts).
  const notInDenials = ['UNSUPPORTED_KIND', 'MALFORMED_OBJECT', 'INVALID_CREDENTIALS', ...Object.values(ClientAuthCode), ...Object.values(RequestLimitCode)];

  it('has a fix hint in admission messages for every code a denial can carry', () => {
    for (const code of codes.filter((c) => !notInDenials.includes(c))) expect(fixFor(code)).not.toBe('see docs/troubleshooting.md');
  });

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
