import { hodgesLehmann, shiftInterval } from './hodges-lehmann.js';
import { mannWhitneyU } from './rank-sum.js';
import { formatConfidence, formatNumber, median, noData, type CompareOptions, type Judgement } from './verdict.js';

export { mannWhitneyU, type RankSumResult, type RankSumMethod } from './rank-sum.js';
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

/**
 * Judges canary against baseline samples (e.g. latencies) the way Kayenta does: a two-sided Mann–Whitney U test
 * plus the Hodges–Lehmann shift (median of canary_i − baseline_j) with its distribution-free interval at
 * `confidence`.
 *
 * Rule: no finite samples on a side is no data (`onNoData`); fewer than `minSamples` on either side is
 * Inconclusive. Otherwise Failed when both
 * 1. p < 1 − confidence, and
 * 2. the interval bound nearest zero lies beyond the tolerance in a bad direction: for 'increase' the lower bound
 *    is above (maxRatio − 1) × |median(baseline)|; for 'decrease' the upper bound is below
 *    −(1 − 1/maxRatio) × |median(baseline)|; 'either' checks both.
 *
 * Successful otherwise: not significant, significant in the good direction, or significant but within tolerance.
 * A baseline median of 0 leaves no tolerance: any significant shift the bad way fails.
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
  const test = mannWhitneyU(canary, baseline);
  const shift = hodgesLehmann(canary, baseline);
  const { interval, widened } = shiftInterval(canary, baseline, options.confidence, test.tieTerm);
  const [lower, upper] = interval;
  const significant = test.pValue < 1 - options.confidence;
  const tooHigh = options.direction !== 'decrease' && lower > tolerance.up;
  const tooLow = options.direction !== 'increase' && upper < -tolerance.down;
  const base = { value: shift, threshold, sampleSize, pValue: test.pValue, interval };
  const stats = `shift ${formatNumber(shift)} [${formatNumber(lower)}, ${formatNumber(upper)}], p = ${formatNumber(test.pValue)} (${test.method})`;
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
