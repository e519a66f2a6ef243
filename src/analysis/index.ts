/**
 * Judging one measurement of a guard: pure, deterministic functions (no I/O, no clock, no randomness), safe to
 * call from workflow code. Each returns a {@link Judgement}; the worst verdict wins when combining them.
 */
import type { CompareGuard } from '../domain/guard-spec.schema.js';
import { assertNever } from '../util/assert-never.js';
import { judgeKs, judgePsi, type DriftOptions } from './drift.js';
import { judgeMannWhitney } from './mann-whitney.js';
import { judgeRatio } from './ratio.js';
import { judgeSequential, type SequentialOptions } from './sequential.js';
import { isCounts, judgeTwoProportion, type Counts } from './two-proportion.js';
import { invalid, type Judgement } from './verdict.js';

export * from './verdict.js';
export * from './threshold.js';
export * from './ratio.js';
export * from './mann-whitney.js';
export * from './two-proportion.js';
export * from './sequential.js';
export * from './drift.js';
export { alternativeOf, tailAlpha } from './sides.js';
export { normalCdf, normalSf, normalQuantile, normalQuantileUpper, zCritical, zCriticalOneSided } from './normal.js';

/** The statistical test of a compare guard. */
export type CompareTest = CompareGuard['test'];

/** One side of a comparison: a value (ratio), samples (mann-whitney, ks, psi, sequential) or counts (two-proportion, sequential). */
export type CompareInput = number | null | readonly number[] | Counts;

const isScalar = (x: CompareInput): x is number | null => x === null || typeof x === 'number';

/**
 * Judges canary against baseline with the guard's test. Inputs of the wrong shape for the test (samples for
 * 'ratio', counts for 'mann-whitney', …) are an Error judgement, not an exception: the workflow records it.
 */
export function judgeCompare(
  test: CompareTest,
  canary: CompareInput,
  baseline: CompareInput,
  options: SequentialOptions & DriftOptions,
): Judgement {
  const wrongShape = (wanted: string) => invalid(`${test} test`, `The ${test} test needs ${wanted} on both sides.`);
  switch (test) {
    case 'ratio':
      if (!isScalar(canary) || !isScalar(baseline)) return wrongShape('a single value');
      return judgeRatio(canary, baseline, { ...options, onNoData: options.onNoData ?? 'inconclusive' });
    case 'mann-whitney':
      if (isCounts(canary) || isCounts(baseline) || typeof canary === 'number' || typeof baseline === 'number') {
        return wrongShape('samples');
      }
      return judgeMannWhitney(canary, baseline, options);
    case 'ks':
    case 'psi':
      if (isCounts(canary) || isCounts(baseline) || typeof canary === 'number' || typeof baseline === 'number') {
        return wrongShape('samples');
      }
      return test === 'ks' ? judgeKs(canary, baseline, options) : judgePsi(canary, baseline, options);
    case 'two-proportion':
      if (!isCounts(canary) || !isCounts(baseline)) return wrongShape('error and total counts');
      return judgeTwoProportion(canary, baseline, options);
    case 'sequential':
      if (typeof canary === 'number' || typeof baseline === 'number') return wrongShape('counts or samples');
      return judgeSequential(canary, baseline, options);
    default:
      return assertNever(test, 'compare test');
  }
}
