import { formatNumber, isFiniteNumber, noData, type Judgement, type OnNoData } from './verdict.js';

/** Bounds of a threshold guard; at least one of `min`/`max` is expected (the spec schema enforces it). */
export interface ThresholdOptions {
  min?: number | undefined;
  max?: number | undefined;
  onNoData: OnNoData;
}

/** "≤ 0.02", "≥ 0.9" or "within [0.9, 1.1]". */
export function describeBounds({ min, max }: Pick<ThresholdOptions, 'min' | 'max'>): string {
  if (min !== undefined && max !== undefined) return `within [${formatNumber(min)}, ${formatNumber(max)}]`;
  if (max !== undefined) return `≤ ${formatNumber(max)}`;
  if (min !== undefined) return `≥ ${formatNumber(min)}`;
  return 'any value';
}

/**
 * Judges one metric value against inclusive bounds. Null, NaN and ±Infinity are no data (a division by zero in a
 * query is not a measurement), which is Failed or Inconclusive as `onNoData` says.
 */
export function judgeThreshold(value: number | null, options: ThresholdOptions): Judgement {
  const threshold = describeBounds(options);
  if (!isFiniteNumber(value)) {
    return noData(options.onNoData, threshold, `No usable value (${String(value)}).`);
  }
  const { min, max } = options;
  const shown = formatNumber(value);
  if (max !== undefined && value > max) {
    return { verdict: 'Failed', value, threshold, detail: `${shown} is above the maximum ${formatNumber(max)}.` };
  }
  if (min !== undefined && value < min) {
    return { verdict: 'Failed', value, threshold, detail: `${shown} is below the minimum ${formatNumber(min)}.` };
  }
  return { verdict: 'Successful', value, threshold, detail: `${shown} is ${threshold}.` };
}
