import type { MeasurementRecord, GuardTally, Verdict } from './tally.schema.js';
import type { GuardSpec } from './guard-spec.schema.js';
import { formatNumber } from '../analysis/verdict.js';

/*
 * Guard assessment as pure functions over a tally. Zod-free: workflow code imports this module.
 */

export const emptyTally = (guard: string): GuardTally => ({
  guard,
  checks: 0,
  successful: 0,
  failed: 0,
  inconclusive: 0,
  errors: 0,
  consecutiveErrors: 0,
  inconclusiveSinceConclusive: 0,
});

/** What one measurement means for the step: nothing yet, or the guard has failed. */
export type MeasurementDecision = { kind: 'none' } | { kind: 'fail'; reason: string };

type Limits = Pick<GuardSpec, 'failureLimit' | 'consecutiveErrorLimit' | 'critical'>;

/**
 * Adds a measurement to a guard's tally and decides at once whether the guard has failed: a critical
 * guard on its first failure, others when failures exceed `failureLimit`, and any guard when source errors
 * in a row exceed `consecutiveErrorLimit`. Returns a new tally.
 */
export function tallyMeasurement(
  t: GuardTally,
  m: MeasurementRecord,
  limits: Limits,
): { tally: GuardTally; decision: MeasurementDecision } {
  const next: GuardTally = { ...t, checks: t.checks + 1, last: m };
  const conclusiveSeen = t.successful + t.failed > 0;
  switch (m.verdict) {
    case 'Successful':
      next.successful += 1;
      next.consecutiveErrors = 0;
      break;
    case 'Failed':
      next.failed += 1;
      next.consecutiveErrors = 0;
      break;
    case 'Inconclusive':
      next.inconclusive += 1;
      next.consecutiveErrors = 0;
      if (conclusiveSeen) next.inconclusiveSinceConclusive += 1;
      break;
    case 'Error':
      next.errors += 1;
      next.consecutiveErrors += 1;
      break;
  }
  const shown = `${measuredValue(m.value)} vs ${m.threshold}${m.cohort ? ` in ${m.cohort}` : ''}`;
  if (m.verdict === 'Failed' && limits.critical) {
    return { tally: next, decision: { kind: 'fail', reason: `critical guard ${m.guard} failed: ${shown}` } };
  }
  if (next.failed > limits.failureLimit) {
    return {
      tally: next,
      decision: {
        kind: 'fail',
        reason: `guard ${m.guard} failed ${next.failed}× (limit ${limits.failureLimit}): ${shown}`,
      },
    };
  }
  if (next.consecutiveErrors > limits.consecutiveErrorLimit) {
    return {
      tally: next,
      decision: {
        kind: 'fail',
        reason: `guard ${m.guard}: ${next.consecutiveErrors} source errors in a row (limit ${limits.consecutiveErrorLimit}): ${m.detail}`,
      },
    };
  }
  return { tally: next, decision: { kind: 'none' } };
}

/**
 * A guard's verdict at the end of a window. Missing data never passes: a guard with no successful
 * measurement, whose last measurement was inconclusive or an error, or with more inconclusive measurements
 * (after its first conclusive one) than `inconclusiveLimit`, is Inconclusive.
 */
export function windowVerdict(t: GuardTally, limits: Pick<GuardSpec, 'inconclusiveLimit' | 'failureLimit'>): Verdict {
  if (t.failed > limits.failureLimit) return 'Failed';
  if (t.successful === 0) return 'Inconclusive';
  if (t.last && (t.last.verdict === 'Inconclusive' || t.last.verdict === 'Error')) return 'Inconclusive';
  if (t.inconclusiveSinceConclusive > limits.inconclusiveLimit) return 'Inconclusive';
  return 'Successful';
}

const RANK: Record<Verdict, number> = { Successful: 0, Inconclusive: 1, Error: 2, Failed: 3 };

/** The worst verdict wins; no verdict at all is Inconclusive (missing data never passes). */
export function worstVerdict(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.length === 0) return 'Inconclusive';
  return verdicts.reduce((a, b) => (RANK[b] > RANK[a] ? b : a));
}

/** A measured value as a human reads it: four significant digits, or `no data`. */
export function measuredValue(value: number | null | undefined): string {
  return value === null || value === undefined ? 'no data' : formatNumber(value);
}
