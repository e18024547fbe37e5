// Fetching an image's signatures a few at a time while checking them in order: both registry
// kinds (cosign, src/trust/cosign/discover.ts; Notation, src/trust/notation/discover.ts) find a
// list of lazily fetched signatures and check them one by one until one verifies.

/**
 * Yields the results of `tasks` in order, running at most `ahead` of them at once (each kind's
 * FETCH_CONCURRENCY); a caller that stops early leaves at most that many fetches to finish on
 * their own (their failures ignored).
 */
export async function* inOrder<T>(tasks: readonly (() => Promise<T>)[], ahead: number): AsyncGenerator<T> {
  // A result is let go once yielded: a verification holds at most `ahead` fetched signatures plus
  // the one being checked, not all of them until it ends, so a registry that stalls the last
  // fetch pins a few hundred KiB (test/security/cosign-signature-retention.test.ts).
  const started: (Promise<T> | undefined)[] = [];
  let next = 0;
  const fill = (upTo: number): void => {
    while (next < tasks.length && next < upTo) {
      const p = tasks[next++]!();
      p.catch(() => undefined); // awaited below in order; never an unhandled rejection meanwhile
      started.push(p);
    }
  };
  for (let i = 0; i < tasks.length; i++) {
    fill(i + Math.max(1, ahead));
    const result = await started[i]!;
    started[i] = undefined;
    yield result;
  }
}
