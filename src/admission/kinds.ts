// Which kinds of trust verified an image, as a bit set: a review of the cached steady state
// records them without allocating (every set is one of a few frozen arrays made here once).
import { TRUST_KINDS, type TrustKind } from '../trust/index.js';

/** A set of TrustKind: bit i is TRUST_KINDS[i]. */
export type KindSet = number;

export const NO_KINDS: KindSet = 0;

/** Every kind: the start of an intersection. */
export const ALL_KINDS: KindSet = (1 << TRUST_KINDS.length) - 1;

/** Compares, not a lookup: this runs for every image of every review, and kinds are few. */
export function kindBit(kind: TrustKind): KindSet {
  for (let i = 0; i < TRUST_KINDS.length; i++) if (TRUST_KINDS[i] === kind) return 1 << i;
  return NO_KINDS;
}

const LISTS: readonly (readonly TrustKind[])[] = Array.from({ length: 1 << TRUST_KINDS.length }, (_, set) => Object.freeze(TRUST_KINDS.filter((_k, i) => set & (1 << i))));
const LABELS: readonly string[] = LISTS.map((kinds) => kinds.join(','));

/** The kinds of a set, in TRUST_KINDS order (one frozen array per set). */
export function kindList(set: KindSet): readonly TrustKind[] {
  return LISTS[set] ?? LISTS[0]!;
}

/** The set a list of kindList's stands for (the lists are its frozen arrays: found by identity). */
export function kindSetOf(kinds: readonly TrustKind[]): KindSet {
  if (kinds.length === 0) return NO_KINDS;
  const set = LISTS.indexOf(kinds);
  if (set >= 0) return set;
  let bits = NO_KINDS;
  for (const kind of kinds) bits |= kindBit(kind);
  return bits;
}

/** `notary,cosign`: the annotation's value. */
export function kindLabel(set: KindSet): string {
  return LABELS[set] ?? '';
}

