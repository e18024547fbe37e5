// Polling for what the API server, a controller or trustgate does in the background (status
// writes, Events, audit-log lines, stored pods): probe until `ok`, or fail naming what was last seen.

/** The first value of `probe` that is `ok`, polled every 250 ms; throws after `timeoutMs`. */
export async function eventually<T>(probe: () => T | Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${String(JSON.stringify(value)).slice(0, 2000)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
