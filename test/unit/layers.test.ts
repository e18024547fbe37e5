// The layer order of docs/architecture.md, for the imports a refactoring gets wrong without
// noticing: src/shared is the bottom (every layer may use it, it uses none), and src/registry
// sits below src/trust (the trust kinds use the registry client, never the other way round).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

/** Every module a file imports or re-exports, resolved to a path below the repository. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)\b[^;]*?from '(\.[^']+)'/gms)].map((m) => path.join(path.dirname(file), m[1]!));
}

it.each([
  ['src/shared', ['src/']],
  ['src/registry', ['src/trust', 'src/policy', 'src/admission', 'src/server', 'src/kube']],
])('%s imports nothing from the layers above it', (layer, above) => {
  const wrong = sources(layer).flatMap((file) => imports(file).filter((target) => !target.startsWith(layer) && above.some((a) => target.startsWith(a))).map((target) => `${file} → ${target}`));
  expect(wrong).toEqual([]);
});
