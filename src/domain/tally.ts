import type { MeasurementRecord, GuardTally, Verdict } from './tally.schema.js';
import type { MeasuredGuard } from './guard-spec.schema.js';
import { formatValue } from './units.js';

/*
 * Guard assessment as pure functions over a tally. Zod-free: workflow code imports this module.
 */

export const emptyTally = (guard: string, prior = 0): GuardTally => ({
  guard,
  checks: 0,
  successful: 0,
  failed: 0,
  inconclusive: 0,
  errors: 0,
  consecutiveErrors: 0,
  inconclusiveSinceConclusive: 0,
  ...(prior > 0 ? { prior } : {}),
});

/** The limits {@link assessGuard} applies: a guard's spec carries them all. */
export type GuardLimits = Pick<
  MeasuredGuard,
  'failureLimit' | 'inconclusiveLimit' | 'consecutiveErrorLimit' | 'critical' | 'consecutiveSuccessLimit'
>;

/**
 * A guard's standing: `Running` while nothing is decided (during a window), else a verdict with the message that
 * explains it. `Error` is never returned: source errors in a row beyond the limit count as `Failed`.
 */
export interface Assessment {
  verdict: Verdict | 'Running';
  message: string;
}

/** Adds one measurement to a guard's tally (counts only: {@link assessGuard} decides). Returns a new tally. */
export function tallyMeasurement(t: GuardTally, m: MeasurementRecord): GuardTally {
  const next: GuardTally = { ...t, checks: t.checks + 1, last: m };
  const conclusiveSeen = t.successful + t.failed > 0;
  const streak = m.verdict === 'Successful' ? (t.consecutiveSuccesses ?? 0) + 1 : 0;
  next.consecutiveSuccesses = streak;
  next.bestStreak = Math.max(t.bestStreak ?? 0, streak);
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
  return next;
}

/**
 * The one place a guard's limits are applied (the shape of Argo's `assessMetricFailureInconclusiveOrError`).
 * At any `check`: a critical guard fails on its first failure; any guard fails when its failures (those counted
 * before this window, `prior`, plus this window's) exceed `failureLimit`, or when source errors in a row exceed
 * `consecutiveErrorLimit`; otherwise it is Running. At the window's `end` a guard that has not failed passes only
 * on evidence (missing data never passes): it is Inconclusive with no successful measurement, when its last
 * measurement was inconclusive or an error, with more inconclusive measurements (after its first conclusive one)
 * than `inconclusiveLimit`, or short of `consecutiveSuccessLimit` successes in a row.
 */
export function assessGuard(t: GuardTally, limits: GuardLimits, at: 'check' | 'end'): Assessment {
  const last = t.last;
  const shown = last ? `${shownValue(last)} vs ${last.threshold}${last.cohort ? ` in ${last.cohort}` : ''}` : '';
  const failures = (t.prior ?? 0) + t.failed;
  if (limits.critical && t.failed > 0)
    return { verdict: 'Failed', message: `critical guard ${t.guard} failed: ${shown}` };
  if (failures > limits.failureLimit) {
    const before = t.prior ? ` (${t.prior} before this window)` : '';
    return {
      verdict: 'Failed',
      message: `guard ${t.guard} failed ${failures}×${before} (limit ${limits.failureLimit})${shown ? `: ${shown}` : ''}`,
    };
  }
  if (t.consecutiveErrors > limits.consecutiveErrorLimit)
    return {
      verdict: 'Failed',
      message: `guard ${t.guard}: ${t.consecutiveErrors} source errors in a row (limit ${limits.consecutiveErrorLimit}): ${last?.detail ?? ''}`,
    };
  if (at === 'check') return { verdict: 'Running', message: `guard ${t.guard}: ${t.checks} check(s)` };
  const lastSaid = `${t.guard}: ${last?.detail ?? 'no measurement'}`;
  if (t.successful === 0) return { verdict: 'Inconclusive', message: lastSaid };
  if (last && (last.verdict === 'Inconclusive' || last.verdict === 'Error'))
    return { verdict: 'Inconclusive', message: lastSaid };
  if (t.inconclusiveSinceConclusive > limits.inconclusiveLimit)
    return {
      verdict: 'Inconclusive',
      message: `${t.guard}: ${t.inconclusiveSinceConclusive} inconclusive measurements (limit ${limits.inconclusiveLimit})`,
    };
  const needed = limits.consecutiveSuccessLimit;
  if (needed !== undefined && (t.bestStreak ?? 0) < needed)
    return {
      verdict: 'Inconclusive',
      message: `${t.guard}: ${needed} successes in a row needed, ${t.bestStreak ?? 0} seen`,
    };
  return { verdict: 'Successful', message: `${t.guard}: successful` };
}

/** A guard's verdict at the end of a window (see {@link assessGuard}). */
export function windowVerdict(t: GuardTally, limits: GuardLimits): Verdict {
  const { verdict } = assessGuard(t, limits, 'end');
  return verdict === 'Running' ? 'Inconclusive' : verdict;
}

const RANK: Record<Verdict, number> = { Successful: 0, Inconclusive: 1, Error: 2, Failed: 3 };

/** The worst verdict wins; no verdict at all is Inconclusive (missing data never passes). */
export function worstVerdict(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.length === 0) return 'Inconclusive';
  return verdicts.reduce((a, b) => (RANK[b] > RANK[a] ? b : a));
}

/** A measured value as a human reads it: with its unit when it has one (`33.2 %`), or `no data`. */
export function measuredValue(value: number | null | undefined, unit?: string): string {
  return value === null || value === undefined ? 'no data' : formatValue(value, unit);
}

const shownValue = (m: MeasurementRecord) => measuredValue(m.value, m.unit);
