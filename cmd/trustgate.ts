#!/usr/bin/env node
// The `trustgate` command. Everything it reads from the process (argv, environment, stdin) is
// handed to main() here; nothing below cmd/ touches process.env.
import { describeFailure, ExitCode } from './cli/errors.js';
import { main } from './cli/main.js';
import { processOutput } from './cli/output.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

main(process.argv.slice(2), { env: process.env, readStdin }, processOutput()).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`trustgate: ${describeFailure(error).message}\n`);
    process.exitCode = ExitCode.REFUSED;
  },
);
