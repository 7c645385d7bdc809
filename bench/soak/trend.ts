/** A least-squares line through points (x in minutes, y in MB): its slope and how sure it is. */
export interface Trend {
  /** MB per minute. */
  slope: number;
  /** Standard error of the slope (MB per minute); NaN with fewer than 3 points. */
  stderr: number;
  points: number;
  /** Mean of y over the points, MB. */
  mean: number;
  /** Whether the line is flat by the rule of {@link isFlat}; null when the window is too short to judge. */
  flat: boolean | null;
}

/**
 * The shortest window after warm-up that gets a verdict: in less, caches and the JIT are still filling
 * and the heap has not been through enough major collections for its trend to mean anything.
 */
export const VERDICT_MINUTES = 3;

/** A slope this small is flat whatever its noise: under 60 MB an hour, below what the soak can resolve. */
export const FLAT_MB_PER_MIN = 1;

/**
 * Flat: under {@link FLAT_MB_PER_MIN}, or within two standard errors of zero (the samples cannot tell
 * it from no growth at all: garbage collection moves the heap up and down by more).
 */
export function isFlat(slope: number, stderr: number): boolean {
  return Math.abs(slope) < FLAT_MB_PER_MIN || (Number.isFinite(stderr) && Math.abs(slope) <= 2 * stderr);
}

/** Ordinary least squares of y on x (minutes); points with a null y are left out. */
export function trend(points: readonly { x: number; y: number | null }[], windowMinutes: number): Trend {
  const usable = points.filter((p): p is { x: number; y: number } => p.y !== null && Number.isFinite(p.y));
  const n = usable.length;
  if (n < 2) return { slope: Number.NaN, stderr: Number.NaN, points: n, mean: Number.NaN, flat: false };
  const mx = usable.reduce((s, p) => s + p.x, 0) / n;
  const my = usable.reduce((s, p) => s + p.y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of usable) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
  }
  const slope = sxx > 0 ? sxy / sxx : Number.NaN;
  let residuals = 0;
  for (const p of usable) residuals += (p.y - (my + slope * (p.x - mx))) ** 2;
  const stderr = n > 2 && sxx > 0 ? Math.sqrt(residuals / (n - 2) / sxx) : Number.NaN;
  return {
    slope,
    stderr,
    points: n,
    mean: my,
    flat: windowMinutes >= VERDICT_MINUTES ? isFlat(slope, stderr) : null,
  };
}
