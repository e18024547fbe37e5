import http from 'node:http';
import https from 'node:https';
import { httpRequest } from '../../../src/registry/http.js';

describe('httpRequest', () => {
  it('a request Node refuses before connecting (an HTTPS agent for an http: URL) is UNREACHABLE, and nothing fires later', async () => {
    // An HTTP realm on the server's own host is asked with the server's HTTPS agent (src/registry/auth.ts).
    const agent = new https.Agent();
    const request = httpRequest({ url: new URL('http://127.0.0.1:9/token'), agent, maxBytes: 1024, timeoutMs: 20, signal: undefined, what: 'token' });
    await expect(request).rejects.toMatchObject({ name: 'TrustError', code: 'UNREACHABLE' });
    // Past the request's timeout: its timer must not fire on a request that never existed.
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    await new Promise((r) => setTimeout(r, 60));
    process.off('uncaughtException', onUncaught);
    expect(uncaught).toEqual([]);
    agent.destroy();
  });

  it('HEAD is not refused for the Content-Length of the body it does not carry', async () => {
    const server = http.createServer((_req, res) => void res.writeHead(200, { 'content-length': '1000000', 'docker-content-digest': 'sha256:x' }).end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const agent = new http.Agent();
    try {
      const url = new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
      const res = await httpRequest({ url, agent, maxBytes: 0, timeoutMs: 2000, signal: undefined, method: 'HEAD', what: 'head' });
      expect(res.status).toBe(200);
      expect(res.headers['docker-content-digest']).toBe('sha256:x');
      await expect(httpRequest({ url, agent, maxBytes: 10, timeoutMs: 2000, signal: undefined, what: 'get' })).rejects.toMatchObject({ code: 'TOO_LARGE' });
    } finally {
      agent.destroy();
      server.close();
    }
  });
});
