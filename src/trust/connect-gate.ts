// One connection attempt first, to a trust server this process has not reached yet (or whose
// last connection failed): a cold update asks for five documents at once (src/trust/update.ts),
// and without this a host that is down took five connection attempts per review, five sockets
// held until the request timeout when its packets are dropped. The rest of the wave waits for
// the first connection's TCP handshake only (not TLS, not the answer), so a host that answers
// costs one round trip more on the first update ever made to it, and nothing once it has been
// reached: the gate stays open until a connection to it fails.
import type { ConnectionObserver } from '../registry/http.js';
import type { TrustError } from './errors.js';

type ProbeOutcome = 'connected' | 'failed' | 'unknown';

export class ConnectGate {
  /** A connection to the host came up, and none has failed to since. */
  private reachable = false;
  /** The one attempt in progress while the host is not known to be reachable. */
  private probe: Promise<ProbeOutcome> | undefined;
  /** Connections that came up: a failure counts only if none did while it was being tried. */
  private connections = 0;

  /** Whether requests go out at once (tests, metrics). */
  get open(): boolean {
    return this.reachable;
  }

  /**
   * Runs `attempt` now when the host is known reachable, or as the probe when no attempt is in
   * progress; otherwise waits for the probe's connection: up, it runs; failed, it throws
   * `refused()` without a connection of its own. Waiting ends with `signal`'s reason.
   */
  async run<T>(signal: AbortSignal | undefined, attempt: (observer: ConnectionObserver) => Promise<T>, refused: () => TrustError): Promise<T> {
    while (!this.reachable && this.probe) {
      // An aborted probe ('unknown') leaves the next waiter to try.
      if ((await untilAborted(this.probe, signal)) === 'failed') throw refused();
    }
    if (this.reachable) return attempt(this.observe());
    let settle!: (outcome: ProbeOutcome) => void;
    const probe = new Promise<ProbeOutcome>((resolve) => (settle = resolve));
    this.probe = probe;
    try {
      return await attempt(this.observe(settle));
    } finally {
      settle('unknown'); // no effect once settled
      if (this.probe === probe) this.probe = undefined;
    }
  }

  /**
   * What one attempt tells of the host. A failure to connect (refused, unreachable, or its timeout
   * while connecting) closes the gate only when no other connection to the host came up while it
   * was tried: under load, a connection can time out on a busy event loop while the host answers.
   */
  private observe(settle?: (outcome: ProbeOutcome) => void): ConnectionObserver {
    const since = this.connections;
    return {
      connected: () => {
        this.connections++;
        this.reachable = true;
        settle?.('connected');
      },
      failed: () => {
        if (this.connections !== since) return;
        this.reachable = false;
        settle?.('failed');
      },
    };
  }
}

/** `probe` (which never rejects), or `signal`'s reason once it aborts. */
function untilAborted(probe: Promise<ProbeOutcome>, signal: AbortSignal | undefined): Promise<ProbeOutcome> {
  if (!signal) return probe;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<ProbeOutcome>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    void probe.then((outcome) => {
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    });
  });
}
