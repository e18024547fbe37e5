// The token flow moved to src/registry (shared by Notary and the OCI client). A server may name
// a plain-HTTP token realm on its own host (allowed for anonymous requests): the request for it
// went out with the server's HTTPS agent, which Node refuses before connecting, and the refused
// request's timer then threw after the timeout — an uncaught exception, the end of `trustgate
// serve`, for any pod naming a registry whose trust server answers so. Now it is a refusal like
// any unreachable realm, and the process is still there after the timeout.
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NO_PINS, TrustClient } from '../../src/trust/index.js';
import { CredentialRecorder } from '../support/credential-recorder.js';
import { makeTls } from '../support/tls.js';

it('a Notary server naming an HTTP realm on its own host is refused, and nothing throws later', async () => {
  const tls = await makeTls(mkdtempSync(path.join(os.tmpdir(), 'trustgate-http-realm-')));
  const server = new CredentialRecorder(tls);
  const port = await server.listen();
  server.challenge = `Bearer realm="http://127.0.0.1:${port}/token",service="notary"`;
  const client = new TrustClient({ requestTimeoutMs: 100 });
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => uncaught.push(e);
  process.on('uncaughtException', onUncaught);
  try {
    await expect(
      client.loadRepository({ server: `https://127.0.0.1:${port}`, gun: 'registry.example/team/app', pins: NO_PINS, roles: { all: true }, caBundle: readFileSync(tls.caCert, 'utf8'), credentials: undefined, timeoutMs: 2000 }),
    ).rejects.toMatchObject({ name: 'TrustError', code: 'UNREACHABLE' });
    await new Promise((r) => setTimeout(r, 300));
    expect(uncaught).toEqual([]);
  } finally {
    process.off('uncaughtException', onUncaught);
    client.close();
    await server.close();
  }
});
