// Standard normal tail and quantile from @stdlib (the one statistics package this project depends on):
// its CDF is erfc-based, so far tails keep their relative precision (p-values like 1e-20 do not round to 0).
import normal from '@stdlib/stats-base-dists-normal';

/** P(Z > z) for a standard normal Z. */
export function normalSf(z: number): number {
  return normal.cdf(-z, 0, 1);
}

/** The z with P(Z ≤ z) = p for a standard normal Z. */
export function normalQuantile(p: number): number {
  return normal.quantile(p, 0, 1);
}

/** Two-sided critical value for a confidence level: 1.96 for 0.95. */
export function zCritical(confidence: number): number {
  return normalQuantile(1 - (1 - confidence) / 2);
}
