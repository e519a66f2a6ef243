import {
  formatNumber,
  isFiniteNumber,
  noData,
  invalid,
  type Direction,
  type Judgement,
  type OnNoData,
} from './verdict.js';

/** Options of the ratio test: the tolerated ratio and which way is bad. */
export interface RatioOptions {
  maxRatio: number;
  direction: Direction;
  onNoData: OnNoData;
}

/** "ratio ≤ 1.2", "ratio ≥ 0.8333" or "ratio within [0.8333, 1.2]". */
export function describeRatioBounds({ maxRatio, direction }: Pick<RatioOptions, 'maxRatio' | 'direction'>): string {
  const floor = formatNumber(1 / maxRatio);
  const ceiling = formatNumber(maxRatio);
  if (direction === 'increase') return `ratio ≤ ${ceiling}`;
  if (direction === 'decrease') return `ratio ≥ ${floor}`;
  return `ratio within [${floor}, ${ceiling}]`;
}

/**
 * canary / baseline for non-negative metrics. A zero baseline is defined rather than left as NaN: 0/0 is 1
 * (both idle: no change), and x/0 with x > 0 is +Infinity (something appeared where there was nothing).
 */
export function ratioOf(canary: number, baseline: number): number {
  if (baseline === 0) return canary === 0 ? 1 : Number.POSITIVE_INFINITY;
  return canary / baseline;
}

/**
 * Judges canary/baseline against `maxRatio`: 'increase' fails when the ratio is above maxRatio, 'decrease' when
 * it is below 1/maxRatio, 'either' on both. A missing, NaN or infinite side is no data (`onNoData`); a negative
 * side is an Error, since a ratio of signed values has no direction. With a zero baseline and a positive canary
 * the ratio is unbounded: it fails 'increase' and 'either', passes 'decrease', and `value` is null (JSON has no
 * Infinity) with the reason in `detail`.
 */
export function judgeRatio(canary: number | null, baseline: number | null, options: RatioOptions): Judgement {
  const threshold = describeRatioBounds(options);
  if (!isFiniteNumber(canary) || !isFiniteNumber(baseline)) {
    return noData(
      options.onNoData,
      threshold,
      `No usable value (canary ${String(canary)}, baseline ${String(baseline)}).`,
    );
  }
  if (canary < 0 || baseline < 0) {
    return invalid(threshold, `The ratio test needs non-negative values (canary ${canary}, baseline ${baseline}).`);
  }
  const ratio = ratioOf(canary, baseline);
  const shown = Number.isFinite(ratio) ? formatNumber(ratio) : `unbounded (baseline 0, canary ${formatNumber(canary)})`;
  const value = Number.isFinite(ratio) ? ratio : null;
  const { maxRatio, direction } = options;
  const tooHigh = direction !== 'decrease' && ratio > maxRatio;
  const tooLow = direction !== 'increase' && ratio < 1 / maxRatio;
  if (tooHigh)
    return {
      verdict: 'Failed',
      value,
      threshold,
      detail: `Canary/baseline ratio ${shown} is above ${formatNumber(maxRatio)}.`,
    };
  if (tooLow)
    return {
      verdict: 'Failed',
      value,
      threshold,
      detail: `Canary/baseline ratio ${shown} is below ${formatNumber(1 / maxRatio)}.`,
    };
  return {
    verdict: 'Successful',
    value,
    threshold,
    detail: `Canary/baseline ratio ${shown} is ${threshold.replace('ratio ', '')}.`,
  };
}
