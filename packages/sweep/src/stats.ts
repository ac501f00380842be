/**
 * The statistics of sweep reports. Confidence intervals are Student t intervals over the points of
 * a group (seeds are the replicates): mean +- t(0.975, n-1) * s / sqrt(n). Deterministic: no
 * resampling, so a report is the same on every run.
 */

/** t(0.975, df) for df = 1..30 (two-sided 95%), from the standard t table. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** The 0.975 quantile of Student's t with `df` degrees of freedom (a Cornish-Fisher expansion past 30). */
export function tQuantile975(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new RangeError('degrees of freedom must be a whole number >= 1');
  if (df <= T975.length) return T975[df - 1];
  const z = 1.959963984540054;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2);
}

/** Count, mean, standard deviation and 95% interval half-width of a set of values. */
export interface Summary {
  readonly n: number;
  readonly mean: number;
  /** Sample standard deviation (n - 1); 0 for one value. */
  readonly sd: number;
  /** Half-width of the 95% t interval; null for fewer than two values. */
  readonly half: number | null;
}

/** Summarize values: mean, sample standard deviation and the 95% Student t half-width. */
export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  if (n === 0) return { n, mean: NaN, sd: NaN, half: null };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { n, mean, sd: 0, half: null };
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  return { n, mean, sd, half: (tQuantile975(n - 1) * sd) / Math.sqrt(n) };
}

/** Least-squares slope of y on x, or null when x does not vary. */
export function slope(xs: readonly number[], ys: readonly number[]): number | null {
  const n = xs.length;
  if (n < 2) return null;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - mx) ** 2;
    sxy += (xs[i] - mx) * (ys[i] - my);
  }
  return sxx === 0 ? null : sxy / sxx;
}
