// A repository load joined by several lookups (client.ts) runs while any of them still waits,
// and stops once every one has given up (its review's deadline): src/shared/shared-work.ts.
import { NO_PINS, TrustClient, type MetadataFetcher } from '../../../src/trust/index.js';
import { loadScenario } from '../../support/fixtures.js';
import { RecordedFetcher } from '../../support/recorded-fetcher.js';

const recorded = loadScenario('targets-only');

/** The recorded metadata, each document 20 ms late; counts what was asked. */
function slowFetcher(): MetadataFetcher & { asked: string[] } {
  const inner = new RecordedFetcher(recorded.files);
  const asked: string[] = [];
  return {
    asked,
    async fetch(file, maxBytes) {
      asked.push(file);
      await new Promise((r) => setTimeout(r, 20));
      return inner.fetch(file, maxBytes);
    },
  };
}

function setup() {
  const fetcher = slowFetcher();
  const client = new TrustClient({ now: () => recorded.now, fetcher: () => fetcher });
  const load = (signal: AbortSignal) => client.loadRepository({ server: 'https://notary.test', gun: recorded.scenario.gun, pins: NO_PINS, roles: { all: false, roles: [] }, caBundle: undefined, credentials: undefined, timeoutMs: 5000, signal });
  return { client, fetcher, load };
}

it('goes on for the lookups still waiting when one gives up', async () => {
  const { client, fetcher, load } = setup();
  const impatient = new AbortController();
  const first = load(impatient.signal);
  const second = load(new AbortController().signal);
  impatient.abort();
  await expect(first).rejects.toMatchObject({ code: 'TIMEOUT' });
  await expect(second).resolves.toMatchObject({ gun: recorded.scenario.gun });
  expect(fetcher.asked.filter((f) => f === 'timestamp')).toHaveLength(1);
  expect(client.sizes().loads).toBe(0);
});

it('stops fetching once every lookup has given up, and the next lookup starts afresh', async () => {
  const { client, fetcher, load } = setup();
  const a = new AbortController();
  const b = new AbortController();
  const pending = [load(a.signal), load(b.signal)];
  a.abort();
  b.abort();
  for (const p of pending) await expect(p).rejects.toMatchObject({ code: 'TIMEOUT' });
  await new Promise((r) => setTimeout(r, 100));
  // The first wave (root and timestamp, and the roles asked for by name ahead of their hashes:
  // src/trust/update.ts) was in flight; nothing after it was asked for.
  expect(fetcher.asked).toEqual(['root', 'timestamp', 'snapshot', 'targets', 'targets/releases']);
  await expect(load(new AbortController().signal)).resolves.toMatchObject({ gun: recorded.scenario.gun });
  expect(client.sizes().loads).toBe(0);
});
