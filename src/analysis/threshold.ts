import { formatValue, type Unit } from '../domain/units.js';
import { isFiniteNumber, noData, type Judgement, type OnNoData } from './verdict.js';

/** Bounds of a threshold guard; at least one of `min`/`max` is expected (the spec schema enforces it). */
export interface ThresholdOptions {
  min?: number | undefined;
  max?: number | undefined;
  /** The gray zone: past `warnMax` (but within `max`) or below `warnMin` (but not `min`) is Inconclusive. */
  warnMax?: number | undefined;
  warnMin?: number | undefined;
  unit?: Unit | undefined;
  onNoData: OnNoData;
}

/** "≤ 5 %", "≥ 0.9" or "within [0.9, 1.1]", and the gray zone's pass bound when there is one. */
export function describeBounds({ min, max, warnMin, warnMax, unit }: Omit<ThresholdOptions, 'onNoData'>): string {
  const f = (x: number) => formatValue(x, unit);
  let bounds = 'any value';
  if (min !== undefined && max !== undefined) bounds = `within [${f(min)}, ${f(max)}]`;
  else if (max !== undefined) bounds = `≤ ${f(max)}`;
  else if (min !== undefined) bounds = `≥ ${f(min)}`;
  const pass = [
    ...(warnMin !== undefined ? [`≥ ${f(warnMin)}`] : []),
    ...(warnMax !== undefined ? [`≤ ${f(warnMax)}`] : []),
  ];
  return pass.length ? `${bounds} (passes ${pass.join(' and ')})` : bounds;
}

/**
 * Judges one metric value against inclusive bounds. Null, NaN and ±Infinity are no data (a division by zero in a
 * query is not a measurement), which is Failed or Inconclusive as `onNoData` says. A value in the gray zone
 * between a pass bound (`warnMax`/`warnMin`) and a fail bound (`max`/`min`) is Inconclusive.
 */
export function judgeThreshold(value: number | null, options: ThresholdOptions): Judgement {
  const threshold = describeBounds(options);
  if (!isFiniteNumber(value)) {
    return noData(options.onNoData, threshold, `No usable value (${String(value)}).`);
  }
  const { min, max, warnMin, warnMax, unit } = options;
  const f = (x: number) => formatValue(x, unit);
  const shown = f(value);
  if (max !== undefined && value > max) {
    return { verdict: 'Failed', value, threshold, detail: `${shown} is above the maximum ${f(max)}.` };
  }
  if (min !== undefined && value < min) {
    return { verdict: 'Failed', value, threshold, detail: `${shown} is below the minimum ${f(min)}.` };
  }
  if (warnMax !== undefined && value > warnMax) {
    const detail = `${shown} is in the gray zone: above ${f(warnMax)}, not above the maximum ${f(max!)}.`;
    return { verdict: 'Inconclusive', value, threshold, detail };
  }
  if (warnMin !== undefined && value < warnMin) {
    const detail = `${shown} is in the gray zone: below ${f(warnMin)}, not below the minimum ${f(min!)}.`;
    return { verdict: 'Inconclusive', value, threshold, detail };
  }
  return { verdict: 'Successful', value, threshold, detail: `${shown} is ${threshold}.` };
}
