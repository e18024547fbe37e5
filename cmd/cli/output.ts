/** Where the CLI writes; a seam so tests can capture output without spawning a process. */
export interface Output {
  format: 'text' | 'json';
  stdout(text: string): void;
  stderr(text: string): void;
}

export function processOutput(): Output {
  return {
    format: 'text',
    stdout: (text) => process.stdout.write(`${text}\n`),
    stderr: (text) => process.stderr.write(`${text}\n`),
  };
}
