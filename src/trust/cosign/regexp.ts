// Regular expressions of cosign identities (`--certificate-identity-regexp`,
// `--certificate-oidc-issuer-regexp`), matched in time linear in the text.
//
// cosign compiles them with Go's regexp (RE2 syntax, linear time) and calls MatchString, which is
// unanchored (pkg/cosign/verify.go, validateCertIdentity): `https://github.com/org/` would also
// admit `https://evil.example/?https://github.com/org/`. trustgate matches the WHOLE text
// instead (docs/policy.md "Identities"): a pattern that should match more says so with `.*`.
// JavaScript's RegExp backtracks (a policy's `(a|a)*b` or `.*.*.*x` could stall the event loop
// every admission shares), so patterns run on the small Thompson-NFA simulator below instead,
// over the part of RE2's syntax that identities need. What it does not support is refused when
// the policy is read, never guessed at: back-references and lookarounds (RE2 has none either),
// flags, named groups, Unicode classes, `\b`.

/** Longest pattern accepted, in characters. */
export const MAX_PATTERN_LENGTH = 512;
/** Longest identity (issuer or subject) matched, in characters: real ones are URLs and emails. */
export const MAX_IDENTITY_LENGTH = 4096;
/**
 * Largest compiled program (counted repetitions are expanded). One match costs at most
 * states × characters steps, each a constant (a class is a binary search over its ranges): 128
 * states over a 4,096-character identity is 2^19 steps, some 13 ms at worst (measured on a
 * shared 2-core machine at ~25 ns a step). Real identity patterns take 20-100 states
 * (`https://github\.com/org/[^/]+/\.github/workflows/[^@]+@refs/tags/v.*` is 60).
 */
export const MAX_PROGRAM = 128;
/** Largest count in `{n,m}` (Go's regexp/syntax allows 1000). */
const MAX_REPEAT = 1000;

/**
 * A set of code points as sorted, disjoint, non-adjacent inclusive ranges [lo0, hi0, lo1, hi1, …]:
 * membership is a binary search, whatever the number of members a class was written with.
 */
type Ranges = Int32Array;
type Test = Ranges;
type Node =
  | { readonly t: 'set'; readonly test: Test }
  | { readonly t: 'cat'; readonly items: readonly Node[] }
  | { readonly t: 'alt'; readonly items: readonly Node[] }
  | { readonly t: 'rep'; readonly node: Node; readonly min: number; readonly max: number };

const CHAR = 0;
const SPLIT = 1;
const JMP = 2;
const MATCH = 3;
interface Inst {
  op: number;
  x: number;
  y: number;
  test: Test | undefined;
}

/** A compiled identity pattern: `test` is true when it matches the whole text. */
export interface IdentityPattern {
  readonly source: string;
  /** Program states: a match over a text costs at most states × its length steps. */
  readonly states: number;
  test(text: string): boolean;
}

class Refused extends Error {}

const MAX_CODE_POINT = 0x10ffff;

/** Sorts and merges [lo, hi] pairs into Ranges. */
function ranges(pairs: readonly (readonly [number, number])[]): Ranges {
  const sorted = [...pairs].sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [lo, hi] of sorted) {
    const last = out.length - 1;
    if (last > 0 && lo <= out[last]! + 1) out[last] = Math.max(out[last]!, hi);
    else out.push(lo, hi);
  }
  return Int32Array.from(out);
}

function pairsOf(r: Ranges): [number, number][] {
  const out: [number, number][] = [];
  for (let k = 0; k < r.length; k += 2) out.push([r[k]!, r[k + 1]!]);
  return out;
}

function complement(r: Ranges): Ranges {
  const out: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of pairsOf(r)) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return ranges(out);
}

/** Whether code point `c` is in `r`: a binary search over its ranges. */
function contains(r: Ranges, c: number): boolean {
  let lo = 0;
  let hi = (r.length >> 1) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (c < r[mid * 2]!) hi = mid - 1;
    else if (c > r[mid * 2 + 1]!) lo = mid + 1;
    else return true;
  }
  return false;
}

const one = (c: number): Test => Int32Array.of(c, c);
const isDigit: Test = ranges([[0x30, 0x39]]);
const isWord: Test = ranges([[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a], [0x5f, 0x5f]]);
// RE2's \s is [\t\n\f\r ] (no \v).
const isSpace: Test = ranges([[0x20, 0x20], [0x09, 0x0a], [0x0c, 0x0d]]);
const not = complement;
const ANY_BUT_NEWLINE: Test = complement(one(0x0a));
const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { n: 0x0a, t: 0x09, r: 0x0d, f: 0x0c, v: 0x0b, a: 0x07 };
const CLASS_ESCAPES: Readonly<Record<string, Test>> = { d: isDigit, D: not(isDigit), w: isWord, W: not(isWord), s: isSpace, S: not(isSpace) };

class Parser {
  private i = 0;
  private readonly chars: readonly string[];

  constructor(source: string) {
    this.chars = Array.from(source);
  }

  parse(): Node {
    // The whole text is matched anyway: a leading `^` and a trailing `$` change nothing.
    if (this.chars[0] === '^') this.i = 1;
    let end = this.chars.length;
    if (end > this.i && this.chars[end - 1] === '$' && !this.escapedAt(end - 1)) end--;
    const node = this.alternation(end);
    if (this.i < end) throw new Refused(`unexpected ")" at ${this.i}`);
    return node;
  }

  /** Whether the character at `at` is escaped by an odd run of backslashes before it. */
  private escapedAt(at: number): boolean {
    let n = 0;
    for (let k = at - 1; k >= 0 && this.chars[k] === '\\'; k--) n++;
    return n % 2 === 1;
  }

  private alternation(end: number): Node {
    const items = [this.concatenation(end)];
    while (this.i < end && this.chars[this.i] === '|') {
      this.i++;
      items.push(this.concatenation(end));
    }
    return items.length === 1 ? items[0]! : { t: 'alt', items };
  }

  private concatenation(end: number): Node {
    const items: Node[] = [];
    while (this.i < end && this.chars[this.i] !== '|' && this.chars[this.i] !== ')') items.push(this.repetition(end));
    return { t: 'cat', items };
  }

  private repetition(end: number): Node {
    let node = this.atom(end);
    let quantified = false;
    for (;;) {
      const c = this.chars[this.i];
      let min: number;
      let max: number;
      if (this.i >= end) break;
      if (c === '*') [min, max] = [0, -1];
      else if (c === '+') [min, max] = [1, -1];
      else if (c === '?') [min, max] = [0, 1];
      else if (c === '{' && this.countedRepeat(end)) [min, max] = this.countedRepeat(end)!;
      else break;
      // Go refuses `a**` and `a+*` ("invalid nested repetition operator"); so does this.
      if (quantified) throw new Refused(`nested repetition operator at ${this.i}`);
      if (c === '{') this.i += this.countedRepeatLength(end);
      else this.i++;
      if (this.chars[this.i] === '?' && this.i < end) this.i++; // lazy: the same set of matches
      node = { t: 'rep', node, min, max };
      quantified = true;
    }
    return node;
  }

  private countedRepeatText(end: number): RegExpExecArray | null {
    return /^\{(\d{1,4})(?:(,)(\d{0,4}))?\}/.exec(this.chars.slice(this.i, Math.min(end, this.i + 12)).join(''));
  }

  private countedRepeatLength(end: number): number {
    return this.countedRepeatText(end)![0].length;
  }

  private countedRepeat(end: number): [number, number] | undefined {
    const m = this.countedRepeatText(end);
    if (!m) return undefined;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? -1 : Number(m[3]);
    if (min > MAX_REPEAT || max > MAX_REPEAT || (max !== -1 && max < min)) throw new Refused(`invalid repeat count ${m[0]}`);
    return [min, max];
  }

  private atom(end: number): Node {
    const c = this.chars[this.i]!;
    this.i++;
    switch (c) {
      case '(': {
        if (this.chars[this.i] === '?') {
          if (this.chars[this.i + 1] !== ':') throw new Refused('only plain "( )" and "(?: )" groups are supported (no flags, named groups or lookarounds)');
          this.i += 2;
        }
        const inner = this.alternation(end);
        if (this.chars[this.i] !== ')' || this.i >= end) throw new Refused('missing ")"');
        this.i++;
        return inner;
      }
      case '[':
        return this.characterClass(end);
      case '.':
        return { t: 'set', test: ANY_BUT_NEWLINE };
      case '\\':
        return { t: 'set', test: this.escape(end, false) };
      case '*':
      case '+':
      case '?':
        throw new Refused(`missing argument to repetition operator "${c}"`);
      case '^':
      case '$':
        throw new Refused(`"${c}" may only start ("^") or end ("$") the pattern: the whole text is matched`);
      default: {
        return { t: 'set', test: one(c.codePointAt(0)!) };
      }
    }
  }

  private escape(end: number, inClass: boolean): Test {
    if (this.i >= end) throw new Refused('trailing backslash');
    const c = this.chars[this.i]!;
    this.i++;
    const cls = CLASS_ESCAPES[c];
    if (cls) return cls;
    const simple = SIMPLE_ESCAPES[c];
    if (simple !== undefined) return one(simple);
    // Escaped ASCII punctuation is itself, as in RE2.
    if (/^[!-/:-@[-`{-~]$/.test(c)) return one(c.codePointAt(0)!);
    throw new Refused(`escape "\\${c}" is not supported${/[1-9]/.test(c) && !inClass ? ' (back-references cannot be matched in linear time)' : ''}`);
  }

  private characterClass(end: number): Node {
    let negated = false;
    if (this.chars[this.i] === '^') {
      negated = true;
      this.i++;
    }
    const parts: [number, number][] = [];
    let first = true;
    while (this.i < end && (this.chars[this.i] !== ']' || first)) {
      first = false;
      if (this.chars[this.i] === '[' && this.chars[this.i + 1] === ':') throw new Refused('POSIX classes ("[:alpha:]") are not supported');
      const low = this.classChar(end);
      if (typeof low !== 'number') {
        parts.push(...pairsOf(low));
        continue;
      }
      if (this.chars[this.i] === '-' && this.i + 1 < end && this.chars[this.i + 1] !== ']') {
        this.i++;
        const high = this.classChar(end);
        if (typeof high !== 'number' || high < low) throw new Refused('invalid range in character class');
        parts.push([low, high]);
      } else {
        parts.push([low, low]);
      }
    }
    if (this.i >= end) throw new Refused('missing "]"');
    this.i++;
    // One lookup table per class, whatever its number of members (a 480-member class written
    // member by member must not cost 480 comparisons per character and state).
    const members = ranges(parts);
    return { t: 'set', test: negated ? complement(members) : members };
  }

  /** One member of a class: a code point, or a whole escaped class (`\d`). */
  private classChar(end: number): number | Test {
    const c = this.chars[this.i]!;
    this.i++;
    if (c !== '\\') return c.codePointAt(0)!;
    const before = this.i;
    const next = this.chars[this.i];
    if (next !== undefined && CLASS_ESCAPES[next]) return this.escape(end, true);
    const simple = next === undefined ? undefined : SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      this.i++;
      return simple;
    }
    this.escape(end, true); // refuses what is not punctuation
    return this.chars[before]!.codePointAt(0)!;
  }
}

function compile(node: Node): Inst[] {
  const prog: Inst[] = [];
  const push = (inst: Inst): number => {
    if (prog.length >= MAX_PROGRAM) throw new Refused(`pattern too complex (more than ${MAX_PROGRAM} states once its counted repetitions are expanded)`);
    prog.push(inst);
    return prog.length - 1;
  };
  const emit = (n: Node): void => {
    switch (n.t) {
      case 'set':
        push({ op: CHAR, x: 0, y: 0, test: n.test });
        return;
      case 'cat':
        n.items.forEach(emit);
        return;
      case 'alt': {
        const jumps: number[] = [];
        n.items.forEach((item, k) => {
          if (k === n.items.length - 1) {
            emit(item);
            return;
          }
          const split = push({ op: SPLIT, x: 0, y: 0, test: undefined });
          prog[split]!.x = prog.length;
          emit(item);
          jumps.push(push({ op: JMP, x: 0, y: 0, test: undefined }));
          prog[split]!.y = prog.length;
        });
        for (const j of jumps) prog[j]!.x = prog.length;
        return;
      }
      case 'rep': {
        for (let k = 0; k < n.min; k++) emit(n.node);
        if (n.max === -1) {
          const split = push({ op: SPLIT, x: 0, y: 0, test: undefined });
          prog[split]!.x = prog.length;
          emit(n.node);
          push({ op: JMP, x: split, y: 0, test: undefined });
          prog[split]!.y = prog.length;
          return;
        }
        const splits: number[] = [];
        for (let k = n.min; k < n.max; k++) {
          const split = push({ op: SPLIT, x: 0, y: 0, test: undefined });
          prog[split]!.x = prog.length;
          splits.push(split);
          emit(n.node);
        }
        for (const s of splits) prog[s]!.y = prog.length;
        return;
      }
    }
  };
  emit(node);
  push({ op: MATCH, x: 0, y: 0, test: undefined });
  return prog;
}

/** Pike's simulation: every thread advances in step, one set of program counters per character. */
function run(prog: readonly Inst[], text: string): boolean {
  const n = prog.length;
  const seen = new Int32Array(n).fill(-1);
  let current = new Int32Array(n);
  let next = new Int32Array(n);
  let count = 0;
  let nextCount = 0;
  // Each pc is pushed at most twice per step (as a split's target and once more via a jump).
  const stack = new Int32Array(2 * n + 2);
  let step = 0;
  const add = (list: Int32Array, size: number, pc: number): number => {
    let top = 0;
    stack[top++] = pc;
    while (top > 0) {
      const at = stack[--top]!;
      if (seen[at] === step) continue;
      seen[at] = step;
      const inst = prog[at]!;
      if (inst.op === JMP) stack[top++] = inst.x;
      else if (inst.op === SPLIT) {
        stack[top++] = inst.y;
        stack[top++] = inst.x;
      } else list[size++] = at;
    }
    return size;
  };
  count = add(current, 0, 0);
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    step++;
    nextCount = 0;
    for (let k = 0; k < count; k++) {
      const pc = current[k]!;
      const inst = prog[pc]!;
      if (inst.op === CHAR && contains(inst.test!, code)) nextCount = add(next, nextCount, pc + 1);
    }
    if (nextCount === 0) return false;
    [current, next] = [next, current];
    count = nextCount;
  }
  for (let k = 0; k < count; k++) if (prog[current[k]!]!.op === MATCH) return true;
  return false;
}

/**
 * Compiles an identity pattern (RE2 syntax, the subset above) that must match the whole text.
 * @returns the pattern, or why it is refused.
 */
export function compileIdentityPattern(source: string): IdentityPattern | string {
  if (source.length === 0 || source.length > MAX_PATTERN_LENGTH) return `must be 1-${MAX_PATTERN_LENGTH} characters`;
  try {
    const prog = compile(new Parser(source).parse());
    // Longer texts are not identities; refusing them keeps a match within states × 4,096 steps.
    return { source, states: prog.length, test: (text: string) => text.length <= MAX_IDENTITY_LENGTH && run(prog, text) };
  } catch (e) {
    if (e instanceof Refused) return e.message;
    throw e;
  }
}
