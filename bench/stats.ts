/** Median and p90 of samples, in the unit given. */
export function summarise(samples: number[]): { median: number; p90: number; mean: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { median: at(0.5), p90: at(0.9), mean: samples.reduce((a, b) => a + b, 0) / samples.length };
}

export function fmt(value: number, digits = 1): string {
  return value.toFixed(digits);
}
