// The memory the request bodies of reviews in flight may hold, together. A review keeps its
// parsed body until it is answered, up to the review deadline when a trust server is slow; with
// no client authentication anyone who reaches the port can send bodies, so without a bound a few
// concurrent ones exceed the container's memory limit and the kernel kills trustgate, failing
// every reviewed namespace closed. Past the budget a request is refused at once instead: the API
// server fails closed for that one review, and everything else goes on.

/**
 * What a JSON value costs once parsed, beyond its bytes: V8 spends up to ~64 bytes on an empty
 * object or array, or on an object member with a key of its own (measured on Node 24:
 * `[{},{},…]` 64 B per object, `[[],…]` 40, `{"k0":0,…}` 60 per member). The count
 * (json-shape.ts) is exact and takes a member's key and value as two values, so this is an upper
 * bound per value, reached only by empty objects; real reviews are mostly strings and cost less
 * than half of it (an UPDATE of a 256-container pod: ~24 B per value).
 */
export const BYTES_PER_JSON_VALUE = 64;

/**
 * A body is in memory twice until the garbage collector next runs: its raw bytes (and the text
 * decoded from them) and the strings parsed out of them. Measured: seven reviews holding 4 MiB
 * bodies raised trustgate's peak RSS by ~89 MiB, three times their size, on a host where V8
 * collects lazily.
 */
const BODY_COPIES = 2;

/** What a body of `bytes` holding `values` JSON values is charged (values counted so far as it arrives). */
export function bodyCost(bytes: number, values = 0): number {
  return BODY_COPIES * bytes + values * BYTES_PER_JSON_VALUE;
}

/** Bytes held for one request: give back with release() once the review is answered. */
export interface BodyHold {
  /** Holds `bytes` instead; false, and nothing changed, when that does not fit. */
  resize(bytes: number): boolean;
  release(): void;
}

export class BodyBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Bytes held by requests in flight. */
  get inUse(): number {
    return this.used;
  }

  /** Whether `bytes` more would fit beside what is held now. */
  fits(bytes: number): boolean {
    return this.used + bytes <= this.limit;
  }

  /** A hold of nothing yet, grown with resize() as the body arrives. */
  hold(): BodyHold {
    let held = 0;
    return {
      resize: (next) => {
        if (held < 0) return false;
        if (next > held && !this.fits(next - held)) return false;
        this.used += next - held;
        held = next;
        return true;
      },
      release: () => {
        if (held < 0) return;
        this.used -= held;
        held = -1;
      },
    };
  }
}
