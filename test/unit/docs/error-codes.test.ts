import { readFileSync } from 'node:fs';
import { fixFor } from '../../../src/admission/index.js';
import { ReferenceError } from '../../../src/reference/index.js';
import { CredentialsError } from '../../../src/registry/index.js';
import { ClientAuthCode, RequestLimitCode } from '../../../src/server/index.js';
import { DENIAL_CODE_NAMES, DENIAL_CODES, isCacheableRefusal } from '../../../src/shared/denial-codes.js';
import { TrustErrorCode } from '../../../src/trust/index.js';

// Every code a user can see is in the registry (src/shared/denial-codes.ts), and has a
// "## CODE" section in docs/troubleshooting.md with a cause and a fix.
const doc = readFileSync('docs/troubleshooting.md', 'utf8');
const sections = new Map(
  doc.split(/^## /m).slice(1).map((section) => [section.split('\n')[0]!.trim(), section] as const),
);

describe('the denial-code registry', () => {
  it('holds every code the layers raise', () => {
    const raised = [...Object.values(TrustErrorCode), new ReferenceError('x', 'y').code, new CredentialsError('x').code, ...Object.values(ClientAuthCode), ...Object.values(RequestLimitCode)];
    expect(raised.filter((code) => !DENIAL_CODE_NAMES.includes(code))).toEqual([]);
  });

  it('gives a fix hint in admission messages for every code a denial can carry', () => {
    const inDenials = DENIAL_CODE_NAMES.filter((c) => DENIAL_CODES[c].owner !== 'request' && DENIAL_CODES[c].owner !== 'cli' && DENIAL_CODES[c].fix !== undefined);
    expect(inDenials.length).toBeGreaterThan(30);
    for (const code of inDenials) expect(fixFor(code)).toBe(DENIAL_CODES[code].fix);
    expect(fixFor('NOT_A_CODE')).toBe('see docs/troubleshooting.md');
  });

  it('says which trust codes a cache may keep: never the transient or those publishing cures', () => {
    expect(DENIAL_CODE_NAMES.filter((c) => DENIAL_CODES[c].caching === 'transient')).toEqual(['TIMEOUT', 'TRUST_STATE_FULL', 'TRUST_STATE_UNAVAILABLE']);
    expect(DENIAL_CODE_NAMES.filter((c) => DENIAL_CODES[c].caching === 'unpublished')).toEqual(['NO_TRUST_DATA', 'TAG_NOT_SIGNED', 'DIGEST_NOT_SIGNED', 'SIGNER_MISSING', 'NO_SIGNATURES']);
    expect(isCacheableRefusal('EXPIRED')).toBe(true);
    expect(isCacheableRefusal('TIMEOUT')).toBe(false);
    expect(isCacheableRefusal('POLICY_DENIED')).toBe(false);
  });

  it('shares the registry-signature codes between cosign and Notation, and reserves each kind\'s own', () => {
    const owned = (owner: string) => DENIAL_CODE_NAMES.filter((c) => DENIAL_CODES[c].owner === owner);
    expect(owned('signatures')).toEqual(['NO_SIGNATURES', 'SIGNATURE_INVALID', 'PAYLOAD_MISMATCH', 'IDENTITY_MISMATCH', 'CERTIFICATE_INVALID', 'REGISTRY_ERROR']);
    expect(owned('cosign')).toEqual(['TLOG_INVALID']);
    expect(owned('notation')).toEqual(['NO_TRUST_POLICY', 'UNSUPPORTED_SIGNATURE', 'SIGNATURE_EXPIRED', 'TIMESTAMP_INVALID', 'REVOCATION_UNAVAILABLE']);
  });
});

describe('docs/troubleshooting.md', () => {
  it.each(DENIAL_CODE_NAMES)('documents %s with its cause and fix', (code) => {
    const section = sections.get(code);
    expect(section).toBeDefined();
    expect(section).toMatch(/\*\*Cause:\*\*/);
    expect(section).toMatch(/\*\*Fix:\*\*/);
  });

  it('documents no code that does not exist', () => {
    expect([...sections.keys()].filter((code) => !DENIAL_CODE_NAMES.includes(code as never))).toEqual([]);
  });
});
