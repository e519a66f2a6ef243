// Error-rate comparison. The pooled z-test, Wilson and Newcombe intervals are a few lines each and are written
// here because npm has no maintained port of statsmodels' proportion tools; only the normal distribution
// comes from @stdlib.
import { fisherExact } from './fisher-exact.js';
import { normalSf, zCritical } from './normal.js';
import {
  formatConfidence,
  formatNumber,
  invalid,
  noData,
  type CompareOptions,
  type Direction,
  type Judgement,
} from './verdict.js';

export { fisherExact } from './fisher-exact.js';

/** Error and request counts of one side (cumulative for sequential tests). */
export interface Counts {
  errors: number;
  total: number;
}

/** True for a `{ errors, total }` pair (as opposed to a number, a sample array or null). */
export function isCounts(x: unknown): x is Counts {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && 'errors' in x && 'total' in x;
}

/**
 * Pooled two-proportion z-test, two-sided, as statsmodels `proportions_ztest([e1, e2], [n1, n2])`. With no
 * variance (both rates 0, or both 1) the rates are equal and p is 1 where statsmodels gives NaN.
 */
export function twoProportionZTest(canary: Counts, baseline: Counts): { z: number; pValue: number } {
  const pooled = (canary.errors + baseline.errors) / (canary.total + baseline.total);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / canary.total + 1 / baseline.total));
  if (!(se > 0)) return { z: 0, pValue: 1 };
  const z = (canary.errors / canary.total - baseline.errors / baseline.total) / se;
  return { z, pValue: Math.min(1, 2 * normalSf(Math.abs(z))) };
}

/** Wilson score interval for one proportion. */
export function wilsonInterval(errors: number, total: number, confidence: number): [number, number] {
  const z = zCritical(confidence);
  const p = errors / total;
  const z2n = (z * z) / total;
  const center = (p + z2n / 2) / (1 + z2n);
  const half = (z * Math.sqrt((p * (1 - p)) / total + z2n / (4 * total))) / (1 + z2n);
  return [center - half, center + half];
}

/**
 * Newcombe's hybrid score interval for canary rate − baseline rate (his method 10), as statsmodels
 * `confint_proportions_2indep(e1, n1, e2, n2, method='newcomb', compare='diff')`. Unlike the Wald interval it
 * stays sensible at rates near 0, which is where error rates live.
 */
export function newcombeInterval(canary: Counts, baseline: Counts, confidence: number): [number, number] {
  const p1 = canary.errors / canary.total;
  const p2 = baseline.errors / baseline.total;
  const [l1, u1] = wilsonInterval(canary.errors, canary.total, confidence);
  const [l2, u2] = wilsonInterval(baseline.errors, baseline.total, confidence);
  const d = p1 - p2;
  return [d - Math.hypot(p1 - l1, u2 - p2), d + Math.hypot(u1 - p1, p2 - l2)];
}

/** True when some expected cell of the 2×2 table is below 5, where the z-test's normal approximation is poor. */
export function needsExactTest(canary: Counts, baseline: Counts): boolean {
  const n = canary.total + baseline.total;
  const errors = canary.errors + baseline.errors;
  const rows = [canary.total, baseline.total];
  return rows.some((row) => (row * errors) / n < 5 || (row * (n - errors)) / n < 5);
}

/** Whether the canary rate breaks the tolerated ratio in a bad direction. */
export function rateBeyondTolerance(
  canaryRate: number,
  baselineRate: number,
  maxRatio: number,
  direction: Direction,
): 'higher' | 'lower' | undefined {
  if (direction !== 'decrease' && canaryRate > maxRatio * baselineRate) return 'higher';
  if (direction !== 'increase' && canaryRate < baselineRate / maxRatio) return 'lower';
  return undefined;
}

/** "rate ≤ 1.2× baseline", "rate ≥ 0.8333× baseline", "rate within [0.8333, 1.2]× baseline". */
export function describeRateBounds({ maxRatio, direction }: Pick<CompareOptions, 'maxRatio' | 'direction'>): string {
  if (direction === 'increase') return `rate ≤ ${formatNumber(maxRatio)}× baseline`;
  if (direction === 'decrease') return `rate ≥ ${formatNumber(1 / maxRatio)}× baseline`;
  return `rate within [${formatNumber(1 / maxRatio)}, ${formatNumber(maxRatio)}]× baseline`;
}

/** Why a pair of counts cannot be judged, or undefined when they are usable. */
export function countsProblem(canary: Counts, baseline: Counts): string | undefined {
  for (const [side, c] of [
    ['canary', canary],
    ['baseline', baseline],
  ] as const) {
    if (!Number.isFinite(c.errors) || !Number.isFinite(c.total) || c.errors < 0 || c.total < 0 || c.errors > c.total) {
      return `Invalid ${side} counts: ${c.errors} errors of ${c.total}.`;
    }
  }
  return undefined;
}

/**
 * Judges canary versus baseline error rates. Totals of 0 are no data (`onNoData`); a total below `minSamples`
 * on either side is Inconclusive. The test is Fisher's exact test when any expected cell is below 5, else the
 * pooled z-test. Failed when p < 1 − confidence and the canary rate is beyond the tolerated ratio in a bad
 * direction ('increase': above maxRatio × baseline rate; 'decrease': below baseline rate / maxRatio). `value` is
 * canary rate − baseline rate with Newcombe's interval at `confidence`.
 */
export function judgeTwoProportion(canaryInput: Counts, baselineInput: Counts, options: CompareOptions): Judgement {
  const threshold = `${describeRateBounds(options)} at ${formatConfidence(options.confidence)}`;
  const problem = countsProblem(canaryInput, baselineInput);
  if (problem) return invalid(threshold, problem);
  // Exact tests need whole counts; metric sources may report increase() as 41.9999.
  const canary = { errors: Math.round(canaryInput.errors), total: Math.round(canaryInput.total) };
  const baseline = { errors: Math.round(baselineInput.errors), total: Math.round(baselineInput.total) };
  if (canary.total === 0 || baseline.total === 0) {
    return noData(options.onNoData, threshold, `No requests (canary ${canary.total}, baseline ${baseline.total}).`);
  }
  const sampleSize = Math.min(canary.total, baseline.total);
  if (sampleSize < options.minSamples) {
    const detail = `Too few requests (canary ${canary.total}, baseline ${baseline.total}; need ${options.minSamples} each).`;
    return { verdict: 'Inconclusive', value: null, threshold, sampleSize, detail };
  }
  const exact = needsExactTest(canary, baseline);
  const pValue = exact
    ? fisherExact(canary.errors, canary.total - canary.errors, baseline.errors, baseline.total - baseline.errors)
    : twoProportionZTest(canary, baseline).pValue;
  const r1 = canary.errors / canary.total;
  const r2 = baseline.errors / baseline.total;
  const interval = newcombeInterval(canary, baseline, options.confidence);
  const beyond = rateBeyondTolerance(r1, r2, options.maxRatio, options.direction);
  const significant = pValue < 1 - options.confidence;
  const stats = `canary ${formatNumber(r1)} vs baseline ${formatNumber(r2)}, p = ${formatNumber(pValue)} (${exact ? 'Fisher exact' : 'z-test'})`;
  const base = { value: r1 - r2, threshold, sampleSize, pValue, interval };
  if (significant && beyond)
    return {
      ...base,
      verdict: 'Failed',
      detail: `Canary error rate is significantly ${beyond} beyond tolerance: ${stats}.`,
    };
  const why = significant ? 'Difference is significant but within tolerance or harmless' : 'No significant difference';
  return { ...base, verdict: 'Successful', detail: `${why}: ${stats}.` };
}
