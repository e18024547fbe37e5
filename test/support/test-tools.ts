// The Go tools the cosign and Notation tests run, from scripts/build-test-tools.sh (built once into the cache by
// version; the script only prints their paths when they are there).
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export interface TestTools {
  /** The cosign CLI, v3.1.x from the Go module proxy. */
  readonly cosign: string;
  /** test/tools/referrers-registry: go-containerregistry's registry with the referrers API. */
  readonly referrersRegistry: string;
  /** test/tools/notation-tool: notation-go v1.3's signing and verifier (test/support/notation.ts). */
  readonly notationTool: string;
}

let cached: TestTools | undefined;

/** Paths of the cached binaries, building them when missing (minutes on a fresh machine). */
export function testTools(): TestTools {
  if (cached) return cached;
  const out = execFileSync('bash', [path.resolve('scripts/build-test-tools.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 3_600_000 });
  const paths = new Map(out.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
  const cosign = paths.get('cosign');
  const referrersRegistry = paths.get('referrers-registry');
  const notationTool = paths.get('notation-tool');
  if (!cosign || !referrersRegistry || !notationTool) throw new Error(`scripts/build-test-tools.sh printed no paths:\n${out}`);
  cached = { cosign, referrersRegistry, notationTool };
  return cached;
}
