import type { Sample } from './load.ts';

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Nearest-rank percentile (p in 0..100) of a list of numbers. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** The figures of one measurement over its rounds: each the median of the rounds, errors summed. */
export interface Figure {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  rounds: Sample[];
}

export function summarize(rounds: Sample[]): Figure {
  return {
    rps: median(rounds.map((r) => r.rps)),
    p50: median(rounds.map((r) => r.p50)),
    p99: median(rounds.map((r) => r.p99)),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
    rounds,
  };
}

/** Per-round throughput ratios a/b of two measurements run round by round. */
export function roundRatios(a: Sample[], b: Sample[]): number[] {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x && y && y.rps > 0) ratios.push(x.rps / y.rps);
  }
  return ratios;
}

/**
 * A ratio of throughputs as the median of per-round ratios: A and B of one round ran back to back,
 * so pairing them cancels most of the machine's drift between rounds.
 */
export function pairedRatio(a: Sample[], b: Sample[]): number {
  return median(roundRatios(a, b));
}
