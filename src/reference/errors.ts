/** Why an image reference was refused. One code: callers only need to know it was the reference. */
export class ReferenceError extends Error {
  readonly code = 'INVALID_REFERENCE' as const;

  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`invalid image reference "${printable(input)}": ${reason}`);
    this.name = 'ReferenceError';
  }
}

const NAMED_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Attacker-chosen text goes into messages and logs: cut it short and make control characters
 * (newlines, terminal escapes, line separators) visible instead of acting on the reader.
 */
export function printable(text: string, max = 120): string {
  // eslint-disable-next-line no-control-regex
  const escaped = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => NAMED_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escaped.length > max ? `${escaped.slice(0, max)}…` : escaped;
}
