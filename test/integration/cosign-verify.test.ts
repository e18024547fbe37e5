// trustgate's cosign verifier end to end: the real OCI registry client against Debian's
// docker-registry (legacy tags; bundles through the referrers tag schema) and the referrers
// registry (the referrers API), over images the real cosign CLI signed; every verdict first
// given by cosign verify.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseReference } from '../../src/reference/index.js';
import { OciRegistryClient } from '../../src/registry/oci/index.js';
import { CosignVerifier, parseCosignAuthority, type CosignSpec } from '../../src/trust/cosign/index.js';
import { isTrustError } from '../../src/trust/index.js';
import { Cosign, type CosignFormat, type CosignKeyPair } from '../support/cosign.js';
import { pushImage, startDockerRegistry, startReferrersRegistry, type RegistryServer } from '../support/registries.js';
import { testTools } from '../support/test-tools.js';

testTools();

let dir: string;
let registries: Record<'docker-registry' | 'referrers-registry', RegistryServer>;
let cosign: Cosign;
let publisher: CosignKeyPair;
let stranger: CosignKeyPair;
const client = new OciRegistryClient();

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'trustgate-cosign-verify-'));
  const [docker, referrers] = await Promise.all([startDockerRegistry(dir), startReferrersRegistry(dir)]);
  registries = { 'docker-registry': docker, 'referrers-registry': referrers };
  cosign = Cosign.create(path.join(dir, 'cosign'));
  [publisher, stranger] = await Promise.all([cosign.generateKeyPair('publisher'), cosign.generateKeyPair('stranger')]);
});

afterAll(async () => {
  client.close();
  await Promise.all(Object.values(registries ?? {}).map((r) => r.stop()));
  rmSync(dir, { recursive: true, force: true });
});

function spec(pub: string): CosignSpec {
  const r = parseCosignAuthority({ keys: [readFileSync(pub, 'utf8')], tlog: { required: false }, registry: { insecure: true } }, 'cosign');
  if ('problems' in r) throw new Error(r.problems.join('; '));
  return r.spec;
}

async function verify(image: string, pub: string): Promise<{ code: string; digest?: string; format?: string }> {
  try {
    const v = await new CosignVerifier(client).verify(parseReference(image), spec(pub), { credentials: undefined, signal: new AbortController().signal, timeoutMs: 10_000 });
    return { code: 'verified', digest: v.digest, format: v.evidence.kind === 'cosign' ? v.evidence.signatures[0]?.format : undefined };
  } catch (e) {
    if (isTrustError(e)) return { code: e.code };
    throw e;
  }
}

describe.each(['docker-registry', 'referrers-registry'] as const)('%s', (kind) => {
  describe.each(['legacy', 'bundle'] as CosignFormat[])('%s format', (format) => {
    it('admits what cosign verify admits and pins the tag; refuses a stranger and an unsigned push', async () => {
      const registry = registries[kind];
      const repo = `verify/${format}`;
      const image = await pushImage(registry, repo, '1.0', `${kind} ${format}`, dir);
      await cosign.sign(image.ref, publisher, format, registry);
      expect((await cosign.verifyWithKey(image.ref, publisher.pub, registry)).verified).toBe(true);
      expect((await cosign.verifyWithKey(image.ref, stranger.pub, registry)).verified).toBe(false);

      const tagged = `${registry.host}/${repo}:1.0`;
      expect(await verify(tagged, publisher.pub)).toEqual({ code: 'verified', digest: image.digest, format });
      expect((await verify(tagged, stranger.pub)).code).toBe('SIGNATURE_INVALID');

      const pushed = await pushImage(registry, repo, '1.0', `${kind} ${format} unsigned`, dir);
      expect((await cosign.verifyWithKey(pushed.ref, publisher.pub, registry)).verified).toBe(false);
      expect((await verify(tagged, publisher.pub)).code).toBe('NO_SIGNATURES');
    });
  });
});
