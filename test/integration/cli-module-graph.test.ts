// What `trustgate verify --kind cosign` loads: issue 10 asks its wall time to be no more than
// `cosign verify`'s (bench/cosign-cli-vs-cosign.ts), and most of a Node command's start is the
// modules it loads. Notary's verifier and, against a plain-HTTP registry, node:https and node:tls
// (~15-20 ms of CPU) are not needed; neither is sigstore-js for a key without the log.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { CLI } from '../support/cli.js';
import { freePort, run } from '../support/processes.js';

// Prints, at exit, the ES modules and CommonJS files loaded and the builtins Node initialised.
const REPORT = `data:text/javascript,${encodeURIComponent(`
import { registerHooks } from 'node:module';
import { writeSync } from 'node:fs';
const urls = [];
registerHooks({ load(url, context, next) { urls.push(url); return next(url, context); } });
process.on('exit', () => writeSync(2, '\\nLOADED ' + JSON.stringify({ urls, builtins: process.moduleLoadList }) + '\\n'));
`)}`;

describe('trustgate verify --kind cosign, its module graph', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cli-module-graph-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads neither Notary, nor sigstore-js, nor TLS for a key without the log against a plain-HTTP registry', async () => {
    const key = path.join(dir, 'cosign.pub');
    writeFileSync(key, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }));
    // Nothing listens there: the command gets as far as its first request, then refuses.
    const image = `127.0.0.1:${await freePort()}/team/app:1.0`;
    const r = await run(process.execPath, ['--import', REPORT, CLI, 'verify', image, '--kind', 'cosign', '--key', key, '--insecure-ignore-tlog', '--insecure-registry', '--timeout', '5'], { env: { HOME: dir } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('UNREACHABLE');
    const line = /LOADED (.*)/.exec(r.stderr)?.[1];
    expect(line).toBeDefined();
    const { urls, builtins } = JSON.parse(line!) as { urls: string[]; builtins: string[] };
    // It did load the cosign verifier and the registry client: the check below is not vacuous.
    expect(urls.some((u) => u.endsWith('/src/trust/cosign/verifier.js'))).toBe(true);
    expect(urls.some((u) => u.endsWith('/src/registry/oci/client.js'))).toBe(true);
    expect(urls.filter((u) => /\/src\/trust\/(notary\/|client\.js|verify-image\.js|update\.js)/.test(u))).toEqual([]);
    expect(urls.filter((u) => u.includes('@sigstore') || u.includes('/tuf-js/'))).toEqual([]);
    expect(builtins.filter((b) => /^NativeModule (tls|https|_tls_wrap|internal\/tls\/wrap)$/.test(b))).toEqual([]);
  });
});
