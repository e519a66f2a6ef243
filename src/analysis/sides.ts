// What a direction means for a test: which tail is bad, and the significance level spent on each tail.
import type { Alternative } from './rank-sum.js';
import type { Direction } from './verdict.js';

/** The alternative hypothesis of a direction: 'increase' is bad → the canary tends to be greater. */
export function alternativeOf(direction: Direction): Alternative {
  return direction === 'increase' ? 'greater' : direction === 'decrease' ? 'less' : 'two-sided';
}

/**
 * The significance level of each bad tail: all of 1 − confidence when only one way is bad (a one-sided test),
 * half of it each way for 'either' (a two-sided test).
 */
export function tailAlpha(direction: Direction, confidence: number): number {
  return direction === 'either' ? (1 - confidence) / 2 : 1 - confidence;
}

/**
 * The linear contrast θ = canary − c·baseline that is > 0 exactly when the canary is above the tolerated ceiling
 * (side 'higher') or < 0 when it is below the tolerated floor (side 'lower'), for tolerances expressed as shifts
 * of ±(maxRatio − 1)·|baseline| up and (1 − 1/maxRatio)·|baseline| down. For a positive baseline c is maxRatio
 * (up) or 1/maxRatio (down): a ratio bound.
 */
export function contrastFactor(side: 'higher' | 'lower', maxRatio: number, baselineSign: number): number {
  const sign = baselineSign < 0 ? -1 : 1;
  return side === 'higher' ? 1 + (maxRatio - 1) * sign : 1 - (1 - 1 / maxRatio) * sign;
}
