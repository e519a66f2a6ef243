// Error-rate comparison. The pooled z-test, Wilson and Newcombe intervals are a few lines each and are written
// here because npm has no maintained port of statsmodels' proportion tools; only the normal distribution
// comes from @stdlib.
import { fisherExact } from './fisher-exact.js';
import { normalQuantileUpper, normalSf, zCritical } from './normal.js';
import type { Alternative } from './rank-sum.js';
import { alternativeOf, tailAlpha } from './sides.js';
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
 * Pooled two-proportion z-test, as statsmodels `proportions_ztest([e1, e2], [n1, n2], alternative=…)` with
 * 'greater' = 'larger' (canary rate higher) and 'less' = 'smaller'. With no variance (both rates 0, or both 1)
 * the rates are equal and p is 1 where statsmodels gives NaN.
 */
export function twoProportionZTest(
  canary: Counts,
  baseline: Counts,
  alternative: Alternative = 'two-sided',
): { z: number; pValue: number } {
  const pooled = (canary.errors + baseline.errors) / (canary.total + baseline.total);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / canary.total + 1 / baseline.total));
  if (!(se > 0)) return { z: 0, pValue: 1 };
  const z = (canary.errors / canary.total - baseline.errors / baseline.total) / se;
  const pValue =
    alternative === 'greater' ? normalSf(z) : alternative === 'less' ? normalSf(-z) : 2 * normalSf(Math.abs(z));
  return { z, pValue: Math.min(1, pValue) };
}

/**
 * The score-type statistic for "canary rate = ratio × baseline rate": z = (r1 − ratio·r2) / √V with V the
 * variance at the boundary, p̃2 = (e1 + e2)/(ratio·n1 + n2) and p̃1 = ratio·p̃2 (a moment estimate of the
 * constrained rates, pooled like the equality z-test, to which it reduces at ratio 1). z > z_α says the canary
 * rate is above ratio × baseline with one-sided confidence 1 − α; z < −z_α that it is below.
 */
export function rateContrast(
  canary: Counts,
  baseline: Counts,
  ratio: number,
): { estimate: number; variance: number; baseline: number } {
  const r1 = canary.errors / canary.total;
  const r2 = baseline.errors / baseline.total;
  const p2 = Math.min(1, (canary.errors + baseline.errors) / (ratio * canary.total + baseline.total));
  const p1 = Math.min(1, ratio * p2);
  const variance = (p1 * (1 - p1)) / canary.total + (ratio * ratio * p2 * (1 - p2)) / baseline.total;
  return { estimate: r1 - ratio * r2, variance, baseline: p2 };
}

function contrastZ(canary: Counts, baseline: Counts, ratio: number): number {
  const { estimate, variance } = rateContrast(canary, baseline, ratio);
  if (variance > 0) return estimate / Math.sqrt(variance);
  return estimate === 0 ? 0 : Math.sign(estimate) * Number.POSITIVE_INFINITY;
}

/**
 * The one-sided confidence bound on canary rate / baseline rate by inverting {@link rateContrast}: the lower
 * bound (side 'lower') is the smallest ratio not rejected as too low, the upper bound the largest not rejected
 * as too high, each at level alpha. Bisection on log ratio; 0 or ∞ when no finite ratio is rejected.
 */
export function rateRatioBound(canary: Counts, baseline: Counts, bound: 'lower' | 'upper', alpha: number): number {
  const z = normalQuantileUpper(alpha);
  // z(ratio) falls as ratio grows. Lower bound: the ratio where z(ratio) = z_α; upper: where it is −z_α.
  const target = bound === 'lower' ? z : -z;
  let lo = -30;
  let hi = 30;
  if (contrastZ(canary, baseline, Math.exp(lo)) <= target) return bound === 'lower' ? 0 : Math.exp(lo);
  if (contrastZ(canary, baseline, Math.exp(hi)) >= target) return Number.POSITIVE_INFINITY;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (contrastZ(canary, baseline, Math.exp(mid)) > target) lo = mid;
    else hi = mid;
  }
  return Math.exp((lo + hi) / 2);
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

/**
 * Whether the canary rate is beyond the tolerated ratio in a bad direction with one-sided confidence 1 − alpha
 * per bad side: 'higher' when rate/baseline rate is above maxRatio at that confidence (its lower confidence bound
 * exceeds maxRatio), 'lower' when it is below 1/maxRatio (its upper bound is under 1/maxRatio).
 */
export function rateBoundBeyondTolerance(
  canary: Counts,
  baseline: Counts,
  maxRatio: number,
  direction: Direction,
  alpha: number,
): 'higher' | 'lower' | undefined {
  const z = normalQuantileUpper(alpha);
  if (direction !== 'decrease' && contrastZ(canary, baseline, maxRatio) > z) return 'higher';
  if (direction !== 'increase' && contrastZ(canary, baseline, 1 / maxRatio) < -z) return 'lower';
  return undefined;
}

/** Whether the canary rate's point estimate breaks the tolerated ratio in a bad direction (no confidence). */
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
 * on either side is Inconclusive. The test of "rates differ the bad way" is one-sided for 'increase' and
 * 'decrease' and two-sided for 'either': Fisher's exact test when any expected cell is below 5, else the pooled
 * z-test. Failed when p < 1 − confidence and the confidence bound of the rate ratio is beyond the tolerance
 * ('increase': its lower bound above maxRatio; 'decrease': its upper bound below 1/maxRatio; each at one-sided
 * confidence, split over the two sides for 'either'), so a canary inside tolerance is failed in at most ~α of
 * rollouts. `value` is canary rate − baseline rate with Newcombe's two-sided interval at `confidence`.
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
  const alternative = alternativeOf(options.direction);
  const alpha = tailAlpha(options.direction, options.confidence);
  const exact = needsExactTest(canary, baseline);
  const pValue = exact
    ? fisherExact(
        canary.errors,
        canary.total - canary.errors,
        baseline.errors,
        baseline.total - baseline.errors,
        alternative,
      )
    : twoProportionZTest(canary, baseline, alternative).pValue;
  const r1 = canary.errors / canary.total;
  const r2 = baseline.errors / baseline.total;
  const interval = newcombeInterval(canary, baseline, options.confidence);
  const beyond = rateBoundBeyondTolerance(canary, baseline, options.maxRatio, options.direction, alpha);
  const significant = pValue < 1 - options.confidence;
  const bounds = [
    options.direction !== 'decrease' ? `≥ ${formatNumber(rateRatioBound(canary, baseline, 'lower', alpha))}` : '',
    options.direction !== 'increase' ? `≤ ${formatNumber(rateRatioBound(canary, baseline, 'upper', alpha))}` : '',
  ].filter(Boolean);
  const stats = `canary ${formatNumber(r1)} vs baseline ${formatNumber(r2)} (ratio ${formatNumber(r1 / r2)}, ${bounds.join(' and ')}), p = ${formatNumber(pValue)} (${exact ? 'Fisher exact' : 'z-test'})`;
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
