import http from 'node:http';
import { TokenSource } from '../../../src/registry/auth.js';
import { registryOrigin } from '../../../src/registry/oci/transport.js';

const io = (server: string) => ({ agent: new http.Agent(), timeoutMs: 1000, signal: undefined, server: new URL(server) });

describe('TokenSource and Basic challenges', () => {
  it('answers Basic with the credentials over HTTPS', async () => {
    await expect(new TokenSource().authorization({ scheme: 'basic', params: {} }, 'repository:a:pull', { username: 'u', password: 'p' }, io('https://registry.example'))).resolves.toBe(
      `Basic ${Buffer.from('u:p').toString('base64')}`,
    );
  });

  it('never answers Basic with a password over plain HTTP', async () => {
    await expect(new TokenSource().authorization({ scheme: 'basic', params: {} }, 'repository:a:pull', { username: 'u', password: 'p' }, io('http://registry.example'))).rejects.toMatchObject({
      code: 'AUTH_FAILED',
      message: expect.stringContaining('plain HTTP'),
    });
  });
});

describe('registryOrigin', () => {
  const conn = (registry: string, insecure = false) => ({ registry, insecure, caBundle: undefined, credentials: undefined, signal: undefined, timeoutMs: 1000 });

  it.each([
    ['registry.example.com', false, 'https://registry.example.com'],
    ['localhost:5000', true, 'http://localhost:5000'],
    ['[::1]:5000', false, 'https://[::1]:5000'],
    // Docker Hub's API host (docker registry/config.go).
    ['docker.io', false, 'https://registry-1.docker.io'],
  ])('%s (insecure: %s) → %s', (registry, insecure, origin) => {
    expect(registryOrigin(conn(registry, insecure)).origin).toBe(origin);
  });

  it.each(['registry.example.com/path', 'user@registry.example.com', 'registry.example.com:443', 'reg istry', ''])('refuses %p as a registry', (registry) => {
    expect(() => registryOrigin(conn(registry))).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });
});
