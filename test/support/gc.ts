// A full garbage collection, for tests that bound what a scenario holds by heap growth: without
// one, garbage left by earlier tests in the same worker counts as held (jest does not start
// workers with --expose-gc). V8 exposes `gc` to a context created after the flag is set.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = (globalThis.gc ?? runInNewContext('gc')) as () => void;

export function collectGarbage(): void {
  gc();
}
