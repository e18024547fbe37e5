// Manifests for `trustgate check` and `pin`: files, directories and stdin read under byte and
// count bounds, multi-document YAML or JSON composed one document at a time (a stream of empty
// documents stops at the bound, not at the end of memory), `List` objects expanded, and every
// object kept with its YAML document so an image field can be found again: its line for the
// findings, its byte range for the pin.
import { readdirSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { Composer, isAlias, isScalar, LineCounter, Parser, visit, type Document, type Node } from 'yaml';
import { printable } from '../../src/reference/index.js';
import { UsageError } from './errors.js';

/** Every input has a bound (docs/security.md, resource exhaustion): far above a real repository of manifests. */
export const MANIFEST_LIMITS = {
  /** All inputs together. */
  bytes: 16 * 1024 * 1024,
  files: 2_000,
  documents: 10_000,
  /** Objects after expanding `List`s. */
  objects: 10_000,
  /** Images over all objects; each distinct one is a verification. */
  images: 20_000,
  /** `List` inside `List`: kubectl never nests them deeper than one. */
  listDepth: 4,
  directoryDepth: 16,
  /** Nesting of any YAML value: a pod spec is about ten deep. */
  valueDepth: 100,
  /** The yaml package's own default; a "billion laughs" document resolves at most this many aliases. */
  aliases: 100,
} as const;

/** One input: a file's path as given (or `-` for stdin) and its text. */
export interface Source {
  readonly file: string;
  readonly text: string;
}

/** One Kubernetes object of a document, and where it is. */
export interface Manifest {
  readonly file: string;
  /** 1-based, as editors count documents. */
  readonly document: number;
  /** From the document's root to the object: `['items', 2]` inside a List. */
  readonly path: readonly (string | number)[];
  readonly object: Record<string, unknown>;
  readonly kind: string;
  readonly apiVersion: string;
  readonly name: string;
  /** 1-based line of the object. */
  readonly line: number;
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
}

/** Reads every `-f` argument: `-` is stdin (once), a directory its *.yaml, *.yml and *.json. */
export async function readSources(paths: readonly string[], readStdin: () => Promise<string>): Promise<Source[]> {
  const sources: Source[] = [];
  const budget = { bytes: 0 };
  for (const given of paths) {
    if (given === '-') {
      if (sources.some((s) => s.file === '-')) throw new UsageError('-f - (stdin) may be given once');
      const text = await readStdin();
      charge(budget, Buffer.byteLength(text), 'stdin');
      sources.push({ file: '-', text });
      continue;
    }
    // What the user named is followed, a symlink too; inside a directory, manifestFiles decides.
    if (statOf(given).isDirectory()) for (const file of manifestFiles(given)) sources.push({ file, text: readInput(file, budget) });
    else sources.push({ file: given, text: readInput(given, budget) });
    if (sources.length > MANIFEST_LIMITS.files) throw new UsageError(`more than ${MANIFEST_LIMITS.files} manifest files`);
  }
  return sources;
}

function statOf(file: string): Stats {
  try {
    return statSync(file);
  } catch (error) {
    throw new UsageError(`-f: cannot read ${printable(file)}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

function charge(budget: { bytes: number }, bytes: number, file: string): void {
  budget.bytes += bytes;
  if (budget.bytes > MANIFEST_LIMITS.bytes) throw new UsageError(`manifests larger than ${MANIFEST_LIMITS.bytes} bytes together (at ${printable(file === '-' ? 'stdin' : file)})`);
}

/** A regular file's text, its size charged to the budget before a byte is read. */
function readInput(file: string, budget: { bytes: number }): string {
  const stat = statOf(file);
  // A FIFO or a device (/dev/zero) has no size to bound: stdin is `-f -`.
  if (!stat.isFile()) throw new UsageError(`-f: ${printable(file)} is not a regular file or directory (use -f - for stdin)`);
  if (stat.size > MANIFEST_LIMITS.bytes) throw new UsageError(`${printable(file)} is larger than ${MANIFEST_LIMITS.bytes} bytes`);
  charge(budget, stat.size, file);
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`-f: cannot read ${printable(file)}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

const MANIFEST_FILE = /\.(ya?ml|json)$/;

/**
 * The manifest files under a directory, sorted. Hidden entries are skipped; a symlink is
 * followed only when it resolves inside the directory given, so a link in a checked-out
 * repository cannot make check read (and print lines of) /etc/shadow or a home directory.
 */
export function manifestFiles(dir: string): string[] {
  const root = realpathSync(dir);
  const out: string[] = [];
  const walk = (current: string, depth: number) => {
    if (depth > MANIFEST_LIMITS.directoryDepth) throw new UsageError(`${printable(dir)} nests directories deeper than ${MANIFEST_LIMITS.directoryDepth}`);
    for (const entry of readdirSync(current, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(current, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = resolvedInside(full, root);
        if (target === undefined) continue;
        const stat = statSync(target);
        isDir = stat.isDirectory();
        isFile = stat.isFile();
        // A directory link inside the tree is skipped: walking it would read files twice, or loop.
        if (isDir) continue;
      }
      if (isDir) walk(full, depth + 1);
      else if (isFile && MANIFEST_FILE.test(entry.name)) {
        out.push(full);
        if (out.length > MANIFEST_LIMITS.files) throw new UsageError(`${printable(dir)} holds more than ${MANIFEST_LIMITS.files} manifest files`);
      }
    }
  };
  walk(root === path.resolve(dir) ? dir : root, 0);
  return out;
}

function resolvedInside(link: string, root: string): string | undefined {
  let target;
  try {
    target = realpathSync(link);
  } catch {
    return undefined; // dangling
  }
  return target === root || target.startsWith(`${root}${path.sep}`) ? target : undefined;
}

/** Where a problem with an input is: `file`, document index and line. */
function at(file: string, document: number, line?: number): string {
  return `${printable(file === '-' ? 'stdin' : file)}: document ${document}${line === undefined ? '' : `, line ${line}`}`;
}

/**
 * Every object of a source. Malformed YAML, an alias bomb, a document that is not a Kubernetes
 * object, Lists nested too deep: a UsageError naming the file, the document and the line.
 */
export function parseManifests(source: Source, counts: { documents: number; objects: number } = { documents: 0, objects: 0 }): Manifest[] {
  try {
    return parseAll(source, counts);
  } catch (error) {
    // A document nested deep enough overflows the composer's recursion before any bound sees it.
    if (error instanceof RangeError) throw new UsageError(`${printable(source.file === '-' ? 'stdin' : source.file)}: too deeply nested to read`);
    throw error;
  }
}

function parseAll(source: Source, counts: { documents: number; objects: number }): Manifest[] {
  const lines = new LineCounter();
  const composer = new Composer({ uniqueKeys: true });
  const out: Manifest[] = [];
  let index = 0;
  for (const doc of composer.compose(new Parser(lines.addNewLine).parse(source.text))) {
    index++;
    if (++counts.documents > MANIFEST_LIMITS.documents) throw new UsageError(`more than ${MANIFEST_LIMITS.documents} YAML documents`);
    const error = doc.errors[0];
    if (error) {
      const where = at(source.file, index, lines.linePos(error.pos[0]).line);
      // The composer reports its own stack overflow as a document error.
      if (/call stack/i.test(error.message)) throw new UsageError(`${where}: too deeply nested to read`);
      throw new UsageError(`${where}: not valid YAML: ${printable(error.message.split('\n')[0] ?? '', 200)}`);
    }
    const merge = mergeKeyAt(doc);
    if (merge !== undefined) {
      throw new UsageError(`${at(source.file, index, lines.linePos(merge).line)}: a YAML merge key (<<): kubectl reads it differently (go-yaml v2 lets a << override the keys written before it), so check cannot know which image is applied; write the keys out (yq 'explode(.)')`);
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MANIFEST_LIMITS.aliases });
    } catch (e) {
      throw new UsageError(`${at(source.file, index)}: cannot be read: ${printable(e instanceof Error ? e.message : String(e), 200)}`);
    }
    if (value === null || value === undefined) continue; // empty, e.g. after a trailing ---
    if (depthOver(value, MANIFEST_LIMITS.valueDepth)) throw new UsageError(`${at(source.file, index)}: nested deeper than ${MANIFEST_LIMITS.valueDepth}`);
    collect(value, [], 0, { source, index, doc, lines, out, counts });
  }
  return out;
}

/**
 * Where the document uses a YAML merge key, if it does. kubectl reads YAML with go-yaml v2
 * (sigs.k8s.io/yaml), whose decoder writes a merged mapping over the keys read before the `<<`
 * (gopkg.in/yaml.v2 decode.go, `merge`), while the YAML 1.1 merge type lets explicit keys win
 * (yaml.org/type/merge.html) and YAML 1.2 has no merge at all: `image: signed` followed by
 * `<<: {image: unsigned}` is a signed image to this parser and an unsigned one to kubectl. A
 * plain `<<` key is a merge to go-yaml v2 (and `!!merge` to the yaml package); a quoted one is
 * a plain key to both.
 */
function mergeKeyAt(doc: Document.Parsed): number | undefined {
  let at: number | undefined;
  visit(doc, {
    Pair(_key, pair) {
      const key = pair.key;
      if (!isScalar(key)) return undefined;
      const merge = typeof key.value === 'symbol' ? key.value.description === '<<' : key.value === '<<' && key.type === 'PLAIN';
      if (!merge) return undefined;
      at = key.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return at;
}

interface Collecting {
  readonly source: Source;
  readonly index: number;
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
  readonly out: Manifest[];
  readonly counts: { documents: number; objects: number };
}

function collect(value: unknown, segments: (string | number)[], listDepth: number, c: Collecting): void {
  const line = lineOf(c.doc, segments, c.lines);
  if (!isObject(value) || typeof value.kind !== 'string') {
    throw new UsageError(`${at(c.source.file, c.index, line)}: not a Kubernetes object (no kind)`);
  }
  const kind = value.kind;
  if (kind.endsWith('List') && Array.isArray(value.items)) {
    if (listDepth >= MANIFEST_LIMITS.listDepth) throw new UsageError(`${at(c.source.file, c.index, line)}: Lists nested deeper than ${MANIFEST_LIMITS.listDepth}`);
    value.items.forEach((item: unknown, i) => collect(item, [...segments, 'items', i], listDepth + 1, c));
    return;
  }
  if (++c.counts.objects > MANIFEST_LIMITS.objects) throw new UsageError(`more than ${MANIFEST_LIMITS.objects} objects`);
  const metadata = isObject(value.metadata) ? value.metadata : {};
  const name = typeof metadata.name === 'string' ? metadata.name : typeof metadata.generateName === 'string' ? metadata.generateName : '';
  const apiVersion = typeof value.apiVersion === 'string' ? value.apiVersion : '';
  c.out.push({ file: c.source.file, document: c.index, path: segments, object: value, kind, apiVersion, name, line: line ?? 1, doc: c.doc, lines: c.lines });
}

/** The YAML node at a path from the document's root (an alias is returned as the alias). */
export function nodeAt(doc: Document.Parsed, segments: readonly (string | number)[]): Node | undefined {
  const node: unknown = segments.length === 0 ? doc.contents : doc.getIn(segments, true);
  return isScalar(node) || isAlias(node) || (typeof node === 'object' && node !== null && 'range' in node) ? (node as Node) : undefined;
}

function lineOf(doc: Document.Parsed, segments: readonly (string | number)[], lines: LineCounter): number | undefined {
  const start = nodeAt(doc, segments)?.range?.[0];
  return start === undefined ? undefined : lines.linePos(start).line;
}

/** The segments of a JSON Pointer (RFC 6901), array indices as numbers. */
export function pointerSegments(pointer: string): (string | number)[] {
  return pointer.split('/').slice(1).map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s.replace(/~1/g, '/').replace(/~0/g, '~')));
}

/** The line of a field of a manifest's object, by JSON Pointer; the object's line when not found. */
export function lineOfField(m: Manifest, pointer: string): number {
  return lineOf(m.doc, [...m.path, ...pointerSegments(pointer)], m.lines) ?? m.line;
}

function depthOver(value: unknown, max: number): boolean {
  if (max < 0) return true;
  if (typeof value !== 'object' || value === null) return false;
  for (const v of Array.isArray(value) ? value : Object.values(value)) if (depthOver(v, max - 1)) return true;
  return false;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
