// What `trustgate check` prints: a line per finding (text), every object and image (JSON), or
// SARIF 2.1.0 for code-scanning tools. Strings from the manifests are escaped in text (no
// terminal escape reaches the screen); JSON.stringify escapes them in JSON and SARIF.
import path from 'node:path';
import { fixFor } from '../../src/admission/index.js';
import { DENIAL_CODES, isDenialCode } from '../../src/shared/denial-codes.js';
import { printable } from '../../src/reference/index.js';
import type { Finding, ObjectResult } from './check-evaluate.js';

/** `file:line` as a terminal and an editor read it. */
function where(file: string, line: number): string {
  return `${printable(file === '-' ? 'stdin' : file, 300)}:${line}`;
}

function objectName(r: ObjectResult): string {
  return `${printable(r.manifest.kind, 60)}/${printable(r.manifest.name || '(unnamed)', 253)}`;
}

export function textReport(results: readonly ObjectResult[], findings: readonly Finding[]): string {
  const lines = findings.map((f) => `${where(f.file, f.line)}: ${f.level}: ${objectName(f.object)}: ${f.message}`);
  const reviewed = results.filter((r) => r.decision);
  const denied = reviewed.filter((r) => r.decision?.allowed === false).length;
  const images = reviewed.reduce((n, r) => n + r.images.length, 0);
  lines.push(`${reviewed.length} objects, ${images} images checked: ${denied === 0 ? 'all would be admitted' : `${denied} would be denied`} (namespaces decided as if labelled trustgate.dev/enforce=true)`);
  return lines.join('\n');
}

export function jsonReport(results: readonly ObjectResult[]): string {
  const objects = results.map((r) => ({
    file: r.manifest.file,
    document: r.manifest.document,
    line: r.manifest.line,
    kind: r.manifest.kind,
    name: r.manifest.name,
    namespace: r.namespace,
    reviewed: r.decision !== undefined,
    decision: r.decision?.decision ?? 'skip',
    allowed: r.decision?.allowed ?? true,
    message: r.decision?.message ?? '',
    containers: r.images.map(({ outcome, line }) => ({
      type: outcome.container.type,
      name: outcome.container.name,
      image: outcome.container.image,
      line,
      decision: outcome.failures.some((f) => f.mode === 'enforce') ? 'deny' : outcome.failures.length > 0 ? outcome.failures[0]!.mode : 'allow',
      code: outcome.failures[0]?.code ?? null,
      message: outcome.failures[0]?.message ?? null,
      failures: outcome.failures.map((f) => ({ code: f.code, message: f.message, policy: f.policy, mode: f.mode })),
      pinned: outcome.pinned ?? null,
      verifiedBy: outcome.kinds,
    })),
  }));
  return safeJson({ admitted: results.every((r) => r.decision?.allowed !== false), objects });
}

const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

/** SARIF 2.1.0 (OASIS): a rule per code with its fix, a result per finding at the image's line. */
export function sarifReport(findings: readonly Finding[]): string {
  const codes = [...new Set(findings.map((f) => f.code))].sort();
  const rules = codes.map((code) => ({
    id: code,
    name: code,
    shortDescription: { text: code },
    help: { text: fixFor(code) },
    properties: { owner: isDenialCode(code) ? DENIAL_CODES[code].owner : 'admission' },
  }));
  const results = findings.map((f) => ({
    ruleId: f.code,
    ruleIndex: codes.indexOf(f.code),
    level: f.level === 'deny' ? 'error' : f.level === 'warn' ? 'warning' : 'note',
    message: { text: `${objectName(f.object)}: ${f.message}` },
    locations: [{ physicalLocation: { artifactLocation: artifactOf(f.file), region: { startLine: f.line } } }],
  }));
  return safeJson({ $schema: SARIF_SCHEMA, version: '2.1.0', runs: [{ tool: { driver: { name: 'trustgate', rules } }, results }] });
}

/**
 * The file as a URI reference (SARIF 3.4): forward slashes, percent-encoded; a relative path is
 * relative to the checkout (`%SRCROOT%`), where code-scanning tools look for it.
 */
function artifactOf(file: string): { uri: string; uriBaseId?: string } {
  if (file === '-') return { uri: 'stdin' };
  const uri = file.split(/[\\/]/).map((segment) => encodeURIComponent(segment)).join('/');
  return path.isAbsolute(file) ? { uri: `file://${uri}` } : { uri, uriBaseId: '%SRCROOT%' };
}

/**
 * JSON with U+2028 and U+2029 escaped too: JSON.stringify leaves them raw (valid JSON), and a
 * JavaScript or log viewer that reads them as line breaks would split a finding in two.
 */
function safeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}
