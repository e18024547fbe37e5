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

/** Attacker-chosen text goes into messages and logs: cut it short and show control characters. */
export function printable(text: string, max = 120): string {
  const escaped = JSON.stringify(text).slice(1, -1);
  return escaped.length > max ? `${escaped.slice(0, max)}…` : escaped;
}
