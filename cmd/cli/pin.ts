// `trustgate pin`: the manifests with every verified image pinned to its signed digest, the pin
// the mutating webhook makes (decide()'s `pinned`, formatted by formatPinned), so a GitOps
// repository that commits it sees no drift. Only the bytes of each image scalar change: the
// edit replaces the scalar's source range in the text, in its own quoting style, and leaves
// comments, key order and layout everywhere else as they were.
import { chmodSync, lstatSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isAlias, isScalar, Scalar } from 'yaml';
import { printable } from '../../src/reference/index.js';
import { findingsOf, type ObjectResult } from './check-evaluate.js';
import { textReport } from './check-output.js';
import { DECISION_OPTIONS, decideManifests, type CheckEnvironment } from './check.js';
import { ExitCode, UsageError } from './errors.js';
import { nodeAt, pointerSegments, readSources, type Source } from './manifests.js';
import type { Output } from './output.js';

export const PIN_USAGE = `Usage: trustgate pin -f FILE|- (--policies FILE ... | --kubeconfig FILE) [--in-place] [options]

Writes the manifests back with every verified image rewritten to IMAGE:TAG@sha256:DIGEST, the
signed digest the mutating webhook would pin it to. Nothing else in the file changes: comments,
key order, quoting and layout are kept. Refuses, writing nothing, when any image would be denied.

  -f, --file FILE|-          the manifests (one file, or stdin)
  --in-place                 rewrite FILE (atomically, keeping its mode) instead of printing it
  --policies, --kubeconfig, --trustgate-namespace, --docker-config, --namespace,
  --default-action, --timeout: as for check

Exit status: 0 pinned (or nothing to pin), 1 an image would be denied, 2 usage or input error.`;

export async function runPin(argv: string[], environment: CheckEnvironment, out: Output): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...DECISION_OPTIONS, 'in-place': { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (values.help) {
    out.stdout(PIN_USAGE);
    return ExitCode.OK;
  }
  if (positionals.length > 0) throw new UsageError(`pin takes its manifests with -f, not "${positionals[0]}"`);
  if (values.file?.length !== 1) throw new UsageError('pin takes one -f FILE|-');
  const file = values.file[0]!;
  if (values['in-place'] && file === '-') throw new UsageError('--in-place needs a file, not stdin');
  // Renaming over a link would replace the link with its target's text, pinned: a pull request's
  // link to a file outside the checkout would bring that file into the repository.
  if (values['in-place'] && isSymlink(file)) throw new UsageError(`--in-place: ${printable(file)} is a symbolic link; pin the file it names, or print the pinned text (without --in-place)`);
  const sources = await readSources([file], environment.readStdin);
  const source = sources[0]!;
  const results = await decideManifests(sources, values, environment);
  if (results.some((r) => r.decision?.allowed === false)) {
    out.stderr(textReport(results, findingsOf(results)));
    out.stderr(`trustgate: REFUSED: nothing written: an image of ${printable(file === '-' ? 'stdin' : file)} would be denied`);
    return ExitCode.REFUSED;
  }
  for (const warning of findingsOf(results)) out.stderr(`${warning.level}: ${warning.message}`);
  const pinned = pinnedText(source, results);
  if (values['in-place']) writeAtomically(file, pinned);
  else out.stdout(pinned.endsWith('\n') ? pinned.slice(0, -1) : pinned); // out.stdout ends the line
  return ExitCode.OK;
}

interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** The source with each image that decide() pinned replaced, and nothing else touched. */
export function pinnedText(source: Source, results: readonly ObjectResult[]): string {
  const edits: Edit[] = [];
  for (const { manifest, images } of results) {
    for (const { outcome, line } of images) {
      const { pinned, container } = outcome;
      if (pinned === undefined || pinned === container.image) continue;
      const node = nodeAt(manifest.doc, [...manifest.path, ...pointerSegments(container.pointer)]);
      const where = `${printable(source.file === '-' ? 'stdin' : source.file)}:${line}`;
      if (isAlias(node)) throw new UsageError(`${where}: the image is a YAML alias; pin rewrites only images written out`);
      if (!isScalar(node) || !node.range) throw new UsageError(`${where}: the image field was not found in the YAML`);
      edits.push({ start: node.range[0], end: node.range[1], text: scalarText(node, pinned, where) });
    }
  }
  let text = source.text;
  for (const edit of edits.sort((a, b) => b.start - a.start)) text = text.slice(0, edit.start) + edit.text + text.slice(edit.end);
  return text;
}

/** A pinned reference (`[a-z0-9._/:-]` and `@`) written in the scalar's own style. */
function scalarText(node: Scalar, pinned: string, where: string): string {
  switch (node.type) {
    case Scalar.PLAIN:
      return pinned;
    case Scalar.QUOTE_SINGLE:
      return `'${pinned.replace(/'/g, "''")}'`;
    case Scalar.QUOTE_DOUBLE:
      return JSON.stringify(pinned);
    default:
      throw new UsageError(`${where}: the image is a block scalar; write it on one line to pin it`);
  }
}

function isSymlink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false; // missing: readSources says so
  }
}

/** A temporary file beside the target, with its mode, renamed over it: never half written. */
function writeAtomically(file: string, text: string): void {
  const mode = statSync(file).mode & 0o7777;
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.trustgate-${process.pid}`);
  let created = false;
  try {
    // `wx`: a file (or link) already under this name is not ours, neither written through nor removed.
    writeFileSync(temp, text, { mode, flag: 'wx' });
    created = true;
    chmodSync(temp, mode); // the umask may have narrowed it
    renameSync(temp, file);
  } catch (error) {
    if (created) rmSync(temp, { force: true });
    throw new UsageError(`--in-place: cannot write ${printable(file)}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}
