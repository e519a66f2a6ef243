import { MAX_BREACH_RECORDS_PER_GUARD } from './bounds.js';
import type { GuardTally, MeasurementRecord, Verdict } from './tally.schema.js';
import type { CompensationEntry, GuardStatus, Phase, RolloutState } from './rollout-state.schema.js';

/*
 * How a rollout's state changes, apart from its schema: workflow code imports this module, so it stays free of
 * zod (every module a workflow imports is evaluated again for each workflow run).
 */

export const TERMINAL_PHASES: readonly Phase[] = ['Completed', 'RolledBack', 'Aborted', 'Failed'];

export function isTerminal(phase: Phase): boolean {
  return TERMINAL_PHASES.includes(phase);
}

/** A fresh state for a spec with `totalSteps` steps, at the rollback exposure. */
export function initialState(args: { runId: string; totalSteps: number; baseline: number; now: string }): RolloutState {
  return {
    rolloutRunId: args.runId,
    phase: 'Pending',
    step: 0,
    totalSteps: args.totalSteps,
    exposure: { percent: args.baseline },
    pauseReasons: [],
    approvals: [],
    compensations: [],
    timeline: [{ at: args.now, phase: 'Pending', step: 0, exposure: args.baseline, cause: 'rollout started' }],
    promoteRequested: false,
    guards: [],
    measurements: [],
    windows: [],
    breaches: {},
    startedAt: args.now,
    runs: 1,
  };
}

/** Moves to `phase` and records why. Mutates and returns `state` (workflow state is a single owned object). */
export function enterPhase(
  state: RolloutState,
  phase: Phase,
  cause: string,
  now: string,
  actor?: string,
): RolloutState {
  state.phase = phase;
  state.timeline.push({
    at: now,
    phase,
    step: state.step,
    exposure: state.exposure.percent,
    cause,
    ...(actor !== undefined ? { actor } : {}),
  });
  return state;
}

/** What a guard's status says about its spec besides the tally. */
export interface GuardStatusExtra {
  failures?: number;
  failureLimit?: number;
  unit?: string;
  dryRun?: boolean;
  during?: 'windows' | 'rollout';
}

/** A guard's status from its window tally: the last measurement's numbers, the window's verdict and counts. */
export function guardStatusOf(
  t: GuardTally,
  verdict: Verdict,
  fallbackAt: string,
  extra: GuardStatusExtra = {},
): GuardStatus {
  const last = t.last;
  return {
    name: t.guard,
    verdict,
    value: last?.value ?? null,
    threshold: last?.threshold ?? '—',
    at: last?.at ?? fallbackAt,
    ...(last?.detail ? { detail: last.detail } : {}),
    ...(last?.sampleSize !== undefined ? { sampleSize: last.sampleSize } : {}),
    ...(last?.pValue !== undefined ? { pValue: last.pValue } : {}),
    ...(last?.interval ? { interval: last.interval } : {}),
    ...(last?.cohort ? { cohort: last.cohort } : {}),
    checks: t.checks,
    failed: t.failed,
    ...(extra.failures !== undefined ? { failures: extra.failures } : {}),
    ...(extra.failureLimit !== undefined ? { failureLimit: extra.failureLimit } : {}),
    ...(extra.unit ? { unit: extra.unit } : {}),
    ...(extra.dryRun ? { dryRun: true } : {}),
    ...(extra.during === 'rollout' ? { during: 'rollout' as const } : {}),
  };
}

/**
 * How a rollback records a compensation once done (`rollback.done`), and how a drill finds it there: one
 * builder, so the record and the count cannot drift apart.
 */
export function compensationLabel(entry: CompensationEntry): string {
  return entry.kind === 'exposure' ? `exposure to ${entry.restore.percent}%` : `compensation ${entry.name}`;
}

/** The `check` of a measurement record that stands for a pushed breach (pulled checks count from 0). */
export const PUSHED_BREACH_CHECK = -1;

/**
 * Keeps a pushed breach's record among the measurements, at most {@link MAX_BREACH_RECORDS_PER_GUARD} per guard:
 * the first ones, and the latest in place of the one before it, so the breach that decides is always on record.
 * The count of breaches lives apart (`state.breaches`); nothing here changes a decision.
 */
export function recordPushedBreach(measurements: MeasurementRecord[], record: MeasurementRecord): void {
  let kept = 0;
  let latest = -1;
  measurements.forEach((m, i) => {
    if (m.guard !== record.guard || m.check !== PUSHED_BREACH_CHECK) return;
    kept += 1;
    latest = i;
  });
  if (kept >= MAX_BREACH_RECORDS_PER_GUARD) measurements.splice(latest, 1);
  measurements.push(record);
}
