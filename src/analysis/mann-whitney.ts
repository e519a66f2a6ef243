import { hodgesLehmann, shiftInterval } from './hodges-lehmann.js';
import { normalQuantileUpper } from './normal.js';
import { mannWhitneyU } from './rank-sum.js';
import { alternativeOf, contrastFactor, tailAlpha } from './sides.js';
import { formatConfidence, formatNumber, median, noData, type CompareOptions, type Judgement } from './verdict.js';

export { mannWhitneyU, type Alternative, type RankSumResult, type RankSumMethod } from './rank-sum.js';
export { hodgesLehmann, shiftInterval, type ShiftInterval } from './hodges-lehmann.js';

/** The shifts (canary − baseline) tolerated upwards and downwards, from maxRatio and the baseline median. */
export function shiftTolerance(baselineMedian: number, maxRatio: number): { up: number; down: number } {
  const scale = Math.abs(baselineMedian);
  return { up: (maxRatio - 1) * scale, down: (1 - 1 / maxRatio) * scale };
}

function describe(options: CompareOptions, tolerance: { up: number; down: number } | undefined): string {
  const at = `at ${formatConfidence(options.confidence)}`;
  const up = tolerance ? `+${formatNumber(tolerance.up)}` : `(${formatNumber(options.maxRatio)} − 1) × baseline median`;
  const down = tolerance
    ? `−${formatNumber(tolerance.down)}`
    : `(1 − 1/${formatNumber(options.maxRatio)}) × baseline median`;
  if (options.direction === 'increase') return `shift ≤ ${up} ${at}`;
  if (options.direction === 'decrease') return `shift ≥ ${down} ${at}`;
  return `shift within [${down}, ${up}] ${at}`;
}

/** Finite values only: a NaN or ±Infinity sample (a 0/0 in a query) is no observation. */
export function finiteSamples(values: readonly number[] | null): number[] {
  return values === null ? [] : values.filter((v) => Number.isFinite(v));
}

/** The share of the pooled sample held by its largest group of equal values (1 for all-tied samples). */
export function largestTieShare(x: readonly number[], y: readonly number[]): number {
  const pooled = [...x, ...y].sort((a, b) => a - b);
  let best = 0;
  for (let start = 0; start < pooled.length;) {
    let end = start;
    while (end + 1 < pooled.length && pooled[end + 1] === pooled[start]) end++;
    best = Math.max(best, end - start + 1);
    start = end + 1;
  }
  return pooled.length ? best / pooled.length : 0;
}

/**
 * When one value holds at least this share of the pooled sample (0/1 outcomes, zero-inflated counts), the
 * Hodges–Lehmann shift is degenerate: most pairwise differences are exactly 0, so the shift and its interval sit
 * at 0 whatever the proportions, and a tolerance on the shift can never be exceeded. Such samples are judged on
 * their means instead.
 */
export const DEGENERATE_TIE_SHARE = 0.5;

function meanAndVariance(values: readonly number[]): [number, number] {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const ss = values.reduce((a, b) => a + (b - mean) * (b - mean), 0);
  return [mean, values.length > 1 ? ss / (values.length - 1) : Number.NaN];
}

/**
 * Whether mean(canary) is beyond the tolerance with one-sided confidence 1 − alpha per bad side: the Welch z of
 * the contrast mean(canary) − c·mean(baseline) (see {@link contrastFactor}) against its critical value.
 */
function meansBeyond(
  canary: readonly number[],
  baseline: readonly number[],
  options: CompareOptions,
  alpha: number,
): { tooHigh: boolean; tooLow: boolean; difference: number; interval: [number, number] } {
  const [m1, v1] = meanAndVariance(canary);
  const [m2, v2] = meanAndVariance(baseline);
  const z = normalQuantileUpper(alpha);
  const contrastZ = (side: 'higher' | 'lower'): number => {
    const c = contrastFactor(side, options.maxRatio, Math.sign(m2));
    const theta = m1 - c * m2;
    const se = Math.sqrt(v1 / canary.length + (c * c * v2) / baseline.length);
    return se > 0 ? theta / se : theta === 0 ? 0 : Math.sign(theta) * Number.POSITIVE_INFINITY;
  };
  const se = Math.sqrt(v1 / canary.length + v2 / baseline.length);
  const difference = m1 - m2;
  return {
    tooHigh: options.direction !== 'decrease' && contrastZ('higher') > z,
    tooLow: options.direction !== 'increase' && contrastZ('lower') < -z,
    difference,
    interval: [difference - z * se, difference + z * se],
  };
}

/**
 * Judges canary against baseline samples (e.g. latencies) the way Kayenta does: a Mann–Whitney U test plus the
 * Hodges–Lehmann shift (median of canary_i − baseline_j) with its distribution-free interval. The test is
 * one-sided when only one direction is bad ('increase': canary greater; 'decrease': canary less) and two-sided
 * for 'either'. Likewise the interval: for 'increase'/'decrease' each bound is a one-sided bound at
 * `confidence` (the two-sided interval at 1 − 2(1 − confidence)); for 'either' it is the two-sided interval.
 *
 * Rule: no finite samples on a side is no data (`onNoData`); fewer than `minSamples` on either side is
 * Inconclusive. Otherwise Failed when both
 * 1. p < 1 − confidence, and
 * 2. the interval bound nearest zero lies beyond the tolerance in a bad direction: for 'increase' the lower bound
 *    is above (maxRatio − 1) × |median(baseline)|; for 'decrease' the upper bound is below
 *    −(1 − 1/maxRatio) × |median(baseline)|; 'either' checks both.
 *
 * Heavily tied samples (one value holding ≥ {@link DEGENERATE_TIE_SHARE} of the pooled sample) make the shift
 * degenerate, so condition 2 is judged on the means instead, with tolerances scaled by |mean(baseline)|: the
 * one-sided Welch bound of mean(canary) − maxRatio·mean(baseline) must be above 0 ('increase'), or of
 * mean(canary) − mean(baseline)/maxRatio below 0 ('decrease'). `value` and `interval` are then the mean
 * difference and its Welch bounds.
 *
 * Successful otherwise: not significant, significant in the good direction, or significant but within tolerance.
 * A baseline median (or mean) of 0 leaves no tolerance: any significant shift the bad way fails.
 */
export function judgeMannWhitney(
  canaryInput: readonly number[] | null,
  baselineInput: readonly number[] | null,
  options: CompareOptions,
): Judgement {
  const canary = finiteSamples(canaryInput);
  const baseline = finiteSamples(baselineInput);
  if (canary.length === 0 || baseline.length === 0) {
    return noData(
      options.onNoData,
      describe(options, undefined),
      `No samples (canary ${canary.length}, baseline ${baseline.length}).`,
    );
  }
  const sampleSize = Math.min(canary.length, baseline.length);
  const tolerance = shiftTolerance(median(baseline), options.maxRatio);
  const threshold = describe(options, tolerance);
  if (sampleSize < options.minSamples) {
    const detail = `Too few samples (canary ${canary.length}, baseline ${baseline.length}; need ${options.minSamples} each).`;
    return { verdict: 'Inconclusive', value: null, threshold, sampleSize, detail };
  }
  const alpha = tailAlpha(options.direction, options.confidence);
  const test = mannWhitneyU(canary, baseline, undefined, alternativeOf(options.direction));
  const significant = test.pValue < 1 - options.confidence;
  const degenerate = test.tieTerm > 0 && largestTieShare(canary, baseline) >= DEGENERATE_TIE_SHARE;
  let shift: number;
  let interval: [number, number];
  let tooHigh: boolean;
  let tooLow: boolean;
  let widened = false;
  let stats: string;
  if (degenerate) {
    const means = meansBeyond(canary, baseline, options, alpha);
    ({ tooHigh, tooLow, interval } = means);
    shift = means.difference;
    stats = `mean difference ${formatNumber(shift)} [${formatNumber(interval[0])}, ${formatNumber(interval[1])}] (tied samples: judged on means), p = ${formatNumber(test.pValue)} (${test.method})`;
  } else {
    shift = hodgesLehmann(canary, baseline);
    const built = shiftInterval(canary, baseline, 1 - 2 * alpha, test.tieTerm);
    ({ interval, widened } = built);
    tooHigh = options.direction !== 'decrease' && interval[0] > tolerance.up;
    tooLow = options.direction !== 'increase' && interval[1] < -tolerance.down;
    stats = `shift ${formatNumber(shift)} [${formatNumber(interval[0])}, ${formatNumber(interval[1])}], p = ${formatNumber(test.pValue)} (${test.method})`;
  }
  const base = { value: shift, threshold, sampleSize, pValue: test.pValue, interval };
  if (significant && (tooHigh || tooLow)) {
    return {
      ...base,
      verdict: 'Failed',
      detail: `Canary is ${tooHigh ? 'higher' : 'lower'} than baseline beyond tolerance: ${stats}.`,
    };
  }
  const badWay = (options.direction !== 'decrease' && shift > 0) || (options.direction !== 'increase' && shift < 0);
  const why = !significant
    ? 'No significant difference'
    : badWay
      ? 'Significant but within tolerance'
      : 'Significant in the harmless direction';
  const caveat = widened ? ' Samples are too small for the requested confidence; the interval is the full range.' : '';
  return { ...base, verdict: 'Successful', detail: `${why}: ${stats}.${caveat}` };
}
